/* Shared between the tcp_*.c files; not part of the tcp layer's API. */
#ifndef TUNTCP_TCP_INTERNAL_H
#define TUNTCP_TCP_INTERNAL_H

#include "tcp.h"

#define USEC_PER_MSEC 1000ull
#define TCP_MAX_QUICKACKS 16    /* Linux */
#define TCP_INIT_CWND 10        /* RFC 6928: segments */
#define TCP_MIN_ACK_STRIDE 2   /* RFC 5681 4.2: an ACK for at least every second segment */
#define USEC_PER_SEC 1000000ull
#define TCP_DEFAULT_MSS 536      /* RFC 9293 3.7.1: MSS when none is sent */
#define TCP_TS_OPT_LEN 12        /* timestamps with their two NOPs */

static inline uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static inline uint64_t min_u64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Our SYN is unacknowledged only in these states (CLOSE in SYN-RECEIVED
 * is deferred until ESTABLISHED, see tcp_user.c). */
static inline bool tcp_syn_unacked(const struct tcp_conn *c)
{
    return c->state == TCP_SYN_SENT || c->state == TCP_SYN_RECEIVED;
}
/* Sequence number of the first byte in sndbuf. */
static inline uint32_t tcp_data_seq(const struct tcp_conn *c)
{
    return c->snd_una + (tcp_syn_unacked(c) ? 1 : 0);
}
/* One past the last byte the user queued: where a FIN would go. */
static inline uint32_t tcp_data_end(const struct tcp_conn *c)
{
    return tcp_data_seq(c) + c->sndbuf.len;
}
/* Tells the host (tcp_host.sndbuf_release) that the send buffer's bytes
 * before `upto` go, or with SND.MAX that the buffer moves or is freed. */
static inline void tcp_sndbuf_release(const struct tcp_conn *c, uint32_t upto)
{
    if (c->host->sndbuf_release)
        c->host->sndbuf_release(c->host, c, upto);
}
static inline bool tcp_fin_sent(const struct tcp_conn *c)
{
    return c->fin_queued && seq_gt(c->snd_max, c->fin_seq);
}
static inline bool tcp_fin_acked(const struct tcp_conn *c)
{
    return c->fin_queued && seq_gt(c->snd_una, c->fin_seq);
}
static inline uint32_t tcp_flight(const struct tcp_conn *c)
{
    return c->snd_max - c->snd_una;
}
static inline bool tcp_synchronized(const struct tcp_conn *c)
{
    return c->state >= TCP_ESTABLISHED;
}
/* What is left of the window we advertised: RCV.ADV - RCV.NXT. */
static inline uint32_t tcp_rcv_window(const struct tcp_conn *c)
{
    return seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
}
/* The window the peer was offered: the recorded one, or as far as one
 * rounded up to our scale reached (advertise_window sends that without
 * recording it, as Linux; tcp_rcv_space keeps room for it). What the peer
 * may send, and where its ACKs may come from. */
static inline uint32_t tcp_rcv_window_offered(const struct tcp_conn *c)
{
    return seq_gt(c->rcv_offered, c->rcv_nxt) ? c->rcv_offered - c->rcv_nxt : 0;
}
/* The MSS we announce and the most we send: the link's, or less if the
 * user asked (TCP_MAXSEG). */
static inline uint32_t tcp_own_mss(const struct tcp_conn *c)
{
    uint32_t m = c->host->cfg->mss;
    return c->mss_clamp && c->mss_clamp < m ? c->mss_clamp : m;
}
/* RFC 7323 5.5: after 24 days idle TS.Recent is invalid: PAWS takes
 * any TSval, and the next segment kept replaces it. */
#define PAWS_IDLE_LIMIT_US (24ull * 24 * 3600 * USEC_PER_SEC)
static inline bool tcp_ts_recent_stale(const struct tcp_conn *c, uint64_t now)
{
    return now - c->ts_recent_at >= PAWS_IDLE_LIMIT_US;
}
static inline uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now)
{
    return (uint32_t)(now / USEC_PER_MSEC) + c->ts_offset;
}

/* tcp_conn.c */
void tcp_set_state(struct tcp_conn *c, enum tcp_state s);
/* Ends the connection: CLOSED, timers off, `err` (if nonzero) pending. */
void tcp_done(struct tcp_conn *c, int err);
/* The ESTABLISHED bookkeeping common to both opens. */
void tcp_established(struct tcp_conn *c, uint64_t now);
/* Applies the options of the peer's SYN (RFC 9293 3.7.1, RFC 7323). */
/* tcp_input.c: a SYN taken in LISTEN (RFC 9293 3.10.7.2 third), short
 * of sending the SYN-ACK. */
void tcp_take_syn(struct tcp_conn *c, const struct tcp_segment *seg, uint64_t now);
void tcp_syn_options(struct tcp_conn *c, const struct tcp_segment *seg,
                     uint64_t now);
/* The window shift our SYN offers: enough to advertise all of rcvbuf. */
uint8_t tcp_offered_wscale(const struct tcp_conn *c);

/* tcp_output.c */
void tcp_output(struct tcp_conn *c, uint64_t now);
void tcp_send_ack(struct tcp_conn *c, uint64_t now);
void tcp_send_syn(struct tcp_conn *c, uint64_t now);
void tcp_send_rst(struct tcp_conn *c, uint64_t now);
/* RFC 5961 7: an ACK in answer to a suspicious segment, rate-limited. */
void tcp_send_challenge_ack(struct tcp_conn *c, uint64_t now);
/* A retransmission is under way: no Karn sample, and timestamps echoed
 * from before it are stale. */
void tcp_note_retransmit(struct tcp_conn *c, uint64_t now);
/* Resends what was sent from `seq` on: up to an MSS, not beyond `end`
 * or SND.MAX, with the FIN if it reaches it. Returns the sequence space
 * resent. */
uint32_t tcp_retransmit_at(struct tcp_conn *c, uint32_t seq, uint32_t end, uint64_t now);
/* Resends the first unacknowledged segment. */
static inline void tcp_retransmit_first(struct tcp_conn *c, uint64_t now)
{
    tcp_retransmit_at(c, c->snd_una, c->snd_max, now);
}
/* A segment at SND.UNA - 1 that the peer must answer with an ACK:
 * keepalive (RFC 9293 3.8.4) and zero-window probes. */
void tcp_send_probe(struct tcp_conn *c, uint64_t now);
/* RFC 9293 3.8.6.1: a zero-window probe carrying one octet of new data
 * (or a plain probe when only a FIN waits). */
void tcp_send_window_probe(struct tcp_conn *c, uint64_t now);
/* RFC 8985 7.3: one new segment as a loss probe, whatever cwnd says, if
 * the peer's window lets it go; false if none was sent. */
bool tcp_send_new_probe(struct tcp_conn *c, uint64_t now);
/* Whether cwnd limited sending lately (Linux's tcp_is_cwnd_limited):
 * if not, it must not grow (RFC 9438 4.6, RFC 7661). */
bool tcp_cwnd_limited(const struct tcp_conn *c);
/* Data the user queued that was never sent (or a FIN still to send). */
bool tcp_send_pending(const struct tcp_conn *c);

/* tcp_ack.c */
/* RFC 9293 3.10.7.4 fifth: the ACK field of an acceptable segment in a
 * synchronized state; an acceptable ACK also updates TS.Recent (RFC 7323
 * 4.3). Returns false if the segment must be dropped. */
bool tcp_ack_input(struct tcp_conn *c, const struct tcp_segment *seg,
                   uint64_t now);

/* RFC 9293 3.10.7.3: a SYN-ACK acknowledged our SYN in SYN-SENT. */
void tcp_ack_syn_sent(struct tcp_conn *c, uint64_t now);
/* Fast recovery begins (NewReno's or RFC 6675's): RecoveryPoint, the
 * reduced ssthresh, an episode that may be undone; the caller resends. */
void tcp_begin_fast_recovery(struct tcp_conn *c);

/* tcp_recovery.c: SACK-based loss recovery, when sack_on. */
/* RFC 6675 SetPipe: the bytes deemed in flight. */
uint32_t tcp_pipe(const struct tcp_conn *c);
/* The cumulative ACK of an acceptable ACK, and its SACK blocks when
 * sack_on, onto the scoreboard, before SND.UNA moves; the ACK's delivery
 * rate sample; returns RFC 6937's DeliveredData. */
uint32_t tcp_scoreboard_update(struct tcp_conn *c, const struct tcp_segment *seg, uint64_t now);
/* Then, once the ACK was processed (or the RACK reordering timer
 * expired, with `delivered` one MSS as Linux): losses marked, recovery
 * entered or left, cwnd set by PRR. */
void tcp_sack_recovery(struct tcp_conn *c, uint32_t delivered, bool una_advanced,
                       uint64_t now);
/* RFC 6675 NextSeg rule (1), and rules (3) and (4): true if a segment
 * was resent. */
bool tcp_sack_send_lost(struct tcp_conn *c, uint64_t now);
bool tcp_sack_send_more(struct tcp_conn *c, uint64_t now);
/* An RTO (RFC 6675 5.1): what is not SACKed is to be resent. */
void tcp_sack_on_rto(struct tcp_conn *c);


/* tcp_rack.c: RFC 8985 RACK-TLP, when sack_on and configured. */
bool tcp_rack_on(const struct tcp_conn *c);
/* A piece of the scoreboard newly delivered by `seg`: its round trip
 * into min_rtt_us if it measures one (6.2 step 1). Before the others. */
void tcp_min_rtt_delivered(struct tcp_conn *c, const struct tcp_sent *piece,
                           const struct tcp_segment *seg, uint64_t now);
/* A piece of the scoreboard newly delivered by `seg` (6.2 steps 1-3);
 * true if it was delivered out of order (reordering seen). */
bool tcp_rack_delivered(struct tcp_conn *c, const struct tcp_sent *piece,
                        const struct tcp_segment *seg, uint64_t now);
/* 6.2 step 4: the ACK did (or did not) carry a D-SACK. */
void tcp_rack_dsack(struct tcp_conn *c, bool dsack);
/* A fast or RTO recovery ended (6.2 step 4). */
void tcp_rack_recovery_ended(struct tcp_conn *c);
/* 6.2 step 5; arms the reordering timer. Returns segments newly lost. */
unsigned tcp_rack_detect_loss(struct tcp_conn *c, uint64_t now);
void tcp_rack_reo_timeout(struct tcp_conn *c, uint64_t now);
/* 7.2: (re)arms or stops the probe timeout, after the RTO timer. */
void tcp_tlp_arm(struct tcp_conn *c, uint64_t now, bool restart);
void tcp_tlp_timeout(struct tcp_conn *c, uint64_t now);
/* 7.4: an ACK, and the right edge of its D-SACK block if it has one. */
void tcp_tlp_ack(struct tcp_conn *c, const struct tcp_segment *seg, bool dsack,
                 uint32_t dsack_end);

/* tcp_rate.c: delivery rate estimation. */
/* What one ACK delivered, for its rate sample (Linux's struct rate_sample). */
struct tcp_rate_sample {
    bool taken;                 /* a segment was delivered: the rest is set */
    uint64_t xmit_us;           /* the newest one's send time */
    uint32_t end_seq;           /* and end */
    uint32_t prior_delivered;   /* its P.delivered */
    uint64_t prior_us;          /* its P.delivered_time */
    uint64_t send_us;           /* its send_elapsed */
    bool app_limited;           /* its P.is_app_limited */
};
/* The delivery state to record with a segment sent at `now`. */
void tcp_rate_sent(struct tcp_conn *c, uint64_t now, struct tcp_sent_tx *tx);
/* A piece of the scoreboard newly acknowledged (cumulatively or by SACK). */
void tcp_rate_delivered(struct tcp_conn *c, struct tcp_rate_sample *rs,
                        const struct tcp_sent *piece);
/* The ACK is processed: its sample, kept if it says more than the last.
 * None if the peer reneged on SACKed data. */
void tcp_rate_sample_done(struct tcp_conn *c, const struct tcp_rate_sample *rs, bool reneged,
                          uint64_t now);
/* The user queues data: the connection is application-limited if it
 * sent everything, cwnd not being the limit. */
void tcp_rate_check_app_limited(struct tcp_conn *c);

/* RFC 8985 6.2 RACK_sent_after(t1, seq1, t2, seq2): a transmission at t1
 * ending at seq1 came after one at t2 ending at seq2. A tie goes by
 * sequence number, as the RFC says, though with a clock in microseconds
 * a batch shares one reading and a retransmission sent after new data
 * in it then counts as sent before: it is deemed lost again once that
 * data is SACKed, about one needless retransmission per recovery. Ties
 * broken by transmission order instead (branch issue9-rack-order) sent
 * none, but lost retransmissions then waited for the RTO when nothing
 * was sent after them, and goodput fell (tuntcp -> kernel at 5 % loss:
 * 0.030 against 0.098 Gbit/s, at 1 %: 0.73 against 0.93). */
static inline bool tcp_sent_after(uint64_t t1, uint32_t seq1, uint64_t t2, uint32_t seq2)
{
    return t1 > t2 || (t1 == t2 && seq_gt(seq1, seq2));
}

/* tcp_undo.c: spurious retransmissions (RFC 3522, RFC 3708). */
/* A reduction of cwnd begins (fast recovery, or an RTO if `rto`), before
 * the algorithm's ssthresh: an episode that may be undone. */
void tcp_undo_begin(struct tcp_conn *c, bool rto);
/* Data [seq, end) was sent again at `now`. */
void tcp_undo_retransmitted(struct tcp_conn *c, uint32_t seq, uint32_t end, uint64_t now);
/* The D-SACK block [left, right) arrived (before the ACK's SND.UNA
 * moves). */
void tcp_undo_dsack(struct tcp_conn *c, uint32_t left, uint32_t right);
/* An ACK of new data, before SND.UNA moves and recovery goes on. */
void tcp_undo_on_ack(struct tcp_conn *c, const struct tcp_segment *seg);

/* tcp_timer.c */
void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt_us);
/* (Re)arms or stops the retransmission / persist timer after output or
 * an ACK (RFC 6298 5.1-5.3, RFC 9293 3.8.6.1). */
void tcp_update_rto_timer(struct tcp_conn *c, uint64_t now, bool restart);
void tcp_arm_delack(struct tcp_conn *c, uint64_t now);
void tcp_enter_quickack_mode(struct tcp_conn *c);

/* tcp_rcvbuf.c: receive buffer autotuning */
void tcp_rcvbuf_init(struct tcp_conn *c, uint64_t now);
void tcp_rcvbuf_data_in(struct tcp_conn *c, uint64_t now);
void tcp_rcvbuf_adjust(struct tcp_conn *c, uint64_t now);
void tcp_enter_time_wait(struct tcp_conn *c, uint64_t now);
void tcp_arm_keepalive(struct tcp_conn *c, uint64_t now);

/* tcp_sack_rcv.c: the SACK blocks our ACKs carry (when c->sack_on). */
/* Text [seq, end) arrived: what of it was already received becomes the
 * D-SACK block of the ACK, which goes at once. Before the text is stored. */
void tcp_sack_note_text(struct tcp_conn *c, uint32_t seq, uint32_t end);
/* Text starting at seq is held out of order (stored, or held already):
 * its block is reported first. */
void tcp_sack_note_held(struct tcp_conn *c, uint32_t seq);
/* Fills opt's SACK blocks for an ACK with room for `room` more bytes of
 * header; the D-SACK block goes with it, once. */
void tcp_sack_fill(struct tcp_conn *c, struct tcp_options *opt, size_t room);
/* The data a new segment may carry: the MSS, less room for the SACK
 * blocks it carries while data is held out of order. */
uint32_t tcp_send_mss(const struct tcp_conn *c);

/* tcp_chrono.c: Linux's tcp_chrono_start and tcp_chrono_stop. */
void tcp_chrono_start(struct tcp_conn *c, enum tcp_chrono type, uint64_t now);
void tcp_chrono_stop(struct tcp_conn *c, enum tcp_chrono type, uint64_t now);

/* tcp_mem.c: buffer memory. */
enum tcp_mem_use { TCP_MEM_SEND, TCP_MEM_IN_ORDER, TCP_MEM_OUT_OF_ORDER };
void tcp_mem_grow(struct tcp_conn *c, struct ring *r, uint32_t need,
                  enum tcp_mem_use use);
/* Grows r (c's sndbuf or rcvbuf) so that its memory holds `need` bytes
 * from the head (need <= r->cap), as far as the memory's state allows
 * this use; ring_room() then says what fits. */
static inline void tcp_mem_reserve(struct tcp_conn *c, struct ring *r, uint32_t need,
                                   enum tcp_mem_use use)
{
    if (need > r->alloc)
        tcp_mem_grow(c, r, need, use);
}
/* The scoreboard's records (tcp_sack.h), counted as buffer memory and
 * only within the limit: false if refused. Freed, and emptied. */
bool tcp_mem_sb_alloc(struct tcp_conn *c);
void tcp_mem_sb_free(struct tcp_conn *c);
/* Frees r's memory (it holds nothing the connection needs). */
void tcp_mem_release(struct tcp_conn *c, struct ring *r);
/* After a ring emptied: its memory goes if the connection will not use
 * it again, or memory is under pressure; else it stays for the next
 * data. */
void tcp_mem_release_idle(struct tcp_conn *c);
/* The receive space the window may offer. */
uint32_t tcp_rcv_space(const struct tcp_conn *c);
/* Linux (sk_stream_is_writeable): free space in the send buffer is at
 * least half the bytes it holds, and memory allows using it. */
bool tcp_snd_writable(const struct tcp_conn *c);

#endif
