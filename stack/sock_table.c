/* Finding sockets: connections and TIME-WAIT records in hash tables by
 * 4-tuple (SipHash under the stack's secret key, so remote hosts cannot
 * aim collisions), listeners by port, and everything holding a port by
 * port, for bind conflicts and ephemeral port choice. */
#include <errno.h>
#include <stdlib.h>

#include "stack_internal.h"

#define HASH_INITIAL 256

static bool same_endpoints(const struct tcp_endpoints *a, const struct tcp_endpoints *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr &&
           a->lport == b->lport && a->rport == b->rport;
}

static const struct tcp_endpoints *entry_key(const struct tuple_table *t, const struct hnode *n)
{
    return (const struct tcp_endpoints *)(const void *)((const char *)n + t->key_off);
}

static struct hnode **bucket(const struct stack *s, const struct tuple_table *t,
                             const struct tcp_endpoints *ep)
{
    return &t->bucket[endpoints_hash(&s->cfg.isn_key, ep) & t->mask];
}

int tuple_table_init(struct tuple_table *t, ptrdiff_t key_off)
{
    t->bucket = calloc(HASH_INITIAL, sizeof *t->bucket);
    if (!t->bucket)
        return -ENOMEM;
    t->mask = HASH_INITIAL - 1;
    t->key_off = key_off;
    return 0;
}

void tuple_table_free(struct tuple_table *t)
{
    free(t->bucket);
}

struct hnode *tuple_find(const struct stack *s, const struct tuple_table *t,
                         const struct tcp_endpoints *ep)
{
    for (struct hnode *n = *bucket(s, t, ep); n; n = n->next)
        if (same_endpoints(entry_key(t, n), ep))
            return n;
    return NULL;
}

/* Doubles the buckets once there are more entries than buckets. */
static void grow(const struct stack *s, struct tuple_table *t)
{
    size_t old_n = t->mask + 1;
    struct hnode **old = t->bucket;
    struct hnode **fresh = calloc(old_n * 2, sizeof *fresh);
    if (!fresh)
        return; /* longer chains, still correct */
    t->bucket = fresh;
    t->mask = old_n * 2 - 1;
    for (size_t i = 0; i < old_n; i++) {
        struct hnode *node = old[i];
        while (node) {
            struct hnode *next = node->next;
            hlist_add(bucket(s, t, entry_key(t, node)), node);
            node = next;
        }
    }
    free(old);
}

void tuple_add(const struct stack *s, struct tuple_table *t, struct hnode *n)
{
    if (t->count >= t->mask + 1)
        grow(s, t);
    hlist_add(bucket(s, t, entry_key(t, n)), n);
    t->count++;
}

void tuple_del(struct tuple_table *t, struct hnode *n)
{
    if (!hnode_linked(n))
        return;
    hlist_del(n);
    t->count--;
}

#define hash_sock(n) hnode_entry(n, struct sock, hash_node)
#define port_sock(n) hnode_entry(n, struct sock, port_node)
#define port_time_wait(n) hnode_entry(n, struct time_wait, port_node)

struct sock *table_lookup(const struct stack *s, const struct tcp_endpoints *ep)
{
    struct hnode *n = tuple_find(s, &s->conns, ep);
    return n ? hash_sock(n) : NULL;
}

void table_insert(struct stack *s, struct sock *k)
{
    tuple_add(s, &s->conns, &k->hash_node);
    s->stats.conns_open = s->conns.count;
}

void table_remove(struct stack *s, struct sock *k)
{
    tuple_del(&s->conns, &k->hash_node);
    s->stats.conns_open = s->conns.count;
}

#define bucket_listener(n) hnode_entry(n, struct listener, node)

struct listener *table_listener(const struct stack *s, const struct tcp_endpoints *ep)
{
    struct hnode *head = s->listeners[ep->lport % PORT_BUCKETS];
    unsigned count = 0;
    for (struct hnode *n = head; n; n = n->next)
        count += bucket_listener(n)->sock->ep.lport == ep->lport;
    if (!count)
        return NULL;
    /* Linux (reuseport_select_sock): listeners sharing the port with
     * SO_REUSEPORT take connections by a hash of the 4-tuple, so every
     * segment of one (a SYN cookie's ACK too) finds the same listener. */
    unsigned pick = count > 1 ? (unsigned)(endpoints_hash(&s->cfg.isn_key, ep) % count) : 0;
    for (struct hnode *n = head; n; n = n->next)
        if (bucket_listener(n)->sock->ep.lport == ep->lport && pick-- == 0)
            return bucket_listener(n);
    return NULL;
}

void listener_insert(struct stack *s, struct listener *l)
{
    hlist_add(&s->listeners[l->sock->ep.lport % PORT_BUCKETS], &l->node);
}

void port_add(struct stack *s, struct sock *k)
{
    hlist_add(&s->ports[k->ep.lport % PORT_BUCKETS], &k->port_node);
}

/* A connection that is over no longer holds its port. */
static bool holds_port(const struct sock *k)
{
    return !(k->kind == SOCK_CONN && tcp_is_closed(&k->conn));
}

int port_check_bind(const struct stack *s, const struct sock *k, uint16_t port)
{
    /* Linux (inet_csk_bind_conflict): two sockets may share a port only
     * if both set SO_REUSEADDR and the other one is not listening, or
     * both set SO_REUSEPORT (then both may listen); a connection in
     * TIME-WAIT keeps the flags of the socket it came from. (Linux also
     * wants one owner for SO_REUSEPORT: every socket of a stack has the
     * daemon's.) */
    for (struct hnode *n = s->ports[port % PORT_BUCKETS]; n; n = n->next) {
        const struct sock *o = port_sock(n);
        if (o == k || o->ep.lport != port || !holds_port(o))
            continue;
        if (!(k->opts.reuseaddr && o->opts.reuseaddr && o->kind != SOCK_LISTENER) &&
            !(k->opts.reuseport && o->opts.reuseport))
            return -EADDRINUSE;
    }
    for (struct hnode *n = s->time_wait_ports[port % PORT_BUCKETS]; n; n = n->next) {
        const struct time_wait *tw = port_time_wait(n);
        if (tw->tcb.ep.lport == port && !(k->opts.reuseaddr && tw->reuseaddr) &&
            !(k->opts.reuseport && tw->reuseport))
            return -EADDRINUSE;
    }
    return 0;
}

static bool port_usable(const struct stack *s, uint16_t port,
                        const struct tcp_endpoints *dest)
{
    /* Linux (__inet_hash_connect): a connection may share its local
     * port with connections to other destinations, never with a bound
     * or listening socket. */
    for (struct hnode *n = s->ports[port % PORT_BUCKETS]; n; n = n->next) {
        const struct sock *o = port_sock(n);
        if (o->ep.lport != port || !holds_port(o))
            continue;
        if (!dest || o->kind != SOCK_CONN ||
            (o->ep.raddr == dest->raddr && o->ep.rport == dest->rport))
            return false;
    }
    for (struct hnode *n = s->time_wait_ports[port % PORT_BUCKETS]; n; n = n->next) {
        const struct tcp_endpoints *o = &port_time_wait(n)->tcb.ep;
        if (o->lport == port && (!dest || (o->raddr == dest->raddr && o->rport == dest->rport)))
            return false;
    }
    return true;
}

uint16_t port_pick_ephemeral(struct stack *s, const struct tcp_endpoints *dest)
{
    uint32_t lo = s->cfg.ephemeral_lo, n = s->cfg.ephemeral_hi - lo + 1u;
    /* RFC 6056 3.3.3: the search starts at a keyed hash of the
     * destination plus a counter, so ports are hard to guess and
     * consecutive connections do not collide. */
    struct tcp_endpoints key = dest ? *dest : (struct tcp_endpoints){ 0 };
    key.lport = 0;
    uint32_t offset = (uint32_t)endpoints_hash(&s->cfg.isn_key, &key) + s->next_ephemeral++;
    for (uint32_t i = 0; i < n; i++) {
        uint16_t port = (uint16_t)(lo + (offset + i) % n);
        if (port_usable(s, port, dest))
            return port;
    }
    return 0;
}
