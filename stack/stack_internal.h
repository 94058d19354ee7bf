/* The stack's own structures, shared by stack.c (packets, timers,
 * lifecycle), stack_api.c (the socket calls), sock_table.c (lookup by
 * 4-tuple and by port) and timer_heap.c. Not part of the API. */
#ifndef TUNTCP_STACK_INTERNAL_H
#define TUNTCP_STACK_INTERNAL_H

#include "gso.h"
#include "hlist.h"
#include "stack.h"

enum sock_kind {
    SOCK_FRESH,      /* created, maybe bound: neither listening nor connected */
    SOCK_LISTENER,   /* has a struct listener */
    SOCK_CONN,       /* has a tcp_conn (connecting, connected or over) */
};

/* A doubly linked queue of a listener's children. */
struct sock_queue {
    struct sock *head, *tail;
    unsigned count;
};

/* Socket options; a listener's children inherit them. */
struct sock_opts {
    uint32_t sndbuf, rcvbuf;     /* for connections made after setting */
    bool rcvbuf_locked;          /* SO_RCVBUF set: no autotuning (Linux's
                                    SOCK_RCVBUF_LOCK) */
    bool reuseaddr, reuseport, nodelay, keepalive;
    uint64_t ka_idle_us, ka_intvl_us;
    unsigned ka_cnt;
    uint16_t maxseg;             /* TCP_MAXSEG, 0 = none */
    bool cork;                   /* TCP_CORK */
    uint32_t rcvlowat;           /* SO_RCVLOWAT, at least 1 */
    uint8_t tos, ttl;            /* IP_TOS, IP_TTL (0: the default) */
    bool bound_device;           /* SO_BINDTODEVICE (to the only device) */
    uint32_t user_timeout_ms;    /* TCP_USER_TIMEOUT, 0 = none */
    const struct tcp_cc_ops *cc; /* TCP_CONGESTION */
};

/* A listening socket's own state. A listener has no TCB: it lives in a
 * table of its own, by port, so no lookup for a connection can find it,
 * and a segment reaches it only through listen_input (RFC 9293 3.10.7.2).
 * A child (a connection it made) points to it until accepted. */
struct listener {
    struct sock *sock;       /* the user's socket: options, readiness */
    struct hnode node;       /* s->listeners, by port */
    struct sock_queue syn_q, accept_q;  /* handshaking; established, not accepted */
    unsigned backlog;
    uint64_t cookie_sent_at; /* the last SYN cookie it answered with */
};

struct sock {
    enum sock_kind kind;
    bool released;           /* the user closed it: freed once it is over */
    bool shut_rd;            /* shutdown(SHUT_RD) */
    bool was_connected;      /* reached ESTABLISHED once (reconnect rules) */
    /* laddr as bound (0 = any until connected); the rest once connected. */
    struct tcp_endpoints ep;
    struct tcp_conn conn;    /* SOCK_CONN only */
    struct listener *listener;  /* SOCK_LISTENER only */

    struct sock_opts opts;
    int32_t priority;        /* SO_PRIORITY (Linux: a listener's children
                                start at 0, sk_clone_lock) */
    uint8_t defer_accept;    /* TCP_DEFER_ACCEPT in SYN-ACK timeouts (Linux:
                                not inherited by the children) */

    /* Child of a listener until accepted: its queue and links; held in
     * the SYN queue until its first data or FIN or this time
     * (TCP_DEFER_ACCEPT, 0: not held). */
    uint64_t defer_until;
    struct listener *parent;
    struct sock_queue *queue;
    struct sock *q_prev, *q_next;

    /* Links: every socket, the 4-tuple hash chain, the port bucket. */
    struct hnode all_node, hash_node, port_node;

    /* Timer heap position (SIZE_MAX = not in it) and deadline. */
    size_t heap_idx;
    uint64_t deadline;

    unsigned poll_seen;      /* last readiness reported to notify */
    enum tcp_state state_seen;  /* and the last state */
    void *user;
};

/* A connection in TIME-WAIT once its socket is released (time_wait.c). */
struct time_wait {
    struct tcp_time_wait tcb;
    bool reuseaddr, reuseport;  /* the socket's, for bind rules */
    struct hnode hash_node, port_node;
    struct time_wait *older, *newer;   /* by deadline */
};

/* A hash table by 4-tuple; its entries embed a struct hnode with their
 * endpoints key_off bytes from it. */
struct tuple_table {
    struct hnode **bucket;
    size_t mask, count;
    ptrdiff_t key_off;
};

static inline struct sock *conn_sock(struct tcp_conn *c)
{
    return (struct sock *)(void *)((char *)c - offsetof(struct sock, conn));
}

#define PORT_BUCKETS 1024

struct stack {
    struct tcp_host host;    /* first: emit casts the host back */
    struct stack_config cfg;
    struct link *link;
    struct stack_stats stats;
    uint16_t ip_id;
    uint16_t next_ephemeral;

    /* Connections and TIME-WAIT records by 4-tuple; listeners by port;
     * sockets and TIME-WAIT records holding a port, by port. */
    struct tuple_table conns, time_waits;
    struct hnode *listeners[PORT_BUCKETS];
    struct hnode *ports[PORT_BUCKETS], *time_wait_ports[PORT_BUCKETS];
    struct time_wait *tw_oldest, *tw_newest;

    /* Min-heap of sockets with an armed deadline; room for every socket
     * is reserved when the socket is made, so arming never fails. */
    struct sock **heap;
    size_t heap_len, heap_cap;
    size_t socks;
    struct hnode *all;       /* every socket, for stack_free */

    void (*notify)(void *ctx, struct sock *k);
    void *notify_ctx;

    uint8_t *tx;             /* one outgoing packet */
    size_t tx_cap;
    uint8_t *rx;             /* one incoming packet */
    size_t rx_cap;
    /* On a link with offloads: the super-packet being built (gso.h),
     * sent by stack_flush. */
    struct gso_builder gso;

    /* Connections owing an ACK at the end of the packets being received
     * (tcp_host.defer_ack); room for every socket is reserved as for the
     * heap. */
    struct sock **acks;
    size_t nacks, acks_cap;

    /* Packets to our own address (a connection to ourselves), kept for
     * input at the next stack_timers rather than sent on the link, whose
     * other side would not send them back. */
    struct loop_packet *loop_head, **loop_tail;
    size_t loop_bytes;
};

/* sock_table.c */
int tuple_table_init(struct tuple_table *t, ptrdiff_t key_off);
void tuple_table_free(struct tuple_table *t);
struct hnode *tuple_find(const struct stack *s, const struct tuple_table *t,
                         const struct tcp_endpoints *ep);
void tuple_add(const struct stack *s, struct tuple_table *t, struct hnode *n);
void tuple_del(struct tuple_table *t, struct hnode *n);   /* if it is in */
/* The connection on 4-tuple ep, if any. */
struct sock *table_lookup(const struct stack *s, const struct tcp_endpoints *ep);
/* The listener for a segment on ep (the one of several sharing the port
 * with SO_REUSEPORT its hash picks), if any. */
struct listener *table_listener(const struct stack *s, const struct tcp_endpoints *ep);
/* Enters or removes a connection (k->ep) in the 4-tuple table. */
void table_insert(struct stack *s, struct sock *k);
void table_remove(struct stack *s, struct sock *k);   /* if it is in */
void listener_insert(struct stack *s, struct listener *l);
/* Enters k (k->ep.lport set) in the port buckets; hlist_del takes it out. */
void port_add(struct stack *s, struct sock *k);
/* Linux's bind conflict rule for k taking `port`: -EADDRINUSE or 0. */
int port_check_bind(const struct stack *s, const struct sock *k, uint16_t port);
/* An ephemeral port (RFC 6056 3.3.3), or 0 if none is free. With `dest`
 * (connect) a port may be shared by connections to other destinations;
 * without (bind to port 0) the port must be unused. */
uint16_t port_pick_ephemeral(struct stack *s, const struct tcp_endpoints *dest);

/* time_wait.c */
/* Replaces released connection k, in TIME-WAIT, by a record (the caller
 * frees k): false if there was no memory for one. */
bool time_wait_enter(struct stack *s, const struct sock *k);
void time_wait_free(struct stack *s, struct time_wait *tw);
struct time_wait *time_wait_lookup(const struct stack *s, const struct tcp_endpoints *ep);
void time_wait_input(struct stack *s, struct time_wait *tw, const struct tcp_segment *seg,
                     uint64_t now);
/* Frees the records whose 2 MSL are over. */
void time_wait_expire(struct stack *s, uint64_t now);

/* timer_heap.c */
/* Room for n sockets: 0 or -ENOMEM. */
int heap_reserve(struct stack *s, size_t n);
/* Sets k's deadline (0 = none) and its place in the heap. */
void heap_set(struct stack *s, struct sock *k, uint64_t deadline);

/* stack_api.c */
/* How long a listener's TCP_DEFER_ACCEPT holds a child back. */
uint64_t defer_accept_period_us(const struct sock *l);

/* stack.c */
struct sock *sock_new(struct stack *s);
/* The bookkeeping after anything touched k: queues, table, timers,
 * readiness, and freeing a socket that is over and released. */
void sock_settle(struct stack *s, struct sock *k);
/* Makes k a listener: 0 or -ENOMEM. */
int listener_start(struct stack *s, struct sock *k, unsigned backlog);
/* Ends a listener: its children are reset and freed, k is fresh again. */
void listener_stop(struct stack *s, struct sock *k, uint64_t now);
/* The oldest connection of a listener's accept queue, handed to the
 * user (NULL if none). */
struct sock *listener_take(struct stack *s, struct listener *l);
/* Makes k a connection on `ep` with the options of `from` (k itself, or
 * the listener); its buffers take memory only as data comes (tcp_mem.c). */
void stack_conn_init(struct stack *s, struct sock *k, const struct sock *from,
                     const struct tcp_endpoints *ep);
void sock_free(struct stack *s, struct sock *k);

#endif
