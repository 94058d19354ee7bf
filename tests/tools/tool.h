/* What the C test tools share: giving up on their own setup, and an
 * IPv4 address from the command line. */
#ifndef TUNTCP_TOOL_H
#define TUNTCP_TOOL_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The tool could not set up what it checks: the test fails, saying so. */
static inline void die(const char *what)
{
    printf("setup failed: %s: %s\n", what, strerror(errno));
    exit(1);
}

static inline struct sockaddr_in address(const char *host, int port)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        errno = EINVAL;
        die(host);
    }
    return sa;
}

#endif
