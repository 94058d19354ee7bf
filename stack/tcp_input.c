/* SEGMENT ARRIVES (RFC 9293 3.10.7), state by state, step by step. The
 * ACK field is handled in tcp_ack.c. */
#include <errno.h>

#include "tcp_internal.h"

#define OOW_ACK_INTERVAL_US (500 * USEC_PER_MSEC) /* Linux's tcp_invalid_ratelimit */

static uint32_t seg_len(const struct tcp_segment *s)
{
    return s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
}

void tcp_take_syn(struct tcp_conn *c, const struct tcp_segment *seg, uint64_t now)
{
    /* RFC 9293 3.10.7.2 third: RCV.NXT = SEG.SEQ+1, IRS = SEG.SEQ,
     * SYN-RECEIVED */
    c->passive = true;
    c->host->stats.passive_opens++;
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    tcp_syn_options(c, seg, now);
    /* RFC 7323 2.2: the window of a SYN is not scaled */
    c->snd_wnd = c->max_snd_wnd = seg->wnd;
    c->snd_wl1 = seg->seq;
    tcp_set_state(c, TCP_SYN_RECEIVED);
}

static void input_listen(struct tcp_conn *c, const struct tcp_segment *seg,
                         uint64_t now)
{
    /* RFC 9293 3.10.7.2 first: an incoming RST is ignored. */
    if (seg->flags & TCP_RST) {
        tcp_done(c, 0);
        return;
    }
    /* second: an ACK is bad: <SEQ=SEG.ACK><CTL=RST> */
    if (seg->flags & TCP_ACK) {
        tcp_reply_reset(c->host, &c->ep, seg);
        tcp_done(c, 0);
        return;
    }
    /* fourth: other text or control: drop */
    if (!(seg->flags & TCP_SYN)) {
        tcp_done(c, 0);
        return;
    }
    /* third: SYN. Send <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>, SND.NXT =
     * ISS+1, SND.UNA = ISS. Data in the SYN is not acknowledged, so the
     * peer sends it again. */
    tcp_take_syn(c, seg, now);
    tcp_send_syn(c, now);
    c->rtt_timing = true;
    c->rtt_seq = c->iss;
    c->rtt_start = now;
    c->rto_at = now + c->rto_us;
}

static void input_syn_sent(struct tcp_conn *c, const struct tcp_segment *seg,
                           uint64_t now)
{
    bool ack = seg->flags & TCP_ACK;
    /* RFC 9293 3.10.7.3 first: SEG.ACK =< ISS or SEG.ACK > SND.NXT is
     * unacceptable: <SEQ=SEG.ACK><CTL=RST> unless it is a RST. */
    if (ack && (seq_le(seg->ack, c->iss) || seq_gt(seg->ack, c->snd_max))) {
        tcp_reply_reset(c->host, &c->ep, seg);
        return;
    }
    /* second: a RST with an acceptable ACK refuses the connection; one
     * without an ACK is dropped (RFC 5961 3.2 leaves SYN-SENT as is). */
    if (seg->flags & TCP_RST) {
        if (ack) {
            c->host->stats.resets_in++;
            tcp_done(c, ECONNREFUSED);
        }
        return;
    }
    /* fourth: neither SYN nor RST: drop */
    if (!(seg->flags & TCP_SYN))
        return;
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_offered = c->rcv_nxt; /* our SYN's window was relative to nothing */
    tcp_syn_options(c, seg, now);
    c->snd_wnd = c->max_snd_wnd = seg->wnd; /* RFC 7323 2.2: unscaled */
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (ack) {
        /* Our SYN is acknowledged: ESTABLISHED, send
         * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. Text in the SYN-ACK is
         * not acknowledged and comes again. */
        tcp_ack_syn_sent(c, now);
        c->ack_now = true;
        return;
    }
    /* Simultaneous open: SYN-RECEIVED, <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
    tcp_set_state(c, TCP_SYN_RECEIVED);
    tcp_send_syn(c, now);
}

static void process_fin(struct tcp_conn *c, uint64_t now)
{
    /* RFC 9293 3.10.7.4 eighth: advance RCV.NXT over the FIN, ACK it,
     * signal end of data to the user. */
    c->rcv_nxt++;
    c->stats.bytes_received++;  /* as Linux, which counts the FIN */
    c->fin_received = true;
    c->ooo_fin = false;
    c->ack_now = true;
    tcp_mem_release_idle(c);   /* nothing more comes */
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
        tcp_set_state(c, TCP_CLOSE_WAIT);
        break;
    case TCP_FIN_WAIT_1:
        /* Our FIN is not acknowledged yet (tcp_ack_input would have
         * moved us to FIN-WAIT-2): CLOSING. */
        tcp_set_state(c, TCP_CLOSING);
        break;
    case TCP_FIN_WAIT_2:
        tcp_enter_time_wait(c, now);
        break;
    default:
        break;
    }
}

/* RFC 9293 3.10.7.4 eighth: the peer's FIN, at fin_seq. Processed when
 * everything before it has arrived; until then remembered, with its
 * sequence number, as Linux keeps the FIN on its out-of-order segment.
 * Either way it is ACKed at once: in order it is new, out of order the
 * ACK is a duplicate (RFC 5681 4.2).
 * Hostile input: the first FIN wins. A FIN at another sequence than the
 * remembered one, or one with text already held beyond it, is ignored, and
 * no text is taken beyond a remembered FIN (receive_text), so neither a
 * retransmission over the FIN nor a conflicting FIN can move the end of
 * the stream. Close to Linux, whose out-of-order queue drops a segment
 * whose sequence space it already holds, and whose tcp_fin discards
 * whatever lies beyond the FIN. */
static void take_fin(struct tcp_conn *c, uint32_t fin_seq, uint64_t now)
{
    c->ack_now = true;
    if ((c->ooo_fin && fin_seq != c->ooo_fin_seq) ||
        seq_lt(fin_seq, c->rcv_nxt) || reass_holds_beyond(&c->reass, fin_seq))
        return;
    if (fin_seq == c->rcv_nxt) {
        process_fin(c, now);
        return;
    }
    c->ooo_fin = true;
    c->ooo_fin_seq = fin_seq;
}

/* RFC 9293 3.10.7.4 seventh: place the text in the receive buffer, in
 * order or at its place beyond a gap; `segs`: the segments it stands for
 * (tcp_input_coalesced). Returns true if the segment's last byte was kept
 * (so a FIN after it counts). */
static bool receive_text(struct tcp_conn *c, const struct tcp_segment *s, unsigned segs,
                         uint64_t now)
{
    uint32_t seq = s->seq, len = s->len;
    const uint8_t *data = s->data;
    struct ring *r = &c->rcvbuf;

    tcp_sack_note_text(c, seq, seq + len);
    if (seq_lt(seq, c->rcv_nxt)) {          /* already received */
        uint32_t skip = c->rcv_nxt - seq;
        if (skip >= len) {
            c->ack_now = true;
            tcp_enter_quickack_mode(c);
            return true;
        }
        seq += skip;
        data += skip;
        len -= skip;
    }
    /* Keep what fits in the window we offered and in the buffer, and
     * nothing beyond a FIN already received: the stream ends there (see
     * take_fin). */
    uint32_t room = min_u32(tcp_rcv_window_offered(c), ring_space(r));
    if (c->ooo_fin)
        room = min_u32(room, c->ooo_fin_seq - c->rcv_nxt);
    uint32_t offset = seq - c->rcv_nxt;
    bool whole = true;
    if (offset >= room) {
        c->ack_now = true;
        return false;
    }
    if (len > room - offset) {
        len = room - offset;
        whole = false;
    }
    /* and in the memory the ring may have (tcp_mem.c): what does not fit
     * is dropped, for the peer to send again */
    tcp_mem_reserve(c, r, r->len + offset + len,
                    offset ? TCP_MEM_OUT_OF_ORDER : TCP_MEM_IN_ORDER);
    uint32_t fits = ring_room(r) > offset ? ring_room(r) - offset : 0;
    if (len > fits) {
        c->host->stats.mem_drops++;
        c->ack_now = true;
        if (!fits)
            return false;
        len = fits;
        whole = false;
    }
    ring_write_at(r, offset, data, len);
    if (offset == 0) {
        c->last_data_recv_at = now;
        bool filled_gap = !reass_empty(&c->reass);
        uint32_t end = reass_advance(&c->reass, c->rcv_nxt + len);
        ring_commit(r, end - c->rcv_nxt);
        c->stats.bytes_received += end - c->rcv_nxt;
        c->rcv_nxt = end;
        tcp_rcvbuf_data_in(c, now);
        /* RFC 5681 4.2: ACK at once a segment that fills a gap; RFC 9293
         * 3.8.6.3: else at least every second segment (those of a
         * super-packet counted one by one), or on a timer. */
        if (filled_gap)
            c->ack_now = true;
        else if (c->quickacks) {      /* TCP_QUICKACK */
            c->quickacks--;
            c->ack_now = true;
        } else if ((c->segs_unacked += segs) >= 2)
            c->ack_soon = true;
        else
            tcp_arm_delack(c, now);
    } else {
        if (reass_add(&c->reass, seq, seq + len)) {
            c->host->stats.ooo_segs++;
            tcp_sack_note_held(c, seq);
        } else {
            c->host->stats.ooo_dropped++;
            whole = false;
        }
        /* RFC 5681 4.2: out-of-order data is ACKed at once */
        c->ack_now = true;
    }
    return whole;
}

/* RFC 9293 3.10.7.4 first and RFC 7323 5.3 R1: an unacceptable segment
 * is answered with an ACK. As Linux (tcp_oow_rate_limited), one that
 * occupies no sequence space goes unanswered within 500 ms of the last
 * such answer: two sides that refuse each other's ACKs would otherwise
 * answer each other for ever (an ACK war, or the ACK storm an attacker
 * sets off by injecting data both ways). A segment with text, SYN or FIN
 * is no part of such a loop and is always answered: the ACK tells its
 * sender what arrived. */
static void answer_unacceptable(struct tcp_conn *c, const struct tcp_segment *s,
                                uint64_t now)
{
    if (seg_len(s) == 0) {
        if (c->oow_ack_at && now - c->oow_ack_at < OOW_ACK_INTERVAL_US) {
            c->host->stats.oow_acks_suppressed++;
            return;
        }
        c->oow_ack_at = now;
    } else {
        tcp_sack_note_text(c, s->seq, s->seq + s->len);
        tcp_enter_quickack_mode(c);
    }
    tcp_send_ack(c, now);
}

/* RFC 7323 5.3 R1 (PAWS): true if the segment must be dropped. */
static bool paws_reject(struct tcp_conn *c, const struct tcp_segment *s,
                        uint64_t now)
{
    if (!c->ts_on || (s->flags & TCP_RST))
        return false;
    /* RFC 7323 3.2: a non-RST segment without timestamps is dropped once
     * they are in use. */
    if (!s->opt.has_ts)
        return true;
    /* R1: TSval older than TS.Recent, unless TS.Recent is stale (5.5). */
    if (seq_lt(s->opt.ts_val, c->ts_recent) && !tcp_ts_recent_stale(c, now)) {
        c->host->stats.paws_drops++;
        answer_unacceptable(c, s, now);
        return true;
    }
    return false;
}

/* RFC 9293 3.10.7.4 first: the acceptability test. */
static bool acceptable(const struct tcp_conn *c, const struct tcp_segment *s)
{
    uint32_t len = seg_len(s);
    uint32_t wnd = tcp_rcv_window_offered(c);
    /* Without text: RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND, or SEG.SEQ =
     * RCV.NXT when the window is shut. As Linux (tcp_sequence) and BSD,
     * also SEG.SEQ = RCV.NXT+RCV.WND: a peer that filled our window sends
     * its ACKs from there (SND.NXT) until that data arrives, as we do
     * (tcp_acceptable_seq). Refused, such an ACK is answered and its news
     * lost; two sides whose windows are both filled by data lost both ways
     * then answer each other's ACKs for ever (an ACK war). */
    if (len == 0)
        return seq_in(s->seq, c->rcv_nxt, c->rcv_nxt + wnd + 1);
    /* With text: as Linux, whose test is on the segment's end, also the
     * last octets again, ending at RCV.NXT. Their ACK may be news: a probe
     * octet resent into a window that took it carries the ACK that two
     * sides probing each other's windows refuse each other otherwise. */
    if (s->seq + len == c->rcv_nxt)
        return true;
    if (wnd == 0)
        /* "special allowance should be made to accept valid ACKs, URGs
         * and RSTs": the segment at RCV.NXT is processed, its text
         * trimmed away (a FIN needs no room and is kept, as Linux). */
        return s->seq == c->rcv_nxt;
    return seq_in(s->seq, c->rcv_nxt, c->rcv_nxt + wnd) ||
           seq_in(s->seq + len - 1, c->rcv_nxt, c->rcv_nxt + wnd);
}

static void input_rst(struct tcp_conn *c, const struct tcp_segment *s,
                      uint64_t now)
{
    /* RFC 5961 3.2: only a RST at exactly RCV.NXT resets; one elsewhere
     * in the window gets a challenge ACK. */
    if (s->seq != c->rcv_nxt) {
        tcp_send_challenge_ack(c, now);
        return;
    }
    c->host->stats.resets_in++;
    switch (c->state) {
    case TCP_SYN_RECEIVED:
        /* RFC 9293 3.10.7.4 second: passive open returns to LISTEN (the
         * stack drops this half-open connection); active open is refused. */
        tcp_done(c, c->passive ? 0 : ECONNREFUSED);
        break;
    case TCP_CLOSE_WAIT:
        /* Linux reports EPIPE once we had the peer's FIN. */
        tcp_done(c, EPIPE);
        break;
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
        tcp_done(c, ECONNRESET);
        break;
    default: /* CLOSING, LAST-ACK, TIME-WAIT */
        tcp_done(c, 0);
        break;
    }
}

/* `segs`: the segments seg stands for (tcp_input_coalesced), else 1. */
static void input_synchronized(struct tcp_conn *c, const struct tcp_segment *seg,
                               unsigned segs, uint64_t now)
{
    struct tcp_segment s = *seg;

    if (c->state == TCP_SYN_RECEIVED && (s.flags & TCP_SYN) && s.seq == c->irs) {
        if (!(s.flags & TCP_ACK)) {
            /* The peer's SYN again: our SYN-ACK was lost; resend it. */
            tcp_send_syn(c, now);
            return;
        }
        /* Simultaneous open: the peer's SYN-ACK acknowledges our SYN; its
         * SYN we already have. */
        s.flags &= (uint8_t)~TCP_SYN;
        s.seq++;
    }
    if (paws_reject(c, &s, now))
        return;
    if (!acceptable(c, &s)) {
        /* RFC 9293 3.10.7.4 first: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>
         * unless RST, then drop. */
        c->host->stats.unacceptable_segs++;
        if (!(s.flags & TCP_RST))
            answer_unacceptable(c, &s, now);
        /* RFC 9293 3.10.7.4 eighth, TIME-WAIT: "The only thing that can
         * arrive in this state is a retransmission of the remote FIN.
         * Acknowledge it, and restart the 2 MSL timeout." It lies below
         * RCV.NXT, so it fails the test above: restart here (as Linux's
         * tcp_timewait_state_process does). */
        if (c->state == TCP_TIME_WAIT && (s.flags & TCP_FIN) && !(s.flags & TCP_RST))
            tcp_enter_time_wait(c, now);
        return;
    }
    /* second: RST */
    if (s.flags & TCP_RST) {
        input_rst(c, &s, now);
        return;
    }
    /* third (security) does not apply: no IP security compartments. */
    /* fourth: RFC 5961 4.2: a SYN in a synchronized state is answered
     * with a challenge ACK and dropped, whatever its sequence number. */
    if (s.flags & TCP_SYN) {
        tcp_send_challenge_ack(c, now);
        return;
    }
    /* fifth: no ACK, drop */
    if (!(s.flags & TCP_ACK))
        return;
    if (!tcp_ack_input(c, &s, now))
        return;
    /* sixth: URG is not supported; urgent data is delivered in line
     * (RFC 6093 advises new applications not to use it). */

    /* RFC 1122 4.2.2.13: "if new data is received after CLOSE is called,
     * its TCP SHOULD send a RST to show that data was lost." As Linux
     * (TCPAbortOnData), in FIN-WAIT-1 and -2 for text beyond RCV.NXT: it
     * answers the segment as 3.10.7.1 would and drops the connection. */
    if (c->user_closed && (c->state == TCP_FIN_WAIT_1 || c->state == TCP_FIN_WAIT_2) &&
        s.len && seq_gt(s.seq + s.len, c->rcv_nxt)) {
        c->host->stats.aborts_on_data++;
        tcp_reply_reset(c->host, &c->ep, &s);
        tcp_done(c, 0);
        return;
    }
    /* seventh: text, in the states that still receive */
    bool text_ok = c->state == TCP_ESTABLISHED || c->state == TCP_FIN_WAIT_1 ||
                   c->state == TCP_FIN_WAIT_2;
    bool fin_kept = true;
    if (s.len) {
        if (text_ok)
            fin_kept = receive_text(c, &s, segs, now);
        else {
            c->ack_now = true; /* after the peer's FIN: not new */
            tcp_sack_note_text(c, s.seq, s.seq + s.len);
        }
    }

    /* eighth: FIN, processed when everything before it has arrived */
    if ((s.flags & TCP_FIN) && text_ok && fin_kept) {
        take_fin(c, s.seq + s.len, now);
    } else if (s.flags & TCP_FIN) {
        /* A retransmitted FIN: ACK it; TIME-WAIT restarts 2 MSL. */
        c->ack_now = true;
        if (c->state == TCP_TIME_WAIT)
            tcp_enter_time_wait(c, now);
    }
    if (c->ooo_fin && c->ooo_fin_seq == c->rcv_nxt && text_ok)
        process_fin(c, now);
}

void tcp_input(struct tcp_conn *c, const struct tcp_segment *seg, uint64_t now)
{
    if (c->state != TCP_CLOSED) {
        /* every segment that reaches the connection (Linux's tcp_segs_in) */
        c->stats.segs_in++;
        if (seg->len)
            c->stats.data_segs_in++;
    }
    switch (c->state) {
    case TCP_CLOSED:
        /* RFC 9293 3.10.7.1 */
        tcp_reply_reset(c->host, &c->ep, seg);
        return;
    case TCP_LISTEN:
        input_listen(c, seg, now);
        return;
    case TCP_SYN_SENT:
        input_syn_sent(c, seg, now);
        break;
    default:
        input_synchronized(c, seg, 1, now);
        break;
    }
    if (c->state != TCP_CLOSED)
        tcp_output(c, now);
}

/* Whether taking super-packet seg whole is the same as taking its
 * segments one by one (tcp_input_coalesced). Each of them would be:
 * - acceptable and kept whole (RFC 9293 3.10.7.4 first and seventh): in
 *   order (SEG.SEQ = RCV.NXT), all within RCV.WND and the buffer, with
 *   nothing held beyond a gap (so none fills one: RFC 5681 4.2 ACKs that
 *   at once) and no FIN remembered out of order;
 * - past PAWS alike (RFC 7323 5.3 R1: the segments share the TSval; one
 *   older than TS.Recent, or a stale TS.Recent, goes the long way);
 * - of no news as an ACK: SEG.ACK = SND.UNA = SND.MAX with nothing to
 *   send, no SACK blocks, no ECN, URG, SYN or RST (so tcp_output after
 *   each could only ACK, and a piggybacked ACK cannot split them), and
 *   SND.WL1 =< SEG.SEQ (each updates the window in turn: SND.WL1 ends at
 *   the last one's SEQ);
 * - ACKed together: not in TCP_QUICKACK mode, ACKs deferred to the end
 *   of the batch (host->defer_ack), so "every second segment" and the
 *   stretch-ACK stride give no ACK inside the super-packet either way
 *   (cut up, host->in_super_packet holds the stride back). */
static bool takes_whole(const struct tcp_conn *c, const struct tcp_segment *s, uint64_t now)
{
    if (c->state != TCP_ESTABLISHED || !c->host->defer_ack || c->quickacks ||
        s->seq != c->rcv_nxt || (s->flags & (uint8_t)~(TCP_PSH | TCP_FIN)) != TCP_ACK ||
        s->ack != c->snd_una || c->snd_una != c->snd_max || c->sndbuf.len || c->persist ||
        s->opt.sack_count || seq_gt(c->snd_wl1, s->seq) || !reass_empty(&c->reass) ||
        c->ooo_fin)
        return false;
    if (c->ts_on && (!s->opt.has_ts || seq_lt(s->opt.ts_val, c->ts_recent) ||
                     tcp_ts_recent_stale(c, now)))
        return false;
    return s->len <= min_u32(tcp_rcv_window_offered(c), ring_space(&c->rcvbuf));
}

bool tcp_input_coalesced(struct tcp_conn *c, const struct tcp_segment *seg, unsigned segs,
                         uint32_t seg_size, uint64_t now)
{
    if (segs < 2 || !takes_whole(c, seg, now))
        return false;
    /* the memory it needs (tcp_mem.c), or the long way, which takes
     * what fits segment by segment */
    struct ring *r = &c->rcvbuf;
    tcp_mem_reserve(c, r, r->len + seg->len, TCP_MEM_IN_ORDER);
    if (ring_room(r) < seg->len)
        return false;
    c->stats.segs_in += segs;
    c->stats.data_segs_in += segs;
    input_synchronized(c, seg, segs, now);
    /* RFC 9293 3.10.7.4 fifth: the window as the last segment leaves it */
    if (c->snd_wl1 == seg->seq)
        c->snd_wl1 = seg->seq + (segs - 1) * seg_size;
    if (c->state != TCP_CLOSED)
        tcp_output(c, now);
    return true;
}
