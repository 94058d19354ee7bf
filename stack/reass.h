/* Out-of-order bookkeeping for the receive side: which sequence ranges
 * beyond RCV.NXT are already in the receive ring. The data itself lives in
 * the ring at its final position, so memory is bounded by the buffer. */
#ifndef TUNTCP_REASS_H
#define TUNTCP_REASS_H

#include <stdbool.h>
#include <stdint.h>

#include "seq.h"

#define REASS_MAX_RANGES 16

struct reass_range {
    uint32_t start, end;    /* [start, end) */
};

struct reass {
    uint8_t count;
    struct reass_range range[REASS_MAX_RANGES]; /* sorted, disjoint */
};

/* Records [start, end) as present; adjacent and overlapping ranges merge.
 * Returns false (nothing recorded) if that would need more ranges than the
 * table holds. */
bool reass_add(struct reass *r, uint32_t start, uint32_t end);
/* RCV.NXT moved to `rcv_nxt`: returns how far the in-order data now
 * extends (>= rcv_nxt) and forgets the ranges it swallowed. */
uint32_t reass_advance(struct reass *r, uint32_t rcv_nxt);
/* The first recorded range that overlaps [start, end), or NULL. */
const struct reass_range *reass_find(const struct reass *r, uint32_t start, uint32_t end);
static inline bool reass_empty(const struct reass *r) { return r->count == 0; }
/* True if some recorded range reaches past `seq`. */
static inline bool reass_holds_beyond(const struct reass *r, uint32_t seq)
{
    return r->count && seq_gt(r->range[r->count - 1].end, seq);
}

#endif
