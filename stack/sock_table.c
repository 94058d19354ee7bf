/* Finding sockets: connections in a hash table by 4-tuple (SipHash under
 * the stack's secret key, so remote hosts cannot aim collisions),
 * listeners by port, and every socket holding a port by port, for bind
 * conflicts and ephemeral port choice. */
#include <errno.h>
#include <stdlib.h>

#include "stack_internal.h"

#define HASH_INITIAL 256

static bool same_endpoints(const struct tcp_endpoints *a, const struct tcp_endpoints *b)
{
    return a->laddr == b->laddr && a->raddr == b->raddr &&
           a->lport == b->lport && a->rport == b->rport;
}

static struct hnode **bucket(const struct stack *s, const struct tcp_endpoints *ep)
{
    return &s->hash[endpoints_hash(&s->cfg.isn_key, ep) & s->hash_mask];
}

#define hash_sock(n) hnode_entry(n, struct sock, hash_node)
#define port_sock(n) hnode_entry(n, struct sock, port_node)

int table_init(struct stack *s)
{
    s->hash = calloc(HASH_INITIAL, sizeof *s->hash);
    if (!s->hash)
        return -ENOMEM;
    s->hash_mask = HASH_INITIAL - 1;
    return 0;
}

void table_free(struct stack *s)
{
    free(s->hash);
}

struct sock *table_lookup(const struct stack *s, const struct tcp_endpoints *ep)
{
    for (struct hnode *n = *bucket(s, ep); n; n = n->next)
        if (same_endpoints(&hash_sock(n)->ep, ep))
            return hash_sock(n);
    return NULL;
}

struct listener *table_listener(const struct stack *s, uint16_t port)
{
    for (struct hnode *n = s->listeners[port % PORT_BUCKETS]; n; n = n->next) {
        struct listener *l = hnode_entry(n, struct listener, node);
        if (l->sock->ep.lport == port)
            return l;
    }
    return NULL;
}

void listener_insert(struct stack *s, struct listener *l)
{
    hlist_add(&s->listeners[l->sock->ep.lport % PORT_BUCKETS], &l->node);
}

/* Doubles the buckets once there are more entries than buckets. */
static void grow(struct stack *s)
{
    size_t n = (s->hash_mask + 1) * 2;
    struct hnode **old = s->hash;
    size_t old_n = s->hash_mask + 1;
    struct hnode **fresh = calloc(n, sizeof *fresh);
    if (!fresh)
        return; /* longer chains, still correct */
    s->hash = fresh;
    s->hash_mask = n - 1;
    for (size_t i = 0; i < old_n; i++) {
        struct hnode *node = old[i];
        while (node) {
            struct hnode *next = node->next;
            hlist_add(bucket(s, &hash_sock(node)->ep), node);
            node = next;
        }
    }
    free(old);
}

void table_insert(struct stack *s, struct sock *k)
{
    if (s->hash_count >= s->hash_mask + 1)
        grow(s);
    hlist_add(bucket(s, &k->ep), &k->hash_node);
    s->hash_count++;
    s->stats.conns_open++;
}

void table_remove(struct stack *s, struct sock *k)
{
    if (!hnode_linked(&k->hash_node))
        return;
    hlist_del(&k->hash_node);
    s->hash_count--;
    s->stats.conns_open--;
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
     * if both set SO_REUSEADDR and the other one is not listening; a
     * connection in TIME-WAIT keeps the flag of the socket it came from. */
    for (struct hnode *n = s->ports[port % PORT_BUCKETS]; n; n = n->next) {
        const struct sock *o = port_sock(n);
        if (o == k || o->ep.lport != port || !holds_port(o))
            continue;
        if (!(k->opts.reuseaddr && o->opts.reuseaddr && o->kind != SOCK_LISTENER))
            return -EADDRINUSE;
    }
    return 0;
}

static bool port_usable(const struct stack *s, uint16_t port,
                        const struct tcp_endpoints *dest)
{
    for (struct hnode *n = s->ports[port % PORT_BUCKETS]; n; n = n->next) {
        const struct sock *o = port_sock(n);
        if (o->ep.lport != port || !holds_port(o))
            continue;
        /* Linux (__inet_hash_connect): a connection may share its local
         * port with connections to other destinations, never with a
         * bound or listening socket. */
        if (!dest || o->kind != SOCK_CONN ||
            (o->ep.raddr == dest->raddr && o->ep.rport == dest->rport))
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
