/* The interposer's configuration, logging and the test for stack sockets. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

static struct tuntcp_config config;

/* Read the configuration as the program loads: a bad value stops it
 * before it runs (nothing else happens at load time). */
__attribute__((constructor)) static void preload_init(void)
{
    config_read(&config);
}

const struct tuntcp_config *preload_config(void)
{
    return &config;
}

bool preload_in_subnet(uint32_t addr)
{
    return (addr & (~0u << (32 - config.prefix))) == config.net;
}

void preload_log(enum log_level level, const char *fmt, ...)
{
    if (level > config.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tuntcp[%d]: %s\n", (int)getpid(), line);
}

ssize_t errno_result(ssize_t r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

bool stack_socket_of(int fd, struct sockname *n)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    int e = errno;
    bool ours = REAL(getpeername)(fd, (struct sockaddr *)&sa, &len) == 0 &&
                sockname_parse(&sa, len, n);
    errno = e;
    return ours;
}
