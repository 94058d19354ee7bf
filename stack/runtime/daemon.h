/* tuntcpd: the one stack of a device, shared by every process that uses
 * it. One thread, one epoll set: the TUN fd, the control socket and its
 * clients, and the daemon's end of every stack socket a program holds.
 *
 * A stack socket is a pair of AF_UNIX sockets: the program holds one end
 * (at the fd number its AF_INET socket had), the daemon the other (an
 * rsock), named with the socket's identity (sockname.h). The daemon relays
 * bytes between its end and the TCP connection; when the program's end is
 * closed in every process (close, exit, crash), the kernel says so
 * (EPOLLHUP) and the connection ends as Linux would end it. */
#ifndef TUNTCP_DAEMON_H
#define TUNTCP_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ctl.h"
#include "impair.h"
#include "pktlog.h"
#include "sockname.h"
#include "stack.h"
#include "tun.h"

/* What an epoll event's data points at. */
enum watch_kind { WATCH_TUN, WATCH_CTL, WATCH_CLIENT, WATCH_RSOCK };
struct watch {
    enum watch_kind kind;
};

struct client;

struct rsock {
    struct watch w;
    uint64_t id;
    char kind;              /* SOCKNAME_BOUND or SOCKNAME_CONN */
    struct sock *k;
    int fd;                 /* our end, nonblocking */
    bool connecting;        /* the handshake is under way: the program's
                               end is kept unwritable by */
    uint32_t filler;        /* bytes in our receive queue, thrown away once
                               connected */
    bool connect_told;      /* a connect call was told it completed (the
                               next one is EISCONN, as Linux) */
    bool readable;          /* our end has bytes (edge seen, not drained) */
    bool writable;          /* our end has room */
    bool hup;               /* the program's end is closed everywhere */
    bool rdhup;             /* ... or shut down writing (reported, not yet read) */
    bool eof;               /* the program shut down writing: FIN queued */
    bool shut;              /* we shut down writing to the program (FIN) */
    bool dirty;             /* on the daemon's dirty list */
    bool gone;              /* released: freed when the dirty list reaches it */
    int linger;             /* SO_LINGER seconds, negative off (CTL_OPT_LINGER) */
    struct client *waiter;  /* a blocking connect or close waits for it */
    struct rsock *pending;  /* listener: accepted, not yet handed over, */
    int pending_fd;         /* with the program's end of its pair */
    struct rsock *id_next, *dirty_next;
};

struct client {
    struct watch w;
    int fd;
    bool trusted;           /* may make sockets: root, our user, --user */
    struct rsock *waits_on;
    struct client *next;
};

#define TOMBSTONES 4096
#define ID_BUCKETS 4096

struct daemon {
    struct tuntcp_config cfg;
    bool persist;           /* tuntcp up: stays when idle */
    bool worked;            /* the last wait brought events (busy_wait) */
    uid_t user;             /* may connect, besides root and our own uid */
    struct stack *stack;
    struct tun_link tun;
    struct impair_link impair;
    bool impaired;
    struct pktlog log;
    int epfd, ctl_fd;
    struct watch tun_watch, ctl_watch;
    uint32_t nonce;
    uint64_t next_id;
    struct rsock *ids[ID_BUCKETS];
    unsigned nrsocks;
    struct rsock *dirty;
    struct client *clients;
    unsigned nclients;
    /* Errors of connections that ended while a program held them, for
     * the read, SO_ERROR or connect that asks next (the daemon's end is
     * closed by then, so the program sees end of stream first). */
    struct { uint64_t id; int err; } tombs[TOMBSTONES];
    unsigned tomb_next;
    uint64_t idle_since;    /* nothing held and nothing owed, since; 0 = busy */
    bool stop;
    uint8_t scratch[65536];
};

/* daemon.c */
uint64_t daemon_now(void);
void daemon_log(const struct daemon *d, enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Opens the device and the control socket: 0, 1 if another daemon serves
 * the device already, or -errno with a one-line reason in err. */
int daemon_open(struct daemon *d, char *err, size_t errlen);
/* Serves until stopped or idle; returns the exit status. */
int daemon_run(struct daemon *d);
int daemon_watch(struct daemon *d, int fd, uint32_t events, struct watch *w);
void daemon_unwatch(struct daemon *d, int fd);

/* relay.c */
/* A socket pair for k: the program's end in *theirs. NULL (errno) on failure. */
struct rsock *rsock_new(struct daemon *d, struct sock *k, char kind, int *theirs);
struct rsock *rsock_find(struct daemon *d, uint64_t id);
/* Gives a bound socket a connection's pair (connect after bind). */
int rsock_reconnect(struct daemon *d, struct rsock *r, int *theirs);
void rsock_mark(struct daemon *d, struct rsock *r);
void rsock_event(struct daemon *d, struct rsock *r, uint32_t events);
/* Works the dirty list until it is empty. */
void relay_service(struct daemon *d);
/* The pending error of a socket that is gone (consumed), 0 if none. */
int tomb_take(struct daemon *d, uint64_t id);
bool tomb_has(const struct daemon *d, uint64_t id);
/* Every socket reset and closed (tuntcp down). */
void relay_abort_all(struct daemon *d);

/* ctl_server.c */
void ctl_accept(struct daemon *d);
void client_event(struct daemon *d, struct client *c, uint32_t events);
/* Sends a waiting client the outcome (a connect's result, a linger's end). */
void client_answer(struct daemon *d, struct client *c, int result);

#endif
