/* TIME-WAIT records in the stack. A released connection that reaches
 * TIME-WAIT gives its struct sock and buffers back and leaves a record
 * (tcp_time_wait.c) in the TIME-WAIT table, in the port buckets (it still
 * holds its port, as Linux's timewait socket does) and on a list ordered
 * by deadline, which the timers take from its old end. */
#include <stdlib.h>

#include "stack_internal.h"

/* Every deadline is 2 MSL after an event, so a new one belongs at or
 * near the newest end: the search starts there. */
static void list_insert(struct stack *s, struct time_wait *tw)
{
    struct time_wait *before = s->tw_newest;
    while (before && before->tcb.close_at > tw->tcb.close_at)
        before = before->older;
    tw->older = before;
    tw->newer = before ? before->newer : s->tw_oldest;
    if (tw->newer)
        tw->newer->older = tw;
    else
        s->tw_newest = tw;
    if (before)
        before->newer = tw;
    else
        s->tw_oldest = tw;
}

static void list_remove(struct stack *s, struct time_wait *tw)
{
    if (tw->older)
        tw->older->newer = tw->newer;
    else
        s->tw_oldest = tw->newer;
    if (tw->newer)
        tw->newer->older = tw->older;
    else
        s->tw_newest = tw->older;
}

bool time_wait_enter(struct stack *s, const struct sock *k)
{
    struct time_wait *tw = malloc(sizeof *tw);
    if (!tw)
        return false;   /* the socket stays instead */
    tcp_time_wait_save(&k->conn, &tw->tcb);
    tw->reuseaddr = k->opts.reuseaddr;
    tw->reuseport = k->opts.reuseport;
    tuple_add(s, &s->time_waits, &tw->hash_node);
    hlist_add(&s->time_wait_ports[tw->tcb.ep.lport % PORT_BUCKETS], &tw->port_node);
    list_insert(s, tw);
    s->stats.time_wait = s->time_waits.count;
    return true;
}

void time_wait_free(struct stack *s, struct time_wait *tw)
{
    tuple_del(&s->time_waits, &tw->hash_node);
    hlist_del(&tw->port_node);
    list_remove(s, tw);
    free(tw);
    s->stats.time_wait = s->time_waits.count;
}

struct time_wait *time_wait_lookup(const struct stack *s, const struct tcp_endpoints *ep)
{
    struct hnode *n = tuple_find(s, &s->time_waits, ep);
    return n ? hnode_entry(n, struct time_wait, hash_node) : NULL;
}

void time_wait_input(struct stack *s, struct time_wait *tw, const struct tcp_segment *seg,
                     uint64_t now)
{
    uint64_t deadline = tw->tcb.close_at;
    if (!tcp_time_wait_input(&tw->tcb, &s->host, seg, now)) {
        time_wait_free(s, tw);
        return;
    }
    if (tw->tcb.close_at != deadline) {   /* a retransmitted FIN restarted 2 MSL */
        list_remove(s, tw);
        list_insert(s, tw);
    }
}

void time_wait_expire(struct stack *s, uint64_t now)
{
    while (s->tw_oldest && s->tw_oldest->tcb.close_at <= now)
        time_wait_free(s, s->tw_oldest);
}
