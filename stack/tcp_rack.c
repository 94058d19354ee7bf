/* RFC 8985 RACK-TLP: time-based loss detection over the scoreboard
 * (tcp_sack.h), the loss detection of a connection with SACK unless
 * configured off (as Linux's net.ipv4.tcp_recovery), and the tail loss
 * probe. Without SACK, RFC 5681's three duplicate ACKs (tcp_ack.c). */
#include "tcp_internal.h"

#define TLP_MAX_ACK_DELAY_US (200 * USEC_PER_MSEC)  /* RFC 8985 7.2 WCDelAckT */
#define TLP_MIN_EXTRA_US (2 * USEC_PER_MSEC)         /* Linux's TCP_TIMEOUT_MIN */
#define TLP_NO_RTT_PTO_US USEC_PER_SEC               /* RFC 8985 7.2 */
#define REO_WND_PERSIST 16                           /* RFC 8985 6.2 step 4 */
#define MAX_REORDERING 300                           /* Linux's tcp_max_reordering */

bool tcp_rack_on(const struct tcp_conn *c)
{
    return c->sack_on && c->host->cfg->rack;
}

/* RFC 7323 4.1 via RFC 8985 6.2 step 2: whether the ACK's echoed
 * timestamp shows it answers the transmission at xmit_us (or a later
 * one): 1, an earlier one: -1, nothing (no timestamp): 0. */
static int echo_answers(const struct tcp_conn *c, const struct tcp_segment *seg,
                        uint64_t xmit_us)
{
    if (!c->ts_on || !seg->opt.has_ts || !seg->opt.ts_ecr)
        return 0;
    return seq_lt(seg->opt.ts_ecr, tcp_ts_now(c, xmit_us)) ? -1 : 1;
}

void tcp_min_rtt_delivered(struct tcp_conn *c, const struct tcp_sent *piece,
                           const struct tcp_segment *seg, uint64_t now)
{
    /* RFC 8985 6.2 step 1: RACK.min_RTT from the RTT measurements of RFC
     * 6298 and RFC 7323: a segment never resent (Karn), or a resent one
     * whose ACK echoes the retransmission's timestamp. The delivery rate
     * estimator's least round trip too (Linux's tcp_min_rtt, which
     * likewise skips retransmissions without timestamps), over the
     * connection's life rather than the RFC's windowed filter or Linux's
     * 5 minutes. A round trip under the clock's 1 us counts as 1 us
     * (0 says none yet). */
    if ((piece->flags & TCP_SENT_RETRANS) && echo_answers(c, seg, piece->xmit_us) <= 0)
        return;
    uint64_t rtt = now > piece->xmit_us ? now - piece->xmit_us : 1;
    if (!c->min_rtt_us || rtt < c->min_rtt_us)
        c->min_rtt_us = rtt;
}

bool tcp_rack_delivered(struct tcp_conn *c, const struct tcp_sent *piece,
                        const struct tcp_segment *seg, uint64_t now)
{
    struct tcp_rack *r = &c->rack;
    uint64_t rtt = now > piece->xmit_us ? now - piece->xmit_us : 0;
    bool retransmitted = piece->flags & TCP_SENT_RETRANS;
    /* 6.2 step 2 (step 1 is tcp_min_rtt_delivered, before): an ACK of a
     * retransmitted segment may be the original's: not a sample if the
     * echoed timestamp is older than the retransmission, or the round
     * trip shorter than the shortest seen. */
    if (retransmitted && (echo_answers(c, seg, piece->xmit_us) < 0 || rtt < c->min_rtt_us))
        return false;
    r->rtt_us = rtt;
    if (tcp_sent_after(piece->xmit_us, piece->end, r->xmit_us, r->end_seq)) {
        r->xmit_us = piece->xmit_us;
        r->end_seq = piece->end;
    }
    /* step 3: a segment never resent delivered below one delivered
     * before was reordered; Linux's tp->reordering keeps how far. */
    bool reordered = !retransmitted && seq_lt(piece->end, r->fack);
    if (reordered) {
        r->reordering_seen = true;
        uint32_t segs = tcp_segs(c, r->fack - piece->end) + 1;
        c->reordering = min_u32(max_u32(c->reordering, segs), MAX_REORDERING);
    }
    r->fack = seq_max(r->fack, piece->end);
    return reordered;
}

void tcp_rack_dsack(struct tcp_conn *c, bool dsack)
{
    /* RFC 8985 6.2 step 4: one more RTT/4 of reordering window per round
     * trip that brings a D-SACK, for 16 recoveries. */
    struct tcp_rack *r = &c->rack;
    if (r->dsack_round_on && seq_ge(c->snd_una, r->dsack_round))
        r->dsack_round_on = false;
    if (!r->dsack_round_on && dsack) {
        r->dsack_round_on = true;
        r->dsack_round = c->snd_max;
        if (r->reo_wnd_mult < UINT8_MAX)
            r->reo_wnd_mult++;
        r->reo_wnd_persist = REO_WND_PERSIST;
    }
}

void tcp_rack_recovery_ended(struct tcp_conn *c)
{
    struct tcp_rack *r = &c->rack;
    if (r->reo_wnd_persist && --r->reo_wnd_persist == 0)
        r->reo_wnd_mult = 1;
}

/* RFC 8985 6.2 step 4 RACK.reo_wnd: none without reordering seen, in
 * recovery or with DupThresh segments SACKed (the DupThresh rule, as
 * Linux); else min_RTT / 4 per D-SACK round, at most SRTT. */
static uint64_t reo_wnd(const struct tcp_conn *c)
{
    const struct tcp_rack *r = &c->rack;
    if (!r->reordering_seen &&
        (c->in_recovery || c->rto_recovery ||
         c->sb.sacked > (TCP_DUPTHRESH - 1) * c->snd_mss))
        return 0;
    uint64_t wnd = c->min_rtt_us / 4 * r->reo_wnd_mult;
    return c->srtt_us && wnd > c->srtt_us ? c->srtt_us : wnd;
}

/* RFC 8985 6.2 step 5 RACK_detect_loss: a segment sent before the
 * latest one delivered, and longer ago than RACK.rtt + reo_wnd, is lost
 * (a lost retransmission too); for one not so long ago, the reordering
 * timer (6.3). Returns the segments newly deemed lost. */
unsigned tcp_rack_detect_loss(struct tcp_conn *c, uint64_t now)
{
    struct tcp_rack *r = &c->rack;
    struct tcp_scoreboard *sb = &c->sb;
    uint64_t wnd = reo_wnd(c), timeout = 0;
    unsigned lost = 0;
    c->reo_at = 0;
    if (!r->xmit_us)
        return 0;
    for (uint32_t i = 0; i < sb->count; i++) {
        struct tcp_sent *s = &sb->rec[i];
        if ((s->flags & TCP_SENT_SACKED) ||
            (s->flags & (TCP_SENT_LOST | TCP_SENT_RETRANS)) == TCP_SENT_LOST ||
            !tcp_sent_after(r->xmit_us, r->end_seq, s->xmit_us, s->end))
            continue;
        uint64_t deadline = s->xmit_us + r->rtt_us + wnd;
        if (deadline <= now) {
            tcp_sb_set_flags(sb, s, TCP_SENT_LOST);
            lost += tcp_segs(c, s->end - s->start);
        } else if (deadline - now > timeout) {
            timeout = deadline - now;
        }
    }
    c->host->stats.rack_lost_segs += lost;
    if (timeout)
        c->reo_at = now + timeout;
    return lost;
}

void tcp_rack_reo_timeout(struct tcp_conn *c, uint64_t now)
{
    /* RFC 8985 6.3: the reordering window passed: losses, recovery, and
     * PRR as if a segment was delivered (Linux's tcp_rack_reo_timeout) */
    c->reo_at = 0;
    if (!tcp_synchronized(c))
        return;
    tcp_sack_recovery(c, c->snd_mss, false, now);
    tcp_output(c, now);
}

void tcp_tlp_arm(struct tcp_conn *c, uint64_t now, bool restart)
{
    /* RFC 8985 7.2: a probe timeout while new data is in flight, not in
     * recovery, no probe outstanding; as Linux (tcp_schedule_loss_probe),
     * only with nothing SACKed or lost (RACK's timer has those). */
    if (!tcp_rack_on(c) || c->persist || !c->rto_at || c->in_recovery || c->rto_recovery ||
        c->rack.tlp_out || c->sb.sacked || c->sb.lost || tcp_flight(c) == 0 ||
        !tcp_synchronized(c)) {
        c->tlp_at = 0;
        return;
    }
    if (c->tlp_at && !restart)
        return;
    uint64_t pto = TLP_NO_RTT_PTO_US;
    if (c->srtt_us) {
        /* 2 * SRTT, and the peer's delayed ACK if one segment is in
         * flight; as Linux (tcp_schedule_loss_probe), 2 ms more else */
        pto = 2 * c->srtt_us;
        pto += tcp_flight(c) <= c->snd_mss ? TLP_MAX_ACK_DELAY_US : TLP_MIN_EXTRA_US;
    }
    /* "If Now() + PTO > TCP_RTO_expiration(): PTO = TCP_RTO_expiration() - Now()" */
    c->tlp_at = now + pto < c->rto_at ? now + pto : c->rto_at;
}

void tcp_tlp_timeout(struct tcp_conn *c, uint64_t now)
{
    /* RFC 8985 7.3: one new segment if the windows let one go (whatever
     * cwnd says), else the last segment again; then the RTO timer. */
    struct tcp_rack *r = &c->rack;
    c->tlp_at = 0;
    if (!tcp_synchronized(c) || tcp_flight(c) == 0)
        return;
    uint32_t before = c->snd_max;
    if (!tcp_send_new_probe(c, now)) {
        uint32_t last = c->snd_max - min_u32(tcp_flight(c), c->snd_mss);
        if (!tcp_retransmit_at(c, last, c->snd_max, now))
            return;
        r->tlp_is_retrans = true;
    } else {
        r->tlp_is_retrans = before == c->snd_max;
    }
    c->host->stats.tlp_probes++;
    r->tlp_out = true;
    r->tlp_end_seq = c->snd_max;
    tcp_update_rto_timer(c, now, true);
}

void tcp_tlp_ack(struct tcp_conn *c, const struct tcp_segment *seg, bool dsack,
                 uint32_t dsack_end)
{
    /* RFC 8985 7.4.2: a probe's ACK: a retransmitted probe that a D-SACK
     * does not show spurious repaired a loss, and congestion control
     * reduces (as Linux's tcp_process_tlp_ack: cwnd = ssthresh). */
    struct tcp_rack *r = &c->rack;
    if (!r->tlp_out || seq_lt(seg->ack, r->tlp_end_seq))
        return;
    bool repaired = false;
    if (!r->tlp_is_retrans || (dsack && dsack_end == r->tlp_end_seq))
        r->tlp_out = false;
    else if (seq_gt(seg->ack, r->tlp_end_seq))
        repaired = true;
    else if (seg->ack == c->snd_una && !seg->len && !seg->opt.sack_count)
        repaired = true;
    if (!repaired)
        return;
    r->tlp_out = false;
    c->host->stats.tlp_recoveries++;
    c->ssthresh = c->cc->ssthresh(c, tcp_flight(c));
    c->cwnd = c->ssthresh;
    /* not undoable (as Linux), and what undo would restore is gone */
    c->undo.armed = false;
}
