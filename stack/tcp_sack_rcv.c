/* The receiver's side of SACK (RFC 2018 4) and D-SACK (RFC 2883 4): the
 * blocks our ACKs carry. The blocks are not kept: only a sequence number
 * inside each block lately reported, most recent first, which an ACK maps
 * to the out-of-order range (reass) holding it now. So ranges that merged
 * are reported once, and a block that RCV.NXT swallowed or that memory
 * pressure pruned (reneging, tcp_mem.c; RFC 2018 8: "all SACK blocks MUST
 * NOT report any old data which is no longer actually held") is no longer
 * reported: the table of held ranges is the only truth. As Linux, a
 * segment dropped for want of memory or of room in the table is not
 * reported either (RFC 2018 8 would have a receiver that discards report
 * the newest segment all the same; a sender resends data it was told is
 * held only after a timeout). */
#include <string.h>

#include "tcp_internal.h"

/* The held range containing seq, or NULL. */
static const struct reass_range *held_range(const struct tcp_conn *c, uint32_t seq)
{
    return reass_find(&c->reass, seq, seq + 1);
}

/* RFC 2883 4: "(1) A D-SACK block is only used to report a duplicate
 * contiguous sequence of data received by the receiver in the most recent
 * packet", the first part already received: below RCV.NXT (4.1.1), or of
 * a range held out of order (4.1.3). */
void tcp_sack_note_text(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
    if (!c->sack_on)
        return;
    c->dsack = false;
    if (seq_lt(seq, c->rcv_nxt)) {
        end = seq_min(end, c->rcv_nxt);
    } else {
        const struct reass_range *r = reass_find(&c->reass, seq, end);
        if (!r)
            return;
        seq = seq_max(seq, r->start);
        end = seq_min(end, r->end);
    }
    c->dsack = true;
    c->dsack_start = seq;
    c->dsack_end = end;
    /* ACKed at once, so the next segment cannot take its place (as Linux
     * ACKs an old duplicate at once, tcp_send_dupack) */
    c->ack_now = true;
}

/* RFC 2018 4: "The first SACK block ... MUST specify the contiguous block
 * of data containing the segment which triggered this ACK"; the blocks
 * reported before follow, less the one it joined and those gone. */
void tcp_sack_note_held(struct tcp_conn *c, uint32_t seq)
{
    if (!c->sack_on)
        return;
    const struct reass_range *block = held_range(c, seq);
    uint32_t recent[TCP_MAX_SACK_BLOCKS];
    unsigned n = 0;
    recent[n++] = seq;
    for (unsigned i = 0; i < c->sack_recent_count && n < TCP_MAX_SACK_BLOCKS; i++) {
        const struct reass_range *r = held_range(c, c->sack_recent[i]);
        if (r && r != block)
            recent[n++] = c->sack_recent[i];
    }
    memcpy(c->sack_recent, recent, n * sizeof recent[0]);
    c->sack_recent_count = (uint8_t)n;
}

/* Appends the held range r (if any) to opt's blocks, unless `fit` are
 * there or it is among those from `normal` on. */
static void add_block(struct tcp_options *opt, unsigned normal, unsigned fit,
                      const struct reass_range *r)
{
    if (!r || opt->sack_count >= fit)
        return;
    for (unsigned i = normal; i < opt->sack_count; i++)
        if (opt->sack[i].left == r->start && opt->sack[i].right == r->end)
            return;
    opt->sack[opt->sack_count].left = r->start;
    opt->sack[opt->sack_count].right = r->end;
    opt->sack_count++;
}

void tcp_sack_fill(struct tcp_conn *c, struct tcp_options *opt, size_t room)
{
    unsigned fit = tcp_sack_blocks_fit(opt, room);
    opt->sack_count = 0;
    /* RFC 2883 4: the D-SACK block first; "(2) Each duplicate contiguous
     * sequence of data received is reported in at most one D-SACK block" */
    if (c->dsack && fit) {
        opt->sack[0].left = c->dsack_start;
        opt->sack[0].right = c->dsack_end;
        opt->sack_count = 1;
    }
    c->dsack = false;
    /* RFC 2018 4: the most recently reported blocks, none at or below
     * RCV.NXT and none twice ("not subsets of a SACK block already
     * included"). RFC 2883 4 (4): after a D-SACK block inside held data,
     * the block holding it, which the duplicate made the most recent. */
    unsigned normal = opt->sack_count;
    for (unsigned i = 0; i < c->sack_recent_count; i++)
        add_block(opt, normal, fit, held_range(c, c->sack_recent[i]));
    /* then, "as many distinct SACK blocks as possible", the others held,
     * lowest first (Linux reports only its four recent ones: a block
     * pushed out of them went unreported until RCV.NXT reached it) */
    for (unsigned i = 0; i < c->reass.count; i++)
        add_block(opt, normal, fit, &c->reass.range[i]);
}

uint32_t tcp_send_mss(const struct tcp_conn *c)
{
    /* RFC 2018 4: SACK blocks on every ACK while data is held out of
     * order, data segments included: as Linux (tcp_current_mss), a data
     * segment leaves room for the blocks it would carry, one per range
     * held and the D-SACK, with the timestamps beside them. An MSS too
     * small to spare that room keeps its data (no blocks then). */
    if (!c->sack_on || (!c->reass.count && !c->dsack))
        return c->snd_mss;
    struct tcp_options others = { .has_ts = c->ts_on };
    uint32_t room = (uint32_t)tcp_sack_option_len(&others, c->reass.count + (c->dsack ? 1u : 0u));
    return room < c->snd_mss / 2 ? c->snd_mss - room : c->snd_mss;
}
