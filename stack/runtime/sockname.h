/* The identity of a stack socket travels with its fd: the daemon's end of
 * the socket pair is bound to an abstract AF_UNIX name that says which
 * device, which daemon run and which socket it is, and its TCP addresses.
 * Any process holding the program's end reads it with getpeername(2). */
#ifndef TUNTCP_SOCKNAME_H
#define TUNTCP_SOCKNAME_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

enum sockname_kind {
    SOCKNAME_BOUND = 'b',   /* SOCK_SEQPACKET: bound, then listening */
    SOCKNAME_CONN = 'c',    /* SOCK_STREAM: a connection */
};

struct sockname {
    char dev[16];
    uint32_t nonce;         /* the daemon run */
    uint64_t id;
    char kind;              /* enum sockname_kind */
    uint32_t laddr, raddr;  /* host order; raddr 0 when not connected */
    uint16_t lport, rport;
};

/* The abstract address of the name; returns its length. */
socklen_t sockname_address(const struct sockname *n, struct sockaddr_un *sa);
/* Parses an address getpeername gave; false if it is no stack socket's. */
bool sockname_parse(const struct sockaddr_un *sa, socklen_t len, struct sockname *n);
/* The daemon's control socket for a device. */
socklen_t ctl_address(const char *dev, struct sockaddr_un *sa);

#endif
