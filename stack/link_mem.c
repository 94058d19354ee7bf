/* The in-memory link: per direction, a queue of packets ordered by the
 * virtual time at which they become deliverable. Impairments are drawn
 * from a seeded PRNG, so a seed replays the same run exactly. */
#include "link_mem.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

struct mem_packet {
    struct mem_packet *prev, *next;
    uint64_t deliver_at;
    size_t len;
    uint8_t data[];
};

struct mem_queue {
    struct mem_packet *head, *tail;
    size_t count;
};

struct mem_end {
    struct link link;            /* first: the callbacks cast back */
    struct link_mem *m;
    int side;
};

struct link_mem {
    struct mem_end end[2];
    struct mem_packet *free_list;  /* delivered packets, MTU-sized, reused */
    struct mem_queue queue[2];   /* queue[i]: packets travelling to end i */
    struct link_mem_impair imp;
    const uint64_t *clock;
    uint64_t rng;
    struct link_mem_stats stats;
};

static bool chance(struct link_mem *m, double p)
{
    return rng_chance(&m->rng, p);
}

/* Inserts keeping the queue ordered by deliver_at, FIFO among equals.
 * Scans from the tail: without reordering that is O(1). */
static void queue_insert(struct mem_queue *q, struct mem_packet *pk)
{
    struct mem_packet *after = q->tail;
    while (after && after->deliver_at > pk->deliver_at)
        after = after->prev;
    pk->prev = after;
    pk->next = after ? after->next : q->head;
    if (pk->next)
        pk->next->prev = pk;
    else
        q->tail = pk;
    if (after)
        after->next = pk;
    else
        q->head = pk;
    q->count++;
}

static struct mem_packet *queue_pop(struct mem_queue *q)
{
    struct mem_packet *pk = q->head;
    q->head = pk->next;
    if (q->head)
        q->head->prev = NULL;
    else
        q->tail = NULL;
    q->count--;
    return pk;
}

/* Every packet has room for the MTU, so delivered ones can be reused:
 * a sender that queues a whole window would otherwise make the
 * allocator hand memory back and fault it in again. */
static struct mem_packet *packet_alloc(struct link_mem *m)
{
    struct mem_packet *pk = m->free_list;
    if (pk) {
        m->free_list = pk->next;
        return pk;
    }
    return malloc(sizeof *pk + m->end[0].link.mtu);
}

static void packet_release(struct link_mem *m, struct mem_packet *pk)
{
    pk->next = m->free_list;
    m->free_list = pk;
}

static void enqueue_copy(struct link_mem *m, struct mem_queue *q,
                         const uint8_t *pkt, size_t len)
{
    if (m->imp.queue_limit && q->count >= m->imp.queue_limit) {
        m->stats.overflow++;
        return;
    }
    struct mem_packet *pk = packet_alloc(m);
    if (!pk) {
        m->stats.overflow++;
        return;
    }
    memcpy(pk->data, pkt, len);
    pk->len = len;
    pk->deliver_at = *m->clock + m->imp.delay_us;
    if (m->imp.reorder_us && chance(m, m->imp.reorder)) {
        pk->deliver_at += 1 + rng_next(&m->rng) % m->imp.reorder_us;
        m->stats.reordered++;
    }
    if (len && chance(m, m->imp.corrupt)) {
        pk->data[rng_next(&m->rng) % len] ^= (uint8_t)(1u << (rng_next(&m->rng) % 8));
        m->stats.corrupted++;
    }
    queue_insert(q, pk);
}

static int mem_send(struct link *l, const uint8_t *pkt, size_t len)
{
    struct mem_end *e = (struct mem_end *)l;
    struct link_mem *m = e->m;
    if (len > l->mtu)
        return -EMSGSIZE;
    m->stats.sent++;
    if (chance(m, m->imp.loss)) {
        m->stats.lost++;
        return 0;
    }
    struct mem_queue *q = &m->queue[!e->side];
    enqueue_copy(m, q, pkt, len);
    if (chance(m, m->imp.dup)) {
        m->stats.duplicated++;
        enqueue_copy(m, q, pkt, len);
    }
    return 0;
}

static ssize_t mem_recv(struct link *l, uint8_t *buf, size_t cap)
{
    struct mem_end *e = (struct mem_end *)l;
    struct link_mem *m = e->m;
    struct mem_queue *q = &m->queue[e->side];
    if (!q->head || q->head->deliver_at > *m->clock)
        return 0;
    struct mem_packet *pk = queue_pop(q);
    size_t n = pk->len < cap ? pk->len : cap;
    memcpy(buf, pk->data, n);
    packet_release(m, pk);
    m->stats.delivered++;
    return (ssize_t)n;
}

struct link_mem *link_mem_new(uint32_t mtu, const struct link_mem_impair *imp,
                              const uint64_t *clock)
{
    struct link_mem *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    if (imp)
        m->imp = *imp;
    m->rng = m->imp.seed;
    m->clock = clock;
    for (int i = 0; i < 2; i++) {
        m->end[i] = (struct mem_end){
            .link = { .send = mem_send, .recv = mem_recv, .mtu = mtu },
            .m = m,
            .side = i,
        };
    }
    return m;
}

void link_mem_free(struct link_mem *m)
{
    if (!m)
        return;
    for (int i = 0; i < 2; i++)
        while (m->queue[i].head)
            free(queue_pop(&m->queue[i]));
    while (m->free_list) {
        struct mem_packet *pk = m->free_list;
        m->free_list = pk->next;
        free(pk);
    }
    free(m);
}

struct link *link_mem_end(struct link_mem *m, int side)
{
    return &m->end[side ? 1 : 0].link;
}

uint64_t link_mem_next_delivery(const struct link_mem *m)
{
    uint64_t next = 0;
    for (int i = 0; i < 2; i++) {
        const struct mem_packet *h = m->queue[i].head;
        if (h && (!next || h->deliver_at < next))
            next = h->deliver_at;
    }
    return next;
}

void link_mem_stats(const struct link_mem *m, struct link_mem_stats *out)
{
    *out = m->stats;
}
