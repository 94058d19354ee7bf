/* Segment generation: what to send, when (Nagle, SWS avoidance), and the
 * window we advertise. */
#include "rng.h"
#include "tcp_internal.h"

/* The window field for an outgoing segment; records RCV.WND and the right
 * edge it promises. */
static uint16_t advertise_window(struct tcp_conn *c, bool syn)
{
    uint32_t space = tcp_rcv_space(c);
    if (syn) {
        /* RFC 7323 2.2: the window field of a SYN is never scaled. */
        c->rcv_wnd = min_u32(space, 65535);
        c->rcv_adv = c->rcv_offered = c->rcv_nxt + c->rcv_wnd;
        return c->rcv_wnd;
    }
    uint8_t shift = c->rcv_wscale;
    uint32_t cur = tcp_rcv_window(c);
    uint32_t wnd = cur;
    space = min_u32(space, 65535u << shift);
    /* RFC 9293 3.8.6.2.2 (receiver SWS avoidance): move the right edge
     * only by at least min(RCV.BUFF / 2, MSS). */
    if (space > cur && space - cur >= min_u32(c->rcvbuf.cap / 2, c->host->cfg->mss))
        wnd = space;
    uint32_t field = wnd >> shift;
    /* RFC 9293 3.8.6.2.2: never move the right edge left ("shrinking the
     * window"); round a scaled window up rather than down. The edge we
     * keep stays where it was (Linux's tcp_select_window): recorded, the
     * rounding would creep right with every ACK, up to 2^shift - 1 bytes
     * each, promising room the buffer does not have. What it offers is
     * remembered (rcv_offered): the peer may send up to there, and its
     * ACKs come from there. */
    bool rounded_up = (field << shift) < cur;
    if (rounded_up)
        field = (cur + (1u << shift) - 1) >> shift;
    if (field > 65535)
        field = 65535;
    uint32_t edge = c->rcv_nxt + (field << shift);
    if (seq_gt(edge, c->rcv_offered))
        c->rcv_offered = edge;
    if (!rounded_up) {
        c->rcv_wnd = field << shift;
        c->rcv_adv = edge;
    }
    return (uint16_t)field;
}

/* Builds and hands over one segment. `len` bytes of sndbuf data start at
 * `seq`. Every segment but a RST carries our ACK and window. */
static void emit(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len,
                 uint64_t now)
{
    struct tcp_host *h = c->host;
    struct tcp_segment seg = {
        .sport = c->ep.lport, .dport = c->ep.rport, .seq = seq, .flags = flags,
        .ip_tos = c->ip_tos, .ip_ttl = c->ip_ttl,
    };
    if (!(flags & TCP_RST))
        seg.wnd = advertise_window(c, flags & TCP_SYN);
    if (flags & TCP_ACK) {
        seg.ack = c->rcv_nxt;
        c->last_ack_sent = c->rcv_nxt;
        c->ack_now = false;
        c->ack_soon = false;
        c->segs_unacked = 0;
        c->delack_at = 0;
    }
    if (flags & TCP_SYN) {
        const struct tcp_config *cfg = h->cfg;
        bool synack = flags & TCP_ACK;
        seg.opt.has_mss = true;
        seg.opt.mss = (uint16_t)min_u32(tcp_own_mss(c), 65535);
        /* RFC 7323 2.2 / 3.2: offer in a SYN; in a SYN-ACK only answer. */
        seg.opt.has_wscale = synack ? c->ws_on : cfg->window_scaling;
        seg.opt.wscale = tcp_offered_wscale(c);
        seg.opt.has_ts = synack ? c->ts_on : cfg->timestamps;
        seg.opt.ts_val = tcp_ts_now(c, now);
        seg.opt.ts_ecr = synack ? c->ts_recent : 0;
        seg.opt.sack_permitted = synack ? c->sack_on : cfg->sack;
    } else if (c->ts_on) {
        /* RFC 7323 3.2: once negotiated, on every segment. */
        seg.opt.has_ts = true;
        seg.opt.ts_val = tcp_ts_now(c, now);
        seg.opt.ts_ecr = c->ts_recent;
    }
    /* RFC 2018 4: SACK blocks on every ACK while data is held out of
     * order. Beside data in what it leaves of the MSS (new data leaves
     * room for them: tcp_send_mss); a bare ACK has room for all. */
    if (c->sack_on && (flags & (TCP_ACK | TCP_SYN | TCP_RST)) == TCP_ACK)
        tcp_sack_fill(c, &seg.opt, len ? c->snd_mss - min_u32(len, c->snd_mss)
                                       : TCP_MAX_OPT_LEN);
    struct tcp_payload payload;
    if (len)
        ring_view(&c->sndbuf, seq - tcp_data_seq(c), len, payload.base,
                  payload.len);
    h->stats.segs_out++;
    c->stats.segs_out++;
    if (len) {
        c->last_data_sent_at = now;
        h->stats.data_segs_out++;
        h->stats.bytes_out += len;
        c->stats.data_segs_out++;
        c->stats.bytes_sent += len;
    }
    if (flags & TCP_RST)
        h->stats.rst_out++;
    h->emit(h, &c->ep, &seg, len ? &payload : NULL);
}

/* The FIN is queued and SND.NXT has not gone past it (not sent yet, or
 * to be sent again after a timeout). */
static bool fin_pending(const struct tcp_conn *c)
{
    return c->fin_queued && seq_le(c->snd_nxt, c->fin_seq);
}

bool tcp_send_pending(const struct tcp_conn *c)
{
    return seq_lt(c->snd_nxt, tcp_data_end(c)) || fin_pending(c);
}

uint32_t tcp_notsent_bytes(const struct tcp_conn *c)
{
    /* SND.MAX, not SND.NXT: what goes again after a timeout was sent */
    uint32_t end = tcp_data_end(c) + (c->fin_queued ? 1 : 0);
    return seq_gt(end, c->snd_max) ? end - c->snd_max : 0;
}

/* A segment shorter than the MSS is unacknowledged (Linux's
 * tcp_minshall_check). */
static bool short_segment_unacked(const struct tcp_conn *c)
{
    return seq_gt(c->snd_sml, c->snd_una) && seq_le(c->snd_sml, c->snd_nxt);
}

/* RFC 3042 2 (RFC 5681 3.2): the first and the second duplicate ACK
 * each let one new segment beyond cwnd go out, if the receiver's window
 * allows, so that enough duplicates come back for fast retransmit; at most
 * cwnd + 2*SMSS is outstanding and cwnd itself does not change. */
static uint32_t limited_transmit_room(const struct tcp_conn *c)
{
    return c->in_recovery || c->dupacks > 2 ? 0 : c->dupacks * c->snd_mss;
}

/* What congestion control counts as in flight for a segment from
 * SND.NXT: with SACK, RFC 6675's pipe, for new data (RFC 6675 5 (C):
 * SACKed data leaves the network); else, and for a resend after a
 * timeout in the shut window case, everything from SND.UNA to SND.NXT. */
static uint32_t congestion_flight(const struct tcp_conn *c, bool retransmission)
{
    return c->sack_on && !retransmission ? tcp_pipe(c) : c->snd_nxt - c->snd_una;
}

/* The sequence space [seq, seq + len) was sent (again): the scoreboard
 * records it, with or without SACK, for the delivery rate (tcp_rate.c). */
static void note_sent(struct tcp_conn *c, uint32_t seq, uint32_t len, uint64_t now)
{
    /* a flight begins: the scoreboard's records, if memory allows
     * (tcp_sack.h); they then cover all of it */
    if (!c->sb.rec && tcp_flight(c) == 0)
        tcp_mem_sb_alloc(c);
    struct tcp_sent_tx tx;
    tcp_rate_sent(c, now, &tx);
    tcp_sb_sent(&c->sb, seq, seq + len, now, &tx);
    if (c->sack_on && c->in_recovery)
        c->prr_out += len;   /* RFC 6937 prr_out */
}

/* A segment goes again, with len bytes of data (Linux's total_retrans
 * and bytes_retrans for TCP_INFO). */
static void count_retransmission(struct tcp_conn *c, uint32_t len)
{
    c->host->stats.retrans_segs++;
    c->stats.total_retrans++;
    c->stats.bytes_retrans += len;
}

/* How a segment from SND.NXT may go: as the windows, Nagle and SWS
 * avoidance allow; overriding the last two (the persist timer); or
 * overriding cwnd too (a tail loss probe). */
enum send_mode { SEND_NORMAL, SEND_FORCE, SEND_PROBE };

/* Sends the next segment from SND.NXT as `mode` allows. */
static bool send_from_snd_nxt(struct tcp_conn *c, enum send_mode mode, uint64_t now)
{
    bool force = mode != SEND_NORMAL;
    uint32_t data_end = tcp_data_end(c);
    if (!tcp_send_pending(c))
        return false;
    uint32_t avail = seq_lt(c->snd_nxt, data_end) ? data_end - c->snd_nxt : 0;
    uint32_t inflight = c->snd_nxt - c->snd_una;
    bool retransmission = seq_lt(c->snd_nxt, c->snd_max);
    uint32_t cong_flight = congestion_flight(c, retransmission);
    /* RFC 3042 with SACK blocks is RFC 6675 5 (C): pipe counts them */
    uint32_t cwnd = c->cwnd + (retransmission || c->sb.sacked ? 0 : limited_transmit_room(c));
    uint32_t cwnd_room = mode == SEND_PROBE ? UINT32_MAX
                         : cwnd > cong_flight ? cwnd - cong_flight : 0;
    uint32_t usable = min_u32(c->snd_wnd > inflight ? c->snd_wnd - inflight : 0, cwnd_room);
    uint32_t mss = tcp_send_mss(c);
    uint32_t len = min_u32(min_u32(avail, usable), mss);
    bool fin = false;

    if (force) {
        fin = len == avail && fin_pending(c);
    } else if (len < avail) {
        /* RFC 9293 3.8.6.2.1 (sender SWS avoidance): a segment shorter
         * than the MSS that the window cut short waits until it is at
         * least half the largest window the peer offered. */
        if (len < mss && (len == 0 || len < c->max_snd_wnd / 2))
            return false;
    } else {
        fin = fin_pending(c);
        /* RFC 9293 3.7.4 (Nagle) in Minshall's variant, as Linux: hold a
         * short new segment only while an earlier short one is
         * unacknowledged, so that the tail of a write longer than the MSS
         * need not wait for the ACK of the full segments before it (which
         * a peer delaying its ACKs holds back). A FIN is not held back
         * (as Linux). */
        if (len < mss && !retransmission && !fin && !c->nodelay &&
            short_segment_unacked(c))
            return false;
        /* TCP_CORK (Linux): a short segment waits to be filled; the
         * persist timer sends it if it waits too long */
        if (c->cork && len < mss && !retransmission && !fin)
            return false;
    }
    if (len == 0 && !fin)
        return false;

    uint8_t flags = TCP_ACK | (fin ? TCP_FIN : 0);
    if (len && c->snd_nxt + len == data_end)
        flags |= TCP_PSH;
    if (mode != SEND_PROBE && !retransmission && cong_flight + len > c->cwnd) /* RFC 3042 */
        c->limited_transmit_bytes += cong_flight + len - max_u32(cong_flight, c->cwnd);
    if (retransmission) {
        count_retransmission(c, len);
        tcp_undo_retransmitted(c, c->snd_nxt, c->snd_nxt + len + (fin ? 1 : 0), now);
    } else {
        /* Linux's CA_EVENT_TX_START: new data with nothing in flight */
        if (len && tcp_flight(c) == 0 && c->cc->tx_start)
            c->cc->tx_start(c, now);
        /* RFC 6298 3 (Karn): time only segments sent for the first time. */
        if (!c->rtt_timing) {
            c->rtt_timing = true;
            c->rtt_seq = c->snd_nxt;
            c->rtt_start = now;
        }
    }
    emit(c, c->snd_nxt, flags, len, now);
    note_sent(c, c->snd_nxt, len + (fin ? 1 : 0), now);
    c->snd_nxt += len + (fin ? 1 : 0);
    if (len < mss && !retransmission) /* Linux's tcp_minshall_update */
        c->snd_sml = c->snd_nxt;
    c->snd_max = seq_max(c->snd_max, c->snd_nxt);
    return true;
}

/* The next segment to send. With SACK, RFC 6675 4 NextSeg: (1) what is
 * deemed lost, (2) new data, then in recovery (3) and (4). */
static bool send_next_segment(struct tcp_conn *c, uint64_t now)
{
    if (!c->sack_on)
        return send_from_snd_nxt(c, SEND_NORMAL, now);
    return tcp_sack_send_lost(c, now) || send_from_snd_nxt(c, SEND_NORMAL, now) ||
           tcp_sack_send_more(c, now);
}

bool tcp_send_new_probe(struct tcp_conn *c, uint64_t now)
{
    return send_from_snd_nxt(c, SEND_PROBE, now);
}

/* Linux's is_rwnd_limited (tcp_write_xmit): with data waiting and room
 * in cwnd, the peer's window does not take the next segment. */
static bool rwnd_limited(const struct tcp_conn *c)
{
    uint32_t data_end = tcp_data_end(c);
    if (!seq_lt(c->snd_nxt, data_end))
        return false;
    uint32_t inflight = c->snd_nxt - c->snd_una;
    uint32_t wnd_room = c->snd_wnd > inflight ? c->snd_wnd - inflight : 0;
    return congestion_flight(c, seq_lt(c->snd_nxt, c->snd_max)) < c->cwnd &&
           wnd_room < min_u32(data_end - c->snd_nxt, c->snd_mss);
}

/* Linux's tcp_cwnd_validate: after sending, whether cwnd was full, and
 * the most in flight, kept for a round trip (from SND.NXT now until
 * SND.UNA passes it) unless cwnd fills or more is in flight sooner. */
static void cwnd_validate(struct tcp_conn *c)
{
    uint32_t flight = congestion_flight(c, false);
    /* cwnd in bytes: full when not another whole segment fits */
    bool full = flight + c->snd_mss > c->cwnd;
    if (!seq_lt(c->snd_una, c->cwnd_usage_seq) || full || flight > c->max_flight) {
        c->max_flight = flight;
        c->cwnd_usage_seq = c->snd_nxt;
        c->is_cwnd_limited = full;
    }
}

bool tcp_cwnd_limited(const struct tcp_conn *c)
{
    /* Linux's tcp_is_cwnd_limited: in slow start, more than half of cwnd
     * used (so that it may double); else cwnd was full in the last round
     * trip */
    if (c->cwnd < c->ssthresh)
        return c->cwnd < 2 * c->max_flight;
    return c->is_cwnd_limited;
}

/* Linux's chronographs around tcp_write_xmit (tcp_chrono.c): busy from
 * the first data to send; limited by the peer's window while it holds
 * data back; limited by the send buffer once all of it went, cwnd not
 * being the limit, while a writer waits for room (tcp_cwnd_validate). */
static void chrono_after_output(struct tcp_conn *c, bool had_data, bool sent, uint64_t now)
{
    if (had_data) {
        tcp_chrono_start(c, TCP_CHRONO_BUSY, now);
        if (rwnd_limited(c))
            tcp_chrono_start(c, TCP_CHRONO_RWND_LIMITED, now);
        else
            tcp_chrono_stop(c, TCP_CHRONO_RWND_LIMITED, now);
    }
    if (sent && !tcp_send_pending(c) && c->snd_nospace && !tcp_cwnd_limited(c) &&
        (c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT))
        tcp_chrono_start(c, TCP_CHRONO_SNDBUF_LIMITED, now);
}

void tcp_output(struct tcp_conn *c, uint64_t now)
{
    bool sent = false;
    if (tcp_synchronized(c) && c->state != TCP_TIME_WAIT) {
        bool had_data = tcp_send_pending(c);
        while (send_next_segment(c, now))
            sent = true;
        if (sent)
            cwnd_validate(c);
        chrono_after_output(c, had_data, sent, now);
    }
    if (!sent && (c->ack_now || c->ack_soon) && tcp_synchronized(c)) {
        if (!c->ack_now && c->host->defer_ack) {
            if (!c->ack_deferred) {
                c->ack_deferred = true;
                c->batch_from = c->stats.data_segs_in - c->segs_unacked;
                c->host->defer_ack(c->host, c);
            }
            if (c->segs_unacked >= c->ack_stride && !c->host->in_super_packet)
                tcp_send_ack(c, now);
        } else {
            tcp_send_ack(c, now);
        }
    }
    tcp_update_rto_timer(c, now, false);
}

/* The end of a batch of received packets. Within a batch the "every second
 * segment" ACKs (RFC 5681 4.2) are folded into fewer, as Linux's receiver
 * does after GRO: a stretch ACK, cheaper for both sides. But not into one:
 * when the batch is the peer's whole flight (a short path, a small window),
 * a lost stretch ACK would leave the sender nothing to clock on but a tail
 * loss probe and our delayed-ACK timer (RFC 2525 2.13 on stretch ACKs). So
 * one ACK covers at most a quarter of the previous batch's segments, and
 * losing one ACK of a flight leaves the others to keep the sender going. */
void tcp_flush_ack(struct tcp_conn *c, uint64_t now)
{
    c->ack_deferred = false;
    c->ack_stride = max_u32((c->stats.data_segs_in - c->batch_from) / 4, TCP_MIN_ACK_STRIDE);
    /* the batch's last ACK covers all of it, an odd segment at its end too */
    if ((c->ack_soon || c->ack_now || c->segs_unacked) && tcp_synchronized(c))
        tcp_send_ack(c, now);
}

/* The SEQ of a segment without data, "SND.NXT" in RFC 9293 3.10.7.4:
 * SND.MAX, the next new octet, since after a timeout SND.NXT has gone back
 * to resend, and an ACK carrying that old number would fail the peer's
 * acceptability test and be dropped with the news it brings (two sides
 * retransmitting at once would deadlock); BSD does the same. But never
 * beyond the right edge of the peer's window: a probe octet sent into a
 * shut window lies there, and with RCV.WND = 0 the peer accepts only
 * SEG.SEQ = RCV.NXT. As Linux (tcp_acceptable_seq), without its allowance
 * for window-scale rounding, which would let the probe octet through. The
 * peer's window starts after our SYN. */
static uint32_t acceptable_seq(const struct tcp_conn *c)
{
    uint32_t right_edge = tcp_data_seq(c) + c->snd_wnd;
    return seq_lt(right_edge, c->snd_max) ? right_edge : c->snd_max;
}

void tcp_send_ack(struct tcp_conn *c, uint64_t now)
{
    /* RFC 9293 3.10.7.4: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
    emit(c, acceptable_seq(c), TCP_ACK, 0, now);
}

void tcp_send_syn(struct tcp_conn *c, uint64_t now)
{
    /* RFC 9293 3.10.1 / 3.10.7.2: <SEQ=ISS><CTL=SYN> or, answering a
     * SYN, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
    uint8_t flags = TCP_SYN | (c->state == TCP_SYN_RECEIVED ? TCP_ACK : 0);
    emit(c, c->iss, flags, 0, now);
}

void tcp_send_rst(struct tcp_conn *c, uint64_t now)
{
    /* RFC 9293 3.10.5: <SEQ=SND.NXT><CTL=RST>; with our ACK, as Linux.
     * The SEQ of acceptable_seq: RFC 5961 3.2 makes the peer accept a
     * RST only at exactly its RCV.NXT. */
    emit(c, acceptable_seq(c), TCP_RST | TCP_ACK, 0, now);
}

void tcp_send_probe(struct tcp_conn *c, uint64_t now)
{
    /* An already-acknowledged sequence number: the peer's acceptability
     * test fails and it answers with an ACK carrying its window. */
    emit(c, c->snd_una - 1, TCP_ACK, 0, now);
}

/* RFC 5961 7 leaves the challenge-ACK limit to the implementation. A
 * budget shared by all connections is a side channel (CVE-2016-5696: an
 * off-path attacker drains it through its own connection and learns how
 * many challenge ACKs its spoofed segments drew from another), so each
 * connection has its own, refilled every second. As Linux's
 * tcp_send_challenge_ack, the refill is drawn uniformly from
 * [ceil(limit / 2), ceil(limit / 2) + limit): `limit` on average, but
 * not a count an observer can rely on (a limit of 1 gives exactly 1 a
 * second; 0, none). */
static bool challenge_ack_allowed(struct tcp_conn *c, uint64_t now)
{
    uint32_t limit = c->host->cfg->challenge_ack_limit;
    if (now >= c->challenge_until) {
        c->challenge_until = now + USEC_PER_SEC;
        c->challenge_acks_left =
            limit ? (uint64_t)(limit - limit / 2) + rng_next(&c->challenge_rng) % limit : 0;
    }
    if (c->challenge_acks_left == 0)
        return false;
    c->challenge_acks_left--;
    return true;
}

void tcp_send_challenge_ack(struct tcp_conn *c, uint64_t now)
{
    struct tcp_host *h = c->host;
    if (!challenge_ack_allowed(c, now)) {
        h->stats.challenge_acks_suppressed++;
        return;
    }
    h->stats.challenge_acks++;
    tcp_send_ack(c, now);
}

void tcp_note_retransmit(struct tcp_conn *c, uint64_t now)
{
    c->rtt_timing = false; /* RFC 6298 3 (Karn) */
    c->rexmit_tsval = tcp_ts_now(c, now);
}

uint32_t tcp_retransmit_at(struct tcp_conn *c, uint32_t seq, uint32_t end, uint64_t now)
{
    /* What was sent of it, no more: beyond SND.MAX lies new data, which
     * only send_from_snd_nxt sends (windows checked, SND.MAX moved). An
     * ACK in the middle of a segment leaves less than an MSS of it. */
    uint32_t data_end = tcp_data_end(c);
    uint32_t sent_end = seq_min(seq_min(data_end, c->snd_max), end);
    uint32_t len = seq_lt(seq, sent_end) ? min_u32(sent_end - seq, c->snd_mss) : 0;
    bool fin = tcp_fin_sent(c) && seq + len == data_end && seq_gt(end, data_end);
    if (!len && !fin)
        return 0;
    tcp_note_retransmit(c, now);
    count_retransmission(c, len);
    tcp_undo_retransmitted(c, seq, seq + len + (fin ? 1 : 0), now);
    emit(c, seq, TCP_ACK | (fin ? TCP_FIN : 0), len, now);
    note_sent(c, seq, len + (fin ? 1 : 0), now);
    return len + (fin ? 1 : 0);
}

void tcp_reply_reset(struct tcp_host *h, const struct tcp_endpoints *ep,
                     const struct tcp_segment *in)
{
    /* RFC 9293 3.10.7.1: an incoming RST is discarded. */
    if (in->flags & TCP_RST)
        return;
    struct tcp_segment seg = { .sport = ep->lport, .dport = ep->rport };
    if (in->flags & TCP_ACK) {
        /* <SEQ=SEG.ACK><CTL=RST> */
        seg.seq = in->ack;
        seg.flags = TCP_RST;
    } else {
        /* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counted */
        seg.ack = in->seq + in->len + !!(in->flags & TCP_SYN) +
                  !!(in->flags & TCP_FIN);
        seg.flags = TCP_RST | TCP_ACK;
    }
    h->stats.segs_out++;
    h->stats.rst_out++;
    h->emit(h, ep, &seg, NULL);
}

void tcp_send_window_probe(struct tcp_conn *c, uint64_t now)
{
    if (c->snd_wnd > 0) {
        /* RFC 1122 4.2.3.4: the override timeout sends what fits */
        send_from_snd_nxt(c, SEND_FORCE, now);
        return;
    }
    if (!seq_lt(c->snd_una, tcp_data_end(c))) {
        tcp_send_probe(c, now);
        return;
    }
    /* RFC 9293 3.8.6.1: one octet of new data (resent while the window
     * stays shut). */
    c->host->stats.zero_window_probes++;
    emit(c, c->snd_una, TCP_ACK, 1, now);
    note_sent(c, c->snd_una, 1, now);
    if (c->snd_nxt == c->snd_una) {
        c->snd_nxt++;
        c->snd_max = seq_max(c->snd_max, c->snd_nxt);
    }
}
