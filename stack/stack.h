/* The stack: a connection table hashed by 4-tuple, listeners with bounded
 * SYN and accept queues, ephemeral ports, ISN generation, IPv4 and ICMP,
 * all over one link. Everything hangs off one `struct stack`; there is no
 * mutable global state. Not thread-safe: the runtime holds a lock.
 *
 * The socket-like API below is nonblocking; errors are negative errno
 * values, as Linux's socket calls would set errno. Times are microseconds
 * on the caller's clock. */
#ifndef TUNTCP_STACK_H
#define TUNTCP_STACK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "isn.h"
#include "link.h"
#include "tcp.h"
#include "wire.h"

struct stack_config {
    uint32_t addr;              /* the stack's IPv4 address, host order */
    struct tcp_config tcp;      /* tcp.mss follows the link's MTU */
    uint16_t ephemeral_lo, ephemeral_hi;  /* Linux: 32768..60999 */
    unsigned syn_backlog;       /* half-open connections per listener */
    unsigned max_backlog;       /* listen() backlog is clamped to this */
    bool syncookies;            /* answer SYNs with cookies while a SYN queue is full */
    bool random_isn_key;        /* true: key from getrandom; false: isn_key */
    struct isn_key isn_key;
};
/* Defaults: tcp_config_default, ports 32768..60999, syn_backlog 256,
 * max_backlog 4096, SYN cookies on, random ISN key. `addr` must be set by the caller. */
void stack_config_default(struct stack_config *cfg);

struct stack_stats {
    uint64_t ip_in, ip_out, tcp_in, icmp_in, icmp_out, link_errors;
    uint64_t gso_in, gso_out;    /* super-packets (gso.h); ip_in and ip_out
                                    count their segments */
    uint64_t gso_in_whole;       /* of gso_in, those taken as one segment
                                    (tcp_input_coalesced) */
    uint64_t drops[DROP_REASON_COUNT];
    struct tcp_stats tcp;        /* a copy of the host's counters */
    uint64_t sockets;            /* sockets now: the user's, and connections
                                    not yet accepted or not yet over */
    uint64_t conns_open;         /* connections in the table now */
    uint64_t time_wait;          /* TIME-WAIT records now (released
                                    connections; see tcp_time_wait.c) */
};

struct stack;
struct sock;

/* NULL on allocation failure (or getrandom failure: errno says). The
 * config's tcp.mss is derived from link->mtu. */
struct stack *stack_new(const struct stack_config *cfg, struct link *link);
/* Frees every socket and connection, with no packet sent. */
void stack_free(struct stack *s);

/* Processes one IP packet from the link. */
void stack_input(struct stack *s, const uint8_t *pkt, size_t len,
                 uint64_t now);
/* Reads packets from the link until none is ready and processes them;
 * returns how many. */
unsigned stack_receive(struct stack *s, uint64_t now);
/* On a link with offloads (link.h), sends the super-packet being built
 * from the segments emitted so far: a caller of the socket calls flushes
 * before it sleeps (stack_receive and stack_timers flush themselves). */
void stack_flush(struct stack *s);
/* Fires every timer due at `now`, frees connections that are done. */
void stack_timers(struct stack *s, uint64_t now);
/* The earliest timer deadline of any connection, 0 if none. */
uint64_t stack_next_deadline(const struct stack *s);
void stack_get_stats(const struct stack *s, struct stack_stats *out);
/* Connections still delivering: data or a FIN not yet acknowledged; with
 * `peer_fin`, also those in FIN-WAIT-2 still owed the peer's FIN. */
unsigned stack_delivering(const struct stack *s, bool peer_fin);

/* Readiness callback: called when stack_poll() of a socket or the state
 * of its connection changed (data, space, state, error, accept queue). */
/* The callback must not call into the stack. */
void stack_set_notify(struct stack *s,
                      void (*fn)(void *ctx, struct sock *k), void *ctx);
void stack_sock_set_user(struct sock *k, void *user);
void *stack_sock_user(const struct sock *k);

/* ---- the socket-like API ---- */
int stack_socket(struct stack *s, struct sock **out);
/* addr 0 = any local address; port 0 = an ephemeral port. -EINVAL if
 * already bound, -EADDRNOTAVAIL for an address that is not the stack's,
 * -EADDRINUSE if taken (SO_REUSEADDR lets a listener bind over
 * connections in TIME-WAIT, as Linux). */
int stack_bind(struct stack *s, struct sock *k, uint32_t addr, uint16_t port);
/* Binds an ephemeral port first if unbound. As Linux, the accept queue
 * holds backlog + 1 connections; a negative backlog or one above
 * max_backlog means max_backlog. Listening again only changes the
 * backlog. -EADDRINUSE if another socket listens on the port (unless both set
 * SO_REUSEPORT: then connections are spread over them by a hash). */
int stack_listen(struct stack *s, struct sock *k, int backlog);
/* A new connected socket or -EAGAIN; -EINVAL if not listening. */
int stack_accept(struct stack *s, struct sock *k, struct sock **out);
/* Starts the handshake: -EINPROGRESS; -EALREADY while connecting; -EISCONN
 * once connected; -ECONNREFUSED / -ETIMEDOUT ... are reported later via
 * stack_poll (POLLERR) and stack_sock_error. -EADDRNOTAVAIL when no
 * ephemeral port is free. */
int stack_connect(struct stack *s, struct sock *k, uint32_t addr,
                  uint16_t port, uint64_t now);
/* How a connect went: -EAGAIN while the handshake runs; 0 once it has
 * completed (even if the connection was reset since: that error stays
 * pending for the next call, after the data that came first); else the
 * error that ended it (consumed, as SO_ERROR). */
int stack_connect_result(struct stack *s, struct sock *k);
ssize_t stack_send(struct stack *s, struct sock *k, const void *buf,
                   size_t len, uint64_t now);
/* The bytes ready to read as up to two pieces, left in place; returns
 * their total. stack_recv_consume then takes n of them: together a recv
 * without a copy in between. */
uint32_t stack_recv_view(struct stack *s, struct sock *k, struct iovec iov[2]);
void stack_recv_consume(struct stack *s, struct sock *k, uint32_t n, uint64_t now);
/* The room stack_send would fill now, as up to two pieces of the send
 * buffer; returns their total: 0 while the connection cannot send
 * (opening, closed, shut down, a pending error) or its buffer is full.
 * The caller writes bytes there and stack_send_commit sends n of them:
 * together a send without a copy in between. */
uint32_t stack_send_view(struct stack *s, struct sock *k, struct iovec iov[2]);
void stack_send_commit(struct stack *s, struct sock *k, uint32_t n, uint64_t now);
#define STACK_MSG_PEEK 1
ssize_t stack_recv(struct stack *s, struct sock *k, void *buf, size_t len,
                   int flags, uint64_t now);
/* how: SHUT_RD, SHUT_WR, SHUT_RDWR. -ENOTCONN if not connected. */
int stack_shutdown(struct stack *s, struct sock *k, int how, uint64_t now);
/* Releases the socket. A connection lives on to deliver queued data and
 * close gracefully (or is reset if received data was left unread); a
 * listener resets the connections nobody accepted. */
void stack_close(struct stack *s, struct sock *k, uint64_t now);
/* Releases the socket and resets its connection (RFC 9293 3.10.5 ABORT;
 * close with SO_LINGER and a zero timeout). */
void stack_abort(struct stack *s, struct sock *k, uint64_t now);
/* poll(2) bits: POLLIN, POLLOUT, POLLRDHUP, POLLHUP, POLLERR. */
unsigned stack_poll(struct stack *s, struct sock *k);
int stack_getsockname(struct stack *s, struct sock *k, uint32_t *addr,
                      uint16_t *port);
int stack_getpeername(struct stack *s, struct sock *k, uint32_t *addr,
                      uint16_t *port);
/* SO_ERROR: the pending error (positive errno) or 0; reading clears it. */
int stack_sock_error(struct stack *s, struct sock *k);
/* The connection's state (for tests and TCP_INFO). */
enum tcp_state stack_sock_state(struct stack *s, struct sock *k);
const struct tcp_conn *stack_sock_conn(struct stack *s, struct sock *k);

enum stack_opt {
    STACK_OPT_REUSEADDR, STACK_OPT_NODELAY, STACK_OPT_KEEPALIVE,
    STACK_OPT_KEEPIDLE, STACK_OPT_KEEPINTVL, STACK_OPT_KEEPCNT, /* seconds, count */
    STACK_OPT_SNDBUF, STACK_OPT_RCVBUF,   /* bytes */
    STACK_OPT_MAXSEG,       /* MSS limit for connections not yet open; 0 = none */
    STACK_OPT_CORK,         /* TCP_CORK */
    STACK_OPT_RCVLOWAT,     /* SO_RCVLOWAT: POLLIN from this many bytes */
    STACK_OPT_TOS,          /* IP_TOS: the IP header's type of service */
    STACK_OPT_TTL,          /* IP_TTL: 1..255, -1 the default (64) */
    STACK_OPT_BOUND_DEVICE, /* SO_BINDTODEVICE to the stack's device: 0/1 */
    STACK_OPT_USER_TIMEOUT, /* TCP_USER_TIMEOUT (RFC 5482), ms; 0: the retry counts */
    STACK_OPT_QUICKACK,     /* TCP_QUICKACK: ACK the next segments at once */
    STACK_OPT_REUSEPORT,    /* SO_REUSEPORT: listeners share a port (set before bind) */
    STACK_OPT_PRIORITY,     /* SO_PRIORITY: kept and reported (there is no
                               qdisc); a new IP_TOS sets it and accepted
                               connections start at 0, as Linux. Values
                               outside 0..6 need CAP_NET_ADMIN: the caller's
                               to check, the stack knows no caller */
    STACK_OPT_DEFER_ACCEPT, /* TCP_DEFER_ACCEPT, seconds: a listener queues a
                               connection once its first data or FIN arrives,
                               or the period (kept as SYN-ACK timeouts, as
                               Linux) is over */
    STACK_OPT_CONGESTION,   /* TCP_CONGESTION: an enum tcp_cc_algorithm;
                               -ENOENT for another value, as Linux for a
                               name it lacks. Accepted connections take
                               their listener's */
};
/* -EINVAL for a bad value. Buffer sizes apply to a connection not yet
 * established and to connections later accepted from a listener. */
int stack_setopt(struct stack *s, struct sock *k, enum stack_opt opt,
                 int value, uint64_t now);
int stack_getopt(struct stack *s, struct sock *k, enum stack_opt opt,
                 int *value);

#endif
