/* Buffer memory, as Linux's tcp_mem bounds it. A ring allocates nothing
 * until data comes, then TCP_RING_FIRST bytes, and doubles as data needs,
 * up to its size (the socket's buffer size, which the window and
 * readiness follow). Every byte allocated is counted here, against one
 * limit for all the connections of a host (tcp_config.mem_limit):
 *
 * - below 3/4 of it rings grow freely, and keep their memory when they
 *   empty (no malloc per burst);
 * - from 3/4 until back under 1/2 ("pressure", Linux's tcp_mem[1] and
 *   tcp_mem[0]): out-of-order data no longer grows a ring (what does not
 *   fit is dropped), the advertised window offers only the memory a ring
 *   has, and rings that empty are freed (those already empty when the
 *   pressure began at once);
 * - at the limit: out-of-order data is pruned (once per pressure, Linux's
 *   tcp_prune_ofo_queue), then rings grow no further than TCP_RING_MIN
 *   (Linux's tcp_rmem[0] / tcp_wmem[0]: so no connection starves): the
 *   in-order data that does not fit is dropped unacknowledged, and a
 *   send finds the buffer full until memory frees (tcp_mem_wake_writers).
 *
 * So the memory held stays under the limit plus TCP_RING_MIN per ring. */
#include "tcp_internal.h"

#define TCP_RING_FIRST (16u << 10)
#define TCP_RING_MIN (4u << 10)

/* What a ring may always have, whatever the pressure. */
static uint32_t ring_floor(const struct ring *r)
{
    return min_u32(r->cap, TCP_RING_MIN);
}

/* An allocation that holds `need` bytes: `from` (0: the first size)
 * doubled as often as needed, at most cap. */
static uint32_t doubled_size(uint32_t cap, uint32_t from, uint32_t need)
{
    uint32_t size = from ? from : min_u32(cap, TCP_RING_FIRST);
    while (size < need && size < cap)
        size = size > cap / 2 ? cap : 2 * size;
    return size;
}

/* The one place where buffer memory is counted. */
static void account(struct tcp_host *h, int64_t delta)
{
    struct tcp_stats *st = &h->stats;
    struct tcp_mem *m = &h->mem;
    uint64_t limit = h->cfg->mem_limit;
    st->buffer_bytes += (uint64_t)delta;
    if (st->buffer_bytes > st->buffer_peak_bytes)
        st->buffer_peak_bytes = st->buffer_bytes;
    if (!m->pressure && st->buffer_bytes >= limit / 4 * 3) {
        m->pressure = true;
        m->pruned = false;
        st->mem_pressure_events++;
    } else if (m->pressure && st->buffer_bytes < limit / 2) {
        m->pressure = false;
        m->wake_due |= m->writers_refused;
        m->writers_refused = false;
    }
}

/* The bytes of r to keep when it moves: those held and, in the receive
 * ring, the out-of-order data beyond them. */
static uint32_t ring_kept(const struct tcp_conn *c, const struct ring *r)
{
    const struct reass *q = &c->reass;
    if (r != &c->rcvbuf || reass_empty(q))
        return r->len;
    return r->len + (q->range[q->count - 1].end - c->rcv_nxt);
}

/* Gives r an allocation of `alloc` bytes (0: none). False if out of
 * memory (nothing changed). */
static bool ring_set_alloc(struct tcp_conn *c, struct ring *r, uint32_t alloc)
{
    struct tcp_host *h = c->host;
    uint32_t old = r->alloc;
    if (alloc == old)
        return true;
    if (r == &c->sndbuf)
        tcp_sndbuf_release(c, c->snd_max);
    if (!alloc)
        ring_free(r);
    else if (ring_realloc(r, alloc, ring_kept(c, r)) < 0)
        return false;
    account(h, (int64_t)alloc - old);
    if (!c->sndbuf.alloc && !c->rcvbuf.alloc)
        hlist_del(&c->mem_node);
    else if (!hnode_linked(&c->mem_node))
        hlist_add(&h->mem.conns, &c->mem_node);
    return true;
}

void tcp_mem_release(struct tcp_conn *c, struct ring *r)
{
    ring_set_alloc(c, r, 0);
}

void tcp_mem_release_idle(struct tcp_conn *c)
{
    bool pressure = c->host->mem.pressure, closed = c->state == TCP_CLOSED;
    /* no more data once our FIN is queued, nor after the peer's */
    if (c->sndbuf.alloc && !c->sndbuf.len && (pressure || closed || c->fin_queued))
        tcp_mem_release(c, &c->sndbuf);
    if (c->rcvbuf.alloc && !c->rcvbuf.len && reass_empty(&c->reass) &&
        (pressure || closed || c->fin_received))
        tcp_mem_release(c, &c->rcvbuf);
    /* the scoreboard's records as the send buffer: kept for the next
     * flight, so a request/response connection does not allocate per
     * request */
    if (c->sb.rec && !c->sb.count && (pressure || closed || c->fin_queued))
        tcp_mem_sb_free(c);
}

/* The pressure began: the empty rings of the other connections go. */
static void release_idle_rings(struct tcp_host *h, const struct tcp_conn *except)
{
    for (struct hnode *n = h->mem.conns, *next; n; n = next) {
        next = n->next;
        struct tcp_conn *c = hnode_entry(n, struct tcp_conn, mem_node);
        if (c != except)
            tcp_mem_release_idle(c);
    }
}

/* Linux (tcp_prune_ofo_queue): at the limit, out-of-order data goes
 * first; the receive rings that held it shrink to their in-order bytes.
 * Not the needy connection's own: in-order data does not need its room. */
static void prune_out_of_order(struct tcp_host *h, const struct tcp_conn *except)
{
    for (struct hnode *n = h->mem.conns, *next; n; n = next) {
        next = n->next;
        struct tcp_conn *c = hnode_entry(n, struct tcp_conn, mem_node);
        struct ring *r = &c->rcvbuf;
        if (c == except || reass_empty(&c->reass))
            continue;
        c->reass.count = 0;
        h->stats.ooo_pruned++;
        if (!r->len) {
            tcp_mem_release(c, r);
            continue;
        }
        uint32_t size = doubled_size(r->cap, 0, r->len);
        if (size < r->alloc)
            ring_set_alloc(c, r, size);
    }
}

/* Growing by delta bytes stays within the limit (pruning out-of-order
 * data, once per pressure, if that makes room). */
static bool within_limit(struct tcp_conn *c, uint64_t delta)
{
    struct tcp_host *h = c->host;
    uint64_t limit = h->cfg->mem_limit;
    if (h->stats.buffer_bytes + delta <= limit)
        return true;
    if (!h->mem.pruned) {
        h->mem.pruned = true;
        prune_out_of_order(h, c);
    }
    return h->stats.buffer_bytes + delta <= limit;
}

/* The allocation that follows `size` as a ring of size cap grows. */
static uint32_t next_size(uint32_t cap, uint32_t size)
{
    return doubled_size(cap, size, size + 1);
}

void tcp_mem_grow(struct tcp_conn *c, struct ring *r, uint32_t need,
                  enum tcp_mem_use use)
{
    struct tcp_host *h = c->host;
    if (use == TCP_MEM_OUT_OF_ORDER && h->mem.pressure)
        return;
    /* doubling as far as the limit lets (the first step is the one
     * tcp_snd_writable counts on), and at least to the floor */
    uint32_t target = doubled_size(r->cap, r->alloc, need), size = r->alloc;
    while (size < target) {
        uint32_t next = next_size(r->cap, size);
        if (next > ring_floor(r) && !within_limit(c, next - r->alloc))
            break;
        size = next;
    }
    size = max_u32(size, ring_floor(r));
    if (size <= r->alloc)
        return;
    bool pressure = h->mem.pressure;
    if (ring_set_alloc(c, r, size) && !pressure && h->mem.pressure)
        release_idle_rings(h, c);
}

bool tcp_mem_sb_alloc(struct tcp_conn *c)
{
    /* the scoreboard's records count against the limit as buffers do,
     * but never beyond it: without them the connection goes on as
     * without SACK information (tcp_sack.h) */
    struct tcp_host *h = c->host;
    if (h->stats.buffer_bytes + TCP_SB_BYTES > h->cfg->mem_limit || !tcp_sb_alloc(&c->sb))
        return false;
    bool pressure = h->mem.pressure;
    account(h, (int64_t)TCP_SB_BYTES);
    if (!pressure && h->mem.pressure)
        release_idle_rings(h, c);
    return true;
}

void tcp_mem_sb_free(struct tcp_conn *c)
{
    if (!c->sb.rec)
        return;
    tcp_sb_free(&c->sb);
    account(c->host, -(int64_t)TCP_SB_BYTES);
}

uint32_t tcp_rcv_space(const struct tcp_conn *c)
{
    const struct ring *r = &c->rcvbuf;
    /* Linux (tcp_clamp_window under memory pressure): only the memory
     * the ring has, or may always have */
    uint32_t space = c->host->mem.pressure ? max_u32(r->alloc, ring_floor(r)) - r->len
                                           : ring_space(r);
    /* less what rounding a window up to our scale may offer beyond it
     * (tcp_rcv_window_offered): the ring keeps that promise */
    uint32_t rounding = (1u << c->rcv_wscale) - 1;
    return space > rounding ? space - rounding : 0;
}

bool tcp_snd_writable(const struct tcp_conn *c)
{
    const struct ring *r = &c->sndbuf;
    const struct tcp_host *h = c->host;
    uint32_t want = r->len / 2 + 1;
    if (ring_space(r) < want)
        return false;
    if (max_u32(r->alloc, ring_floor(r)) - r->len >= want)
        return true;
    /* the memory it needs: the first step tcp_mem_grow takes */
    uint32_t size = next_size(r->cap, r->alloc);
    return h->stats.buffer_bytes + (size - r->alloc) <= h->cfg->mem_limit;
}

void tcp_mem_wake_writers(struct tcp_host *h,
                          void (*wake)(struct tcp_host *h, struct tcp_conn *c))
{
    if (!h->mem.wake_due)
        return;
    h->mem.wake_due = false;
    for (struct hnode *n = h->mem.conns, *next; n; n = next) {
        next = n->next;
        struct tcp_conn *c = hnode_entry(n, struct tcp_conn, mem_node);
        if (c->snd_mem_refused) {
            c->snd_mem_refused = false;
            wake(h, c);
        }
    }
}
