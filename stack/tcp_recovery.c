/* SACK-based loss recovery (RFC 6675) for a connection with sack_on: the
 * scoreboard (tcp_sack.h) kept from the ACKs, losses marked on it, fast
 * recovery entered and left, and what to resend (NextSeg). A peer without
 * SACK gets NewReno (RFC 6582, tcp_ack.c); its scoreboard is kept from
 * the cumulative ACKs alone, for the delivery rate (tcp_rate.c). */
#include "tcp_internal.h"

uint32_t tcp_pipe(const struct tcp_conn *c)
{
    /* RFC 6675 4 SetPipe: each octet in flight counts once if not
     * deemed lost and once more if retransmitted; SACKed octets not at
     * all (Linux's tcp_packets_in_flight, in bytes). */
    uint64_t pipe = (uint64_t)tcp_flight(c) + c->sb.retrans;
    uint64_t out = (uint64_t)c->sb.sacked + c->sb.lost;
    return pipe > out ? (uint32_t)(pipe - out) : 0;
}

static uint32_t sack_room(const struct tcp_conn *c)
{
    uint32_t pipe = tcp_pipe(c);
    return c->cwnd > pipe ? c->cwnd - pipe : 0;
}

/* A retransmission may start beyond the peer's window only at SND.UNA
 * (Linux's tcp_retransmit_skb): a window shrunk under the data in flight
 * would drop the rest. */
static bool in_window(const struct tcp_conn *c, uint32_t seq)
{
    return seq == c->snd_una || seq_lt(seq - c->snd_una, c->snd_wnd);
}

/* Resends up to an MSS of [seq, end); returns the sequence space sent.
 * Sending nothing (nothing of it left to send) still marks it
 * retransmitted, so that no loop waits on it. */
static uint32_t resend(struct tcp_conn *c, uint32_t seq, uint32_t end, uint64_t now)
{
    uint32_t sent = tcp_retransmit_at(c, seq, end, now);
    if (!sent) {
        struct tcp_sent_tx tx;
        tcp_rate_sent(c, now, &tx);
        tcp_sb_sent(&c->sb, seq, end, now, &tx);
    }
    return sent;
}

/* What the scoreboard reports delivered goes to the rate sample and to
 * RACK. */
struct delivery {
    struct tcp_conn *c;
    const struct tcp_segment *seg;
    uint64_t now;
    struct tcp_rate_sample rs;
    bool reordered;         /* RACK saw a segment delivered out of order */
};

static void delivered(void *ctx, const struct tcp_sent *piece)
{
    struct delivery *d = ctx;
    tcp_min_rtt_delivered(d->c, piece, d->seg, d->now);
    tcp_rate_delivered(d->c, &d->rs, piece);
    if (tcp_rack_on(d->c) && tcp_rack_delivered(d->c, piece, d->seg, d->now))
        d->reordered = true;
}

/* RFC 2883 D-SACK [left, right): the segments it reports received twice
 * (Linux's tcp_dsack_seen: none if longer than any window offered). */
static uint32_t dsack_segments(const struct tcp_conn *c, uint32_t left, uint32_t right)
{
    uint32_t len = right - left;
    if (len > c->max_snd_wnd)
        return 0;
    return tcp_segs(c, len);   /* len > 0: first_block_is_dsack */
}

/* RFC 2883 4: the first block is a D-SACK if it lies below the
 * cumulative ACK or within the second block. */
static bool first_block_is_dsack(const struct tcp_segment *seg, unsigned blocks)
{
    uint32_t left = seg->opt.sack[0].left, right = seg->opt.sack[0].right;
    if (!blocks || !seq_lt(left, right))
        return false;
    return seq_le(right, seg->ack) ||
           (blocks > 1 && seq_ge(left, seg->opt.sack[1].left) &&
            seq_le(right, seg->opt.sack[1].right));
}

uint32_t tcp_scoreboard_update(struct tcp_conn *c, const struct tcp_segment *seg, uint64_t now)
{
    struct tcp_scoreboard *sb = &c->sb;
    struct delivery d = { .c = c, .seg = seg, .now = now };
    uint32_t ack = seg->ack, sacked_before = sb->sacked;
    uint32_t una = seq_gt(ack, c->snd_una) ? ack : c->snd_una;
    tcp_sb_acked(sb, una, delivered, &d);
    /* SACK blocks count only once both SYNs allowed them (RFC 2018 2) */
    unsigned blocks = c->sack_on ? seg->opt.sack_count : 0;
    if (blocks > TCP_MAX_SACK_BLOCKS)
        blocks = TCP_MAX_SACK_BLOCKS;
    uint32_t newly = 0;
    for (unsigned i = 0; i < blocks; i++)
        newly += tcp_sb_sack(sb, una, c->snd_max, seg->opt.sack[i].left,
                             seg->opt.sack[i].right, delivered, &d);
    c->host->stats.sacked_bytes += newly;
    bool dsack = first_block_is_dsack(seg, blocks);
    if (dsack) {
        c->stats.dsack_dups += dsack_segments(c, seg->opt.sack[0].left, seg->opt.sack[0].right);
        tcp_undo_dsack(c, seg->opt.sack[0].left, seg->opt.sack[0].right);
    }
    if (tcp_rack_on(c)) {
        tcp_rack_dsack(c, dsack);
        tcp_tlp_ack(c, seg, dsack, seg->opt.sack[0].right);
    }
    /* Linux's reord_seen: the ACKs that showed reordering */
    if (d.reordered)
        c->stats.reord_seen++;
    /* RFC 2018 8: SACKed data is kept until cumulatively acknowledged,
     * for the receiver may drop it; an ACK that stops at SACKed data
     * says it did (Linux's tcp_check_sack_reneging): resend it all. */
    bool reneged = sb->count && (sb->rec[0].flags & TCP_SENT_SACKED);
    if (reneged)
        tcp_sb_forget_sacks(sb);
    tcp_rate_sample_done(c, &d.rs, reneged, now);
    /* SND.UNA passes everything sent: the records may go (tcp_mem.c) */
    if (!sb->count)
        tcp_mem_release_idle(c);
    /* RFC 6937 DeliveredData: the change in SND.UNA plus the change in
     * the bytes SACKed. */
    return (una - c->snd_una) + (sb->sacked - sacked_before);
}

/* RFC 6675 4 NextSeg rule (1): the first octets deemed lost and not yet
 * resent, as cwnd - pipe allows. */
bool tcp_sack_send_lost(struct tcp_conn *c, uint64_t now)
{
    const struct tcp_scoreboard *sb = &c->sb;
    for (uint32_t i = 0; i < sb->count; i++) {
        const struct tcp_sent *r = &sb->rec[i];
        if ((r->flags & (TCP_SENT_LOST | TCP_SENT_RETRANS | TCP_SENT_SACKED)) != TCP_SENT_LOST)
            continue;
        uint32_t seq = r->start, end = r->end;
        if (!in_window(c, seq) || sack_room(c) < min_u32(end - seq, c->snd_mss))
            return false;
        c->high_rxt = seq_max(c->high_rxt, seq + resend(c, seq, end, now));
        return true;
    }
    return false;
}

/* RFC 6675 4 NextSeg rules (3) and (4), in recovery once neither what is
 * lost nor new data could be sent: octets not SACKed beyond HighRxt,
 * then one rescue retransmission of the highest such octets. */
bool tcp_sack_send_more(struct tcp_conn *c, uint64_t now)
{
    const struct tcp_scoreboard *sb = &c->sb;
    if (!c->in_recovery || sack_room(c) < c->snd_mss)
        return false;
    for (uint32_t i = 0; i < sb->count; i++) {
        const struct tcp_sent *r = &sb->rec[i];
        if ((r->flags & (TCP_SENT_SACKED | TCP_SENT_RETRANS)) || seq_le(r->end, c->high_rxt))
            continue;
        uint32_t seq = seq_max(r->start, c->high_rxt), end = r->end;
        c->high_rxt = seq + resend(c, seq, end, now);
        return true;
    }
    /* rule (4): once HighACK passed RescueRxt */
    if (!seq_gt(c->snd_una - 1, c->rescue_rxt))
        return false;
    for (uint32_t i = sb->count; i-- > 0;) {
        const struct tcp_sent *r = &sb->rec[i];
        if (r->flags & TCP_SENT_SACKED)
            continue;
        uint32_t end = r->end;
        uint32_t seq = end - r->start > c->snd_mss ? end - c->snd_mss : r->start;
        c->rescue_rxt = c->recover;
        resend(c, seq, end, now);
        return true;
    }
    return false;
}

/* RFC 6675 5 step 4: enter fast recovery, resend the first segment. */
static void enter_recovery(struct tcp_conn *c, uint64_t now)
{
    struct tcp_scoreboard *sb = &c->sb;
    c->host->stats.sack_recoveries++;
    /* (1) RecoveryPoint = HighData, (2) ssthresh = FlightSize / 2 (by the
     * algorithm) */
    tcp_begin_fast_recovery(c);
    c->in_recovery = true;
    /* RFC 6937: cwnd now follows PRR (prr_update), not ssthresh at once */
    c->prr_delivered = c->prr_out = 0;
    c->recover_fs = tcp_flight(c);
    /* (3) retransmit the segment at HighACK + 1, whatever cwnd says; set
     * HighRxt and RescueRxt to its last octet. Without records (memory
     * refused them, tcp_sack.h), as without SACK: an MSS from SND.UNA. */
    uint32_t end = c->snd_max;
    if (sb->count) {
        struct tcp_sent *first = &sb->rec[0];
        if (first->flags & TCP_SENT_SACKED)
            return;
        if (!(first->flags & TCP_SENT_RETRANS))
            tcp_sb_set_flags(sb, first, first->flags | TCP_SENT_LOST);
        end = first->end;
    }
    uint32_t sent = resend(c, c->snd_una, end, now);
    c->high_rxt = c->snd_una + sent;
    c->rescue_rxt = c->high_rxt - 1;
}

/* RFC 6937 3, on each ACK in recovery: how much may be sent, as cwnd =
 * pipe + sndcnt. Proportional while pipe > ssthresh; below it PRR-SSRB,
 * as Linux (tcp_cwnd_reduction): at most what was delivered, plus one
 * MSS only when SND.UNA advanced and nothing was newly deemed lost. The
 * first ACK of a recovery sends at least its fast retransmission. */
static void prr_update(struct tcp_conn *c, uint32_t delivered, bool una_advanced,
                       bool newly_lost)
{
    if (!delivered)
        return;
    c->prr_delivered += delivered;
    uint32_t pipe = tcp_pipe(c);
    int64_t sndcnt;
    if (pipe > c->ssthresh) {
        uint64_t fs = max_u32(c->recover_fs, 1);
        sndcnt = (int64_t)(((uint64_t)c->prr_delivered * c->ssthresh + fs - 1) / fs) -
                 c->prr_out;
    } else {
        sndcnt = max_u32(c->prr_delivered - min_u32(c->prr_out, c->prr_delivered), delivered);
        if (una_advanced && !newly_lost)
            sndcnt += c->snd_mss;
        sndcnt = sndcnt < c->ssthresh - pipe ? sndcnt : c->ssthresh - pipe;
    }
    if (sndcnt < (c->prr_out ? 0 : c->snd_mss))
        sndcnt = c->prr_out ? 0 : c->snd_mss;
    c->cwnd = pipe + (uint32_t)sndcnt;
}

/* Losses marked (RACK, or RFC 6675 IsLost) and fast recovery entered
 * if they call for it; returns whether anything was newly deemed lost. */
static bool detect_and_recover(struct tcp_conn *c, uint64_t now)
{
    struct tcp_scoreboard *sb = &c->sb;
    bool rack = tcp_rack_on(c);
    bool newly_lost = rack ? tcp_rack_detect_loss(c, now) > 0
                           : tcp_sb_mark_lost_dupthresh(sb, c->snd_mss) > 0;
    /* RFC 6675 5: recovery begins once IsLost(HighACK + 1), or (RACK)
     * anything is deemed lost (Linux's tcp_time_to_recover), or DupThresh
     * duplicate ACKs came, counted as RFC 5681 does so that a path
     * stripping the SACK blocks still recovers (with RACK, only while
     * nothing is SACKed: SACKs are RACK's to judge). RFC 6675 5.1 and
     * RFC 6582 4: not for data sent before an RTO or the last recovery. */
    bool lost = rack ? sb->lost > 0 : sb->count && (sb->rec[0].flags & TCP_SENT_LOST);
    bool dupthresh = c->dupacks >= TCP_DUPTHRESH && (!rack || !sb->sacked);
    if (!c->in_recovery && !c->rto_recovery && seq_gt(c->snd_una, c->recover) &&
        (lost || dupthresh))
        enter_recovery(c, now);
    return newly_lost;
}

void tcp_sack_recovery(struct tcp_conn *c, uint32_t delivered, bool una_advanced,
                       uint64_t now)
{
    if ((c->in_recovery || c->rto_recovery) && seq_gt(c->snd_una, c->recover)) {
        /* RFC 6675 5 (A): a cumulative ACK beyond RecoveryPoint ends it;
         * RFC 6937: cwnd = ssthresh */
        if (c->in_recovery)
            c->cwnd = c->ssthresh;
        c->in_recovery = c->rto_recovery = false;
        tcp_rack_recovery_ended(c);
    }
    bool newly_lost = detect_and_recover(c, now);
    if (c->in_recovery)
        prr_update(c, delivered, una_advanced, newly_lost);
}

void tcp_sack_on_rto(struct tcp_conn *c)
{
    /* RFC 6675 5.1: recovery ends, RecoveryPoint = HighData (set by the
     * caller), the scoreboard stays: everything not SACKed is resent, by
     * NextSeg rule (1), as cwnd grows again. */
    tcp_sb_mark_all_lost(&c->sb);
    c->high_rxt = c->snd_una;
    c->rto_recovery = true;
    /* RFC 8985: the probe's episode, and the reordering timer, are over */
    c->rack.tlp_out = false;
    c->reo_at = 0;
}
