/* The control protocol between the interposer (libtuntcp.so) and the
 * device's daemon (tuntcpd): one fixed-size message a request, over an
 * AF_UNIX SOCK_SEQPACKET connection to the abstract address ctl_address()
 * names. A reply may carry one fd (SCM_RIGHTS): the program's end of a
 * stack socket. The daemon treats every request as untrusted input. */
#ifndef TUNTCP_CTL_H
#define TUNTCP_CTL_H

#include <linux/tcp.h>   /* struct tcp_info; netinet/tcp.h clashes with tcp.h */
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CTL_VERSION 1
#define CTL_MAX_OPTS 24   /* room for every option carried at a move */

enum ctl_op {
    CTL_HELLO = 1,  /* -> rep.hello: the network the daemon serves */
    CTL_BIND,       /* a new socket with opts, bound to addr:port -> its fd */
    CTL_CONNECT,    /* socket id (0: a new one with opts) to addr:port ->
                       -EINPROGRESS and its fd; with CTL_WAIT a second
                       reply follows with the outcome */
    CTL_LISTEN,     /* value: the backlog */
    CTL_SHUTDOWN,   /* value: how (a listener or an unconnected socket) */
    CTL_SETOPT,     /* opts[0] */
    CTL_GETOPT,     /* opts[0].opt -> rep.value */
    CTL_STATUS,     /* -> rep.status; CTL_TAKE_ERROR consumes the error */
    CTL_LINGER,     /* replies once the socket, closed by its last fd, has
                       its FIN acknowledged (SO_LINGER) */
    CTL_STOP,       /* reset every connection and exit (tuntcp down) */
    CTL_STATS,      /* -> one message: the reply, then text of "name
                       value" lines (the stack's counters, the daemon's
                       figures); rep.result is the text's length */
    CTL_OP_END
};

/* flags */
#define CTL_WAIT 1
#define CTL_TAKE_ERROR 2
#define CTL_NOREPLY 4   /* the client reads no reply (an option that
                           cannot fail): one less round trip */

/* Options are the stack's (enum stack_opt) and this one, which the
 * daemon keeps: the SO_LINGER timeout in seconds when on; when off,
 * -1 - the timeout (Linux keeps it, and reports it with l_onoff 0).
 * CTL_SETOPT turns it off with any negative value, keeping the timeout. */
#define CTL_OPT_LINGER 100

struct ctl_opt {
    int32_t opt, value;
};

struct ctl_req {
    uint32_t version;
    uint32_t op;
    uint32_t flags;
    uint32_t addr;          /* host order */
    uint64_t id;            /* the stack socket (sockname.id), */
    uint32_t nonce;         /* of this daemon run (sockname.nonce) */
    uint16_t port;
    uint16_t nopts;
    int32_t value;
    struct ctl_opt opts[CTL_MAX_OPTS];
};

struct ctl_hello {
    uint32_t addr, net, prefix, mtu;   /* host order */
    int32_t pid;
};

struct ctl_status {
    int32_t state;          /* enum tcp_state */
    int32_t error;          /* the pending error, positive errno */
    int32_t listening;
    uint32_t outq;          /* bytes sent but not acknowledged, and those
                               the relay has not taken yet (SIOCOUTQ) */
    int32_t maxseg;         /* TCP_MAXSEG as Linux reports it */
    struct tcp_info info;
};

struct ctl_rep {
    int32_t result;         /* >= 0, or -errno */
    int32_t value;
    uint64_t id;
    union {
        struct ctl_hello hello;
        struct ctl_status status;
    };
};

/* The largest CTL_STATS reply: struct ctl_rep and its text. */
#define CTL_STATS_MAX 16384

/* What each connection a listener accepts arrives with, beside its fd. */
struct ctl_accepted {
    uint32_t raddr;         /* host order */
    uint16_t rport;
};

#endif
