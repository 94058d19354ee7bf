/* Out-of-order range bookkeeping (see reass.h). The table is tiny and
 * sorted, so plain array moves beat anything cleverer. */
#include "reass.h"

#include <string.h>

#include "seq.h"

static void reass_remove(struct reass *r, unsigned i, unsigned n)
{
    memmove(&r->range[i], &r->range[i + n],
            (r->count - i - n) * sizeof r->range[0]);
    r->count -= n;
}

bool reass_add(struct reass *r, uint32_t start, uint32_t end)
{
    unsigned i = 0;
    while (i < r->count && seq_lt(r->range[i].end, start))
        i++;
    /* ranges i.. that touch or overlap [start, end) merge into one */
    unsigned j = i;
    while (j < r->count && seq_le(r->range[j].start, end)) {
        start = seq_min(start, r->range[j].start);
        end = seq_max(end, r->range[j].end);
        j++;
    }
    if (j > i) {
        r->range[i].start = start;
        r->range[i].end = end;
        reass_remove(r, i + 1, j - i - 1);
        return true;
    }
    if (r->count == REASS_MAX_RANGES)
        return false;
    memmove(&r->range[i + 1], &r->range[i],
            (r->count - i) * sizeof r->range[0]);
    r->range[i].start = start;
    r->range[i].end = end;
    r->count++;
    return true;
}

uint32_t reass_advance(struct reass *r, uint32_t rcv_nxt)
{
    unsigned n = 0;
    while (n < r->count && seq_le(r->range[n].start, rcv_nxt)) {
        rcv_nxt = seq_max(rcv_nxt, r->range[n].end);
        n++;
    }
    reass_remove(r, 0, n);
    return rcv_nxt;
}

const struct reass_range *reass_find(const struct reass *r, uint32_t start, uint32_t end)
{
    for (unsigned i = 0; i < r->count; i++)
        if (seq_lt(start, r->range[i].end) && seq_lt(r->range[i].start, end))
            return &r->range[i];
    return NULL;
}
