/* The ACK field of an incoming segment (RFC 9293 3.10.7.4 fifth): what
 * it acknowledges, the send window, RTT samples, and loss detection and
 * recovery (RFC 5681 3.2, RFC 6582). */
#include "tcp_internal.h"

/* The round trip of the segment timed since rtt_start. The caller's
 * clock may be read before the send it answers was (a batch of events
 * handled with one reading): 0 then, never a wrapped-around huge sample
 * (which made the RTO 120 s). */
static uint64_t timed_rtt(const struct tcp_conn *c, uint64_t now)
{
    return now > c->rtt_start ? now - c->rtt_start : 0;
}

/* Our SYN is acknowledged: the RTT sample it may give and SND.UNA. */
static void syn_acked(struct tcp_conn *c, uint64_t now)
{
    if (c->rtt_timing)
        tcp_rtt_sample(c, timed_rtt(c, now));
    c->rtt_timing = false;
    c->snd_una = c->iss + 1;
    c->rate.delivered++;        /* the SYN is delivered, as Linux counts it */
    c->rate.delivered_segs++;
}

void tcp_ack_syn_sent(struct tcp_conn *c, uint64_t now)
{
    /* Linux counts the SYN in bytes_acked only for an active open (its
     * passive side takes SND.UNA from the handshake's ACK directly) */
    c->stats.bytes_acked++;
    syn_acked(c, now);
    tcp_established(c, now);
}

/* RFC 7323 4.1: the round trip an echoed timestamp tells, if it tells
 * one. */
static bool echoed_rtt(const struct tcp_conn *c, const struct tcp_segment *seg,
                       uint64_t now, uint64_t *rtt)
{
    if (!c->ts_on || !seg->opt.has_ts || !seg->opt.ts_ecr)
        return false;
    uint32_t ms = tcp_ts_now(c, now) - seg->opt.ts_ecr;
    *rtt = (uint64_t)ms * USEC_PER_MSEC;
    return ms < 60 * 1000;
}

static void rtt_from_ack(struct tcp_conn *c, const struct tcp_segment *seg,
                         uint64_t now)
{
    uint64_t rtt;
    if (c->rtt_timing && seq_gt(seg->ack, c->rtt_seq)) {
        /* RFC 6298 3: the timed segment is acknowledged */
        rtt = timed_rtt(c, now);
        tcp_rtt_sample(c, rtt);
        c->rtt_timing = false;
    } else if (!echoed_rtt(c, seg, now, &rtt)) {
        return;
    } else if (c->backoff) {
        /* RFC 7323 4.1: after a retransmission Karn's rule has no sample;
         * the echoed timestamp still tells the round trip, provided it
         * echoes a segment sent since: a receiver answering an old
         * duplicate echoes the TSval of long ago (RFC 7323 4.3), which
         * would inflate the RTO without end. */
        if (!seq_ge(seg->opt.ts_ecr, c->rexmit_tsval))
            return;
        tcp_rtt_sample(c, rtt);
    }
    /* Congestion control takes a sample from every ACK of new data that
     * has one (RFC 9406 4.2: HyStart++ counts them per round); it uses
     * them in slow start, before any retransmission. */
    c->cc->on_rtt(c, rtt, now);
}

/* SND.UNA < SEG.ACK =< SND.MAX: new data (or our FIN) acknowledged. */
static void new_ack(struct tcp_conn *c, const struct tcp_segment *seg,
                    uint64_t now)
{
    uint32_t ack = seg->ack;
    uint32_t acked = ack - c->snd_una;
    uint32_t data_end = tcp_data_end(c);
    tcp_sndbuf_release(c, seq_min(ack, data_end));
    ring_consume(&c->sndbuf, seq_min(ack, data_end) - c->snd_una);
    tcp_mem_release_idle(c);
    c->stats.bytes_acked += acked;
    c->snd_una = ack;
    if (seq_lt(c->snd_nxt, c->snd_una))
        c->snd_nxt = c->snd_una;
    /* Linux's chronographs (tcp_clean_rtx_queue, tcp_check_space): busy
     * until nothing is in flight or to send; a writer that found no room
     * has some once the buffer is writable again. */
    if (tcp_flight(c) == 0)
        tcp_chrono_stop(c, TCP_CHRONO_BUSY, now);
    if (c->snd_nospace && tcp_snd_writable(c)) {
        c->snd_nospace = false;
        tcp_chrono_stop(c, TCP_CHRONO_SNDBUF_LIMITED, now);
    }
    rtt_from_ack(c, seg, now);
    /* New data acknowledged: the backoff is over (RFC 6298 5.7) and
     * the peer is alive. */
    c->backoff = 0;
    c->probes = 0;
    c->stall_since = 0;

    if (c->in_recovery && !c->sack_on) {
        if (seq_gt(ack, c->recover)) {
            /* RFC 6582 3.2 step 3: a full ACK ends recovery; cwnd is
             * min(ssthresh, max(FlightSize, SMSS) + SMSS). */
            c->cwnd = min_u32(c->ssthresh,
                              max_u32(tcp_flight(c), c->snd_mss) + c->snd_mss);
            c->in_recovery = false;
        } else {
            /* RFC 6582 3.2 step 3: a partial ACK retransmits the next
             * hole and deflates cwnd by the amount acknowledged, adding
             * back one SMSS if at least that much was. */
            tcp_retransmit_first(c, now);
            c->cwnd -= min_u32(acked, c->cwnd);
            if (acked >= c->snd_mss)
                c->cwnd += c->snd_mss;
            c->cwnd = max_u32(c->cwnd, c->snd_mss);
            /* RFC 6582 3.2 step 5: the first partial ACK resets the
             * retransmission timer; later ones do not. */
            if (!c->recovery_rto_reset) {
                c->recovery_rto_reset = true;
                tcp_update_rto_timer(c, now, true);
            }
            c->dupacks = 0;
            return;
        }
    } else if (!c->in_recovery && tcp_cwnd_limited(c)) {
        /* RFC 9438 4.6 and RFC 7661: cwnd grows only while it limits
         * what is sent (else its size says nothing of the path) */
        c->cc->on_ack(c, acked, now);
    }
    c->dupacks = 0;
    /* RFC 6298 5.3: restart the timer for what is still outstanding */
    tcp_update_rto_timer(c, now, true);
}

void tcp_begin_fast_recovery(struct tcp_conn *c)
{
    c->host->stats.fast_retransmits++;
    /* RFC 6582 3.2 step 2 and RFC 6675 5 step 4 (1): recover (the
     * RecoveryPoint) = the highest sequence sent */
    c->recover = c->snd_max - 1;
    tcp_undo_begin(c, false);
    /* RFC 5681 3.2 step 2: ssthresh from FlightSize (by the algorithm),
     * without the data limited transmit sent */
    uint32_t flight = tcp_flight(c);
    c->ssthresh = c->cc->ssthresh(c, flight - min_u32(c->limited_transmit_bytes, flight));
}

/* SEG.ACK = SND.UNA: a duplicate ACK by RFC 5681 2's definition drives
 * fast retransmit and fast recovery. */
static void maybe_duplicate_ack(struct tcp_conn *c, const struct tcp_segment *seg,
                                uint32_t new_wnd, uint64_t now)
{
    /* While probing a zero window, unchanged ACKs are the expected answer
     * to each probe, not a sign of loss. */
    if (seg->len || (seg->flags & (TCP_SYN | TCP_FIN)) ||
        new_wnd != c->snd_wnd || tcp_flight(c) == 0 || c->persist)
        return;
    if (c->dupacks++ == 0)
        c->limited_transmit_bytes = 0;
    if (c->sack_on)
        return; /* RFC 6675: tcp_sack_recovery decides */
    if (c->in_recovery) {
        /* RFC 6582 3.2 step 4: each further duplicate inflates cwnd */
        c->cwnd += c->snd_mss;
        return;
    }
    if (c->dupacks != 3)
        return;
    /* RFC 6582 3.2 step 2: only if the ACK covers more than recover;
     * otherwise these duplicates belong to a loss already handled. */
    if (!seq_gt(seg->ack, c->recover))
        return;
    /* RFC 5681 3.2 steps 2-4 */
    tcp_begin_fast_recovery(c);
    tcp_retransmit_first(c, now);
    c->cwnd = c->ssthresh + 3 * c->snd_mss;
    c->in_recovery = true;
    c->recovery_rto_reset = false;
}

/* RFC 7323 4.3 (2), 5.3 R3: TS.Recent follows segments that cover
 * Last.ACK.sent. Only a segment that is kept may move it, so this runs
 * once the segment has passed every check, its ACK included (R3 follows
 * the drops of R1/R2; RFC 9293 3.10.7.4 fifth drops an ACK of unsent
 * data; an old ACK is not taken either): else one dropped segment with a
 * bogus TSval would make PAWS drop everything valid that follows. As Linux (tcp_ack calls
 * tcp_replace_ts_recent once the ACK is accepted), before anything the
 * ACK may send, so that it echoes this segment. */
static void update_ts_recent(struct tcp_conn *c, const struct tcp_segment *seg,
                             uint64_t now)
{
    if (c->ts_on && seg->opt.has_ts &&
        (seq_ge(seg->opt.ts_val, c->ts_recent) || tcp_ts_recent_stale(c, now)) &&
        seq_le(seg->seq, c->last_ack_sent)) {
        c->ts_recent = seg->opt.ts_val;
        c->ts_recent_at = now;
    }
}

bool tcp_ack_input(struct tcp_conn *c, const struct tcp_segment *seg,
                   uint64_t now)
{
    uint32_t ack = seg->ack;

    if (c->state == TCP_SYN_RECEIVED) {
        /* RFC 9293 3.10.7.4 fifth, SYN-RECEIVED: SND.UNA < SEG.ACK =<
         * SND.NXT moves to ESTABLISHED; any other ACK gets a reset. */
        if (!(seq_lt(c->snd_una, ack) && seq_le(ack, c->snd_max))) {
            tcp_reply_reset(c->host, &c->ep, seg);
            return false;
        }
        syn_acked(c, now);
        tcp_established(c, now);
        /* ...and set SND.WND <- SEG.WND, SND.WL1 <- SEG.SEQ,
         * SND.WL2 <- SEG.ACK. */
        c->snd_wnd = c->max_snd_wnd = (uint32_t)seg->wnd << c->snd_wscale;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = ack;
        if (c->fin_queued) /* a CLOSE deferred in SYN-RECEIVED */
            tcp_set_state(c, TCP_FIN_WAIT_1);
    }

    /* RFC 5961 5.2: acceptable if SND.UNA - MAX.SND.WND =< SEG.ACK =<
     * SND.NXT; otherwise challenge ACK and drop (RFC 9293 3.10.7.4: an
     * ACK for something not yet sent is answered with an ACK). */
    if (seq_gt(ack, c->snd_max) ||
        seq_lt(ack, c->snd_una - c->max_snd_wnd)) {
        tcp_send_challenge_ack(c, now);
        return false;
    }
    if (seq_ge(ack, c->snd_una)) {
        /* Not an old ACK (Linux's tcp_ack leaves old ones through old_ack
         * first): its TSval may become TS.Recent, and the peer is alive
         * (keepalive, zero-window and user timeouts). A segment that only
         * earns a challenge ACK, as a blind attacker's in-window SYN or
         * RST does, never gets here. */
        update_ts_recent(c, seg, now);
        c->last_recv_at = now;
        c->probes = 0;
    }

    uint32_t new_wnd = (uint32_t)seg->wnd << c->snd_wscale;
    bool acks_new_data = seq_gt(ack, c->snd_una);
    uint32_t delivered = tcp_scoreboard_update(c, seg, now);
    if (acks_new_data) {
        tcp_undo_on_ack(c, seg);
        new_ack(c, seg, now);
    }
    else if (ack == c->snd_una)
        maybe_duplicate_ack(c, seg, new_wnd, now);
    if (c->sack_on)
        tcp_sack_recovery(c, delivered, acks_new_data, now);

    /* RFC 9293 3.10.7.4: update the send window if SND.UNA =< SEG.ACK
     * and the segment is newer (SND.WL1 < SEG.SEQ, or the same SEQ and
     * SND.WL2 =< SEG.ACK); and, as Linux (tcp_may_update_window),
     * whenever it acknowledges new data, whatever its SEQ (a
     * retransmission): its window is the peer's latest, and the old one,
     * kept as an offset from the new SND.UNA, would reach beyond what the
     * peer offered. */
    if (ack == c->snd_una &&
        (acks_new_data || seq_lt(c->snd_wl1, seg->seq) ||
         (c->snd_wl1 == seg->seq && seq_le(c->snd_wl2, ack)))) {
        if (c->persist && c->snd_wnd == 0 && new_wnd > 0) {
            /* The window reopens: the probe octet sent into the closed
             * window was most likely dropped; send it again with the
             * rest. The backoff timed the probes and may have reached
             * the maximum: the retransmission timer starts afresh from
             * the RTO (RFC 6298 5), or one loss would cost 120 s and
             * then the connection. Linux clears icsk_backoff likewise
             * when an ACK opens the window (tcp_ack_probe). */
            c->snd_nxt = c->snd_una;
            c->backoff = 0;
            c->stall_since = 0;
        }
        c->snd_wnd = new_wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = ack;
        c->max_snd_wnd = max_u32(c->max_snd_wnd, new_wnd);
    }

    switch (c->state) {
    case TCP_FIN_WAIT_1:
        /* RFC 9293 3.10.7.4: our FIN acknowledged: FIN-WAIT-2 */
        if (tcp_fin_acked(c)) {
            tcp_set_state(c, TCP_FIN_WAIT_2);
            /* Linux's tcp_fin_timeout: an orphan does not wait forever
             * for the peer's FIN. */
            if (c->user_closed)
                c->close_at = now + c->host->cfg->fin_timeout_us;
            tcp_arm_keepalive(c, now);
        }
        break;
    case TCP_CLOSING:
        if (tcp_fin_acked(c))
            tcp_enter_time_wait(c, now);
        break;
    case TCP_LAST_ACK:
        if (tcp_fin_acked(c)) {
            tcp_done(c, 0);
            return false;
        }
        break;
    default:
        break;
    }
    return true;
}
