/* The sender's SACK scoreboard (tcp_sack.h): records of the sequence
 * space in flight, SACK blocks applied to them (RFC 2018, RFC 6675 4
 * Update), and RFC 6675 4 IsLost. */
#include "tcp_sack.h"

#include <stdlib.h>
#include <string.h>

#include "seq.h"

static uint32_t rec_len(const struct tcp_sent *r)
{
    return r->end - r->start;
}

/* Adds (sign 1) or removes (sign -1) a record's bytes from the counts. */
static void count(struct tcp_scoreboard *sb, const struct tcp_sent *r, int sign)
{
    uint32_t n = rec_len(r) * (uint32_t)sign;
    if (r->flags & TCP_SENT_SACKED) {
        sb->sacked += n;
        return;
    }
    if (r->flags & TCP_SENT_LOST)
        sb->lost += n;
    if (r->flags & TCP_SENT_RETRANS)
        sb->retrans += n;
}

void tcp_sb_set_flags(struct tcp_scoreboard *sb, struct tcp_sent *r, uint8_t flags)
{
    count(sb, r, -1);
    r->flags = flags;
    count(sb, r, 1);
}

static void remove_at(struct tcp_scoreboard *sb, uint32_t i, uint32_t n)
{
    if (!n)
        return;     /* (no records at all, possibly) */
    memmove(&sb->rec[i], &sb->rec[i + n], (sb->count - i - n) * sizeof sb->rec[0]);
    sb->count -= n;
}

/* Merges records i and i + 1 (see tcp_sack.h). */
static void merge(struct tcp_scoreboard *sb, uint32_t i)
{
    struct tcp_sent *a = &sb->rec[i], *b = &sb->rec[i + 1];
    uint8_t both = a->flags & b->flags, either = a->flags | b->flags;
    count(sb, a, -1);
    count(sb, b, -1);
    a->end = b->end;
    if (b->xmit_us > a->xmit_us) {
        a->xmit_us = b->xmit_us;
        a->tx = b->tx;
    }
    a->flags = (both & TCP_SENT_SACKED) | (either & (TCP_SENT_LOST | TCP_SENT_RETRANS));
    count(sb, a, 1);
    remove_at(sb, i + 1, 1);
}

/* Frees a slot in a full array. */
static void make_room(struct tcp_scoreboard *sb)
{
    for (uint32_t i = 0; i + 1 < sb->count; i++) {
        if (sb->rec[i].flags == sb->rec[i + 1].flags) {
            merge(sb, i);
            return;
        }
    }
    merge(sb, 0);
}

/* The index of the record holding `seq`, or count. */
static uint32_t find(const struct tcp_scoreboard *sb, uint32_t seq)
{
    uint32_t i = 0;
    while (i < sb->count && !seq_in(seq, sb->rec[i].start, sb->rec[i].end))
        i++;
    return i;
}

/* Makes `seq` the start of a record, if a record holds it. */
static void split_at(struct tcp_scoreboard *sb, uint32_t seq)
{
    uint32_t i = find(sb, seq);
    if (i == sb->count || sb->rec[i].start == seq)
        return;
    if (sb->count == TCP_SB_RECORDS) {
        make_room(sb);
        i = find(sb, seq);
        if (sb->rec[i].start == seq)
            return;
    }
    memmove(&sb->rec[i + 1], &sb->rec[i], (sb->count - i) * sizeof sb->rec[0]);
    sb->count++;
    sb->rec[i].end = seq;       /* same flags: the counts stay */
    sb->rec[i + 1].start = seq;
}

static uint32_t map_end(const struct tcp_scoreboard *sb)
{
    return sb->rec[sb->count - 1].end;
}

static bool same_tx(const struct tcp_sent_tx *a, const struct tcp_sent_tx *b)
{
    return a->delivered == b->delivered && a->delivered_age_us == b->delivered_age_us &&
           a->first_tx_age_us == b->first_tx_age_us && a->app_limited == b->app_limited;
}

static void append(struct tcp_scoreboard *sb, uint32_t seq, uint32_t end, uint64_t now,
                   const struct tcp_sent_tx *tx)
{
    if (sb->count) {
        struct tcp_sent *last = &sb->rec[sb->count - 1];
        /* sent together and nothing known of it yet: one record */
        if (last->flags == 0 && last->xmit_us == now && last->end == seq &&
            same_tx(&last->tx, tx)) {
            last->end = end;
            return;
        }
        if (sb->count == TCP_SB_RECORDS)
            make_room(sb);
    }
    sb->rec[sb->count++] =
        (struct tcp_sent){ .start = seq, .end = end, .xmit_us = now, .tx = *tx };
}

bool tcp_sb_alloc(struct tcp_scoreboard *sb)
{
    sb->rec = malloc(TCP_SB_BYTES);
    return sb->rec != NULL;
}

void tcp_sb_free(struct tcp_scoreboard *sb)
{
    free(sb->rec);
    *sb = (struct tcp_scoreboard){ 0 };
}

void tcp_sb_sent(struct tcp_scoreboard *sb, uint32_t seq, uint32_t end, uint64_t now,
                 const struct tcp_sent_tx *tx)
{
    if (!sb->rec || !seq_lt(seq, end))
        return;
    if (sb->count == 0 || seq_ge(seq, map_end(sb))) {
        append(sb, sb->count ? map_end(sb) : seq, end, now, tx);
        return;
    }
    uint32_t old_end = map_end(sb);
    uint32_t mid = seq_min(end, old_end);
    split_at(sb, seq);
    split_at(sb, mid);
    /* Every record the retransmission touched counts as retransmitted,
     * even one that could not be split: it is then deemed lost again
     * later (RACK) rather than sent twice at once. */
    for (uint32_t i = 0; i < sb->count; i++) {
        struct tcp_sent *r = &sb->rec[i];
        if (seq_le(r->end, seq) || seq_ge(r->start, mid))
            continue;
        r->xmit_us = now;
        r->tx = *tx;
        tcp_sb_set_flags(sb, r, r->flags | TCP_SENT_RETRANS);
    }
    if (seq_gt(end, old_end))
        append(sb, old_end, end, now, tx);
}

void tcp_sb_acked(struct tcp_scoreboard *sb, uint32_t ack, tcp_sb_delivered_fn *fn,
                  void *ctx)
{
    uint32_t n = 0;
    while (n < sb->count && seq_le(sb->rec[n].end, ack)) {
        struct tcp_sent *r = &sb->rec[n++];
        if (!(r->flags & TCP_SENT_SACKED))
            fn(ctx, r);
        count(sb, r, -1);
    }
    remove_at(sb, 0, n);
    if (sb->count && seq_lt(sb->rec[0].start, ack)) {
        struct tcp_sent *r = &sb->rec[0];
        struct tcp_sent piece = *r;
        piece.end = ack;
        if (!(r->flags & TCP_SENT_SACKED))
            fn(ctx, &piece);
        count(sb, r, -1);
        r->start = ack;
        count(sb, r, 1);
    }
}

uint32_t tcp_sb_sack(struct tcp_scoreboard *sb, uint32_t una, uint32_t max,
                     uint32_t left, uint32_t right, tcp_sb_delivered_fn *fn, void *ctx)
{
    /* RFC 2018 3, RFC 6675 4: only blocks of data in flight count; as
     * Linux (tcp_is_sackblock_valid), others are ignored. */
    if (!seq_lt(left, right) || seq_lt(left, una) || seq_gt(right, max))
        return 0;
    split_at(sb, left);
    split_at(sb, right);
    uint32_t newly = 0;
    for (uint32_t i = 0; i < sb->count; i++) {
        struct tcp_sent *r = &sb->rec[i];
        if (seq_lt(r->start, left) || seq_gt(r->end, right) ||
            (r->flags & TCP_SENT_SACKED))
            continue;
        fn(ctx, r);
        newly += rec_len(r);
        if (sb->sacked == 0 || seq_gt(r->end, sb->high_sacked))
            sb->high_sacked = r->end;
        /* RETRANS stays: it tells an ACK of the original from one of
         * the retransmission, should the peer renege */
        tcp_sb_set_flags(sb, r, (uint8_t)((r->flags & ~TCP_SENT_LOST) | TCP_SENT_SACKED));
    }
    return newly;
}

unsigned tcp_sb_mark_lost_dupthresh(struct tcp_scoreboard *sb, uint32_t smss)
{
    uint32_t sacked_above = 0;
    unsigned runs_above = 0, marked = 0;
    bool above_is_sacked = false;
    for (uint32_t i = sb->count; i-- > 0;) {
        struct tcp_sent *r = &sb->rec[i];
        if (r->flags & TCP_SENT_SACKED) {
            if (!above_is_sacked)
                runs_above++;
            above_is_sacked = true;
            sacked_above += rec_len(r);
            continue;
        }
        above_is_sacked = false;
        if (r->flags & (TCP_SENT_LOST | TCP_SENT_RETRANS))
            continue;
        if (runs_above >= TCP_DUPTHRESH || sacked_above > (TCP_DUPTHRESH - 1) * smss) {
            tcp_sb_set_flags(sb, r, r->flags | TCP_SENT_LOST);
            marked++;
        }
    }
    return marked;
}

void tcp_sb_mark_all_lost(struct tcp_scoreboard *sb)
{
    for (uint32_t i = 0; i < sb->count; i++) {
        struct tcp_sent *r = &sb->rec[i];
        if (!(r->flags & TCP_SENT_SACKED))
            tcp_sb_set_flags(sb, r, TCP_SENT_LOST);
    }
}

void tcp_sb_unmark_lost(struct tcp_scoreboard *sb)
{
    for (uint32_t i = 0; i < sb->count; i++) {
        struct tcp_sent *r = &sb->rec[i];
        if (r->flags & TCP_SENT_LOST)
            tcp_sb_set_flags(sb, r, r->flags & ~TCP_SENT_LOST);
    }
}

void tcp_sb_forget_sacks(struct tcp_scoreboard *sb)
{
    for (uint32_t i = 0; i < sb->count; i++) {
        struct tcp_sent *r = &sb->rec[i];
        if (r->flags & TCP_SENT_SACKED)
            tcp_sb_set_flags(sb, r, r->flags & TCP_SENT_RETRANS);
    }
}

bool tcp_sb_covers(const struct tcp_scoreboard *sb, uint32_t una, uint32_t max)
{
    return sb->count ? sb->rec[0].start == una && map_end(sb) == max : una == max;
}
