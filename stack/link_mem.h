/* An in-memory link between two endpoints, on a virtual clock, with seeded
 * impairments: loss, duplication, reordering, corruption and delay. */
#ifndef TUNTCP_LINK_MEM_H
#define TUNTCP_LINK_MEM_H

#include "link.h"

struct link_mem_impair {
    double loss;          /* probability a packet is dropped, 0..1 */
    double dup;           /* probability a packet is delivered twice */
    double reorder;       /* probability a packet gets extra delay */
    double corrupt;       /* probability one random byte is flipped */
    uint64_t delay_us;    /* one-way delay */
    uint64_t reorder_us;  /* the extra delay of a reordered packet, at most */
    uint64_t seed;        /* the PRNG seed: same seed, same impairments */
    size_t queue_limit;   /* packets queued per direction; beyond: dropped */
};

struct link_mem;
/* `clock` is read whenever a packet is sent or received. */
struct link_mem *link_mem_new(uint32_t mtu, const struct link_mem_impair *imp,
                              const uint64_t *clock);
void link_mem_free(struct link_mem *m);
/* The two ends: what end 0 sends, end 1 receives, and vice versa. */
struct link *link_mem_end(struct link_mem *m, int side);
/* The earliest time a queued packet becomes deliverable, or 0 if none
 * is queued. */
uint64_t link_mem_next_delivery(const struct link_mem *m);
/* Packets dropped / duplicated / corrupted / queued-over-limit so far. */
struct link_mem_stats {
    uint64_t sent, delivered, lost, duplicated, corrupted, reordered, overflow;
};
void link_mem_stats(const struct link_mem *m, struct link_mem_stats *out);

#endif
