/* Spurious retransmissions: a reduction of cwnd (fast recovery, an RTO)
 * is undone when the retransmissions that followed it prove needless, as
 * Linux does (tcp_try_undo_recovery, tcp_try_undo_loss,
 * tcp_try_undo_dsack): by timestamps, the Eifel detection (RFC 3522), or
 * by D-SACKs of every retransmission (RFC 3708). The algorithm restores
 * what it saved (tcp_cc_ops.undo). */
#include "tcp_internal.h"

void tcp_undo_begin(struct tcp_conn *c, bool rto)
{
    struct tcp_undo *u = &c->undo;
    /* As Linux (tcp_enter_loss), an RTO in the middle of fast recovery
     * continues its episode: its retransmissions count, and its stamp
     * stays. */
    bool ongoing = u->armed && (c->in_recovery || u->loss);
    u->loss = rto;
    if (ongoing)
        return;
    u->armed = true;
    u->marker = c->snd_una;
    /* Linux's tcp_init_undo: retransmissions still in flight (a tail
     * loss probe's) count, or a D-SACK of one would stand for this
     * episode's. */
    u->retrans = c->sack_on ? c->sb.retrans : 0;
    u->retrans_high = u->retrans ? c->snd_max : c->snd_una;
    u->retransmitted = u->retrans > 0;
}

void tcp_undo_retransmitted(struct tcp_conn *c, uint32_t seq, uint32_t end, uint64_t now)
{
    struct tcp_undo *u = &c->undo;
    /* RFC 3522 2: the timestamp of the first retransmission, Linux's
     * retrans_stamp (kept while anything resent is outstanding) */
    if (!u->stamped) {
        u->stamped = true;
        u->stamp = tcp_ts_now(c, now);
        u->stamp_high = end;
    }
    u->stamp_high = seq_max(u->stamp_high, end);
    if (!u->armed)
        return;
    u->retransmitted = true;
    u->retrans = end - seq > UINT32_MAX - u->retrans ? UINT32_MAX : u->retrans + (end - seq);
    u->retrans_high = seq_max(u->retrans_high, end);
}

/* The reduction was spurious: cwnd and ssthresh back, and recovery over
 * (Linux's tcp_undo_cwnd_reduction; after an RTO, as tcp_try_undo_loss,
 * nothing more is deemed lost: the originals arrived). */
static void undo(struct tcp_conn *c, uint64_t *counter)
{
    struct tcp_undo *u = &c->undo;
    c->cc->undo(c);
    (*counter)++;
    u->armed = false;
    c->in_recovery = false;
    if (u->loss) {
        u->loss = false;
        c->rto_recovery = false;
        tcp_sb_unmark_lost(&c->sb);
        if (!c->persist)
            c->snd_nxt = c->snd_max;    /* no more going back N */
    }
}

void tcp_undo_dsack(struct tcp_conn *c, uint32_t left, uint32_t right)
{
    struct tcp_undo *u = &c->undo;
    if (!u->armed || !u->retrans)
        return;
    /* RFC 3708 3: a D-SACK of what the episode resent shows that
     * retransmission needless (Linux's tcp_check_dsack and
     * tcp_sacktag_one: undo_retrans--), counted here in bytes. */
    uint32_t lo = seq_max(left, u->marker), hi = seq_min(right, u->retrans_high);
    if (!seq_lt(lo, hi))
        return;
    u->retrans -= min_u32(hi - lo, u->retrans);
    /* RFC 3708 3: all of them were: undone, in fast recovery or after it
     * (Linux's tcp_try_undo_dsack). After an RTO, the next ACK of new
     * data decides (tcp_undo_on_ack). */
    if (!u->retrans && u->retransmitted && !u->loss)
        undo(c, &c->host->stats.undo_dsack);
}

/* RFC 3522 2: the ACK echoes a timestamp older than the first
 * retransmission's, so the original transmission arrived (Linux's
 * tcp_packet_delayed). */
static bool original_delivered(const struct tcp_conn *c, const struct tcp_segment *seg)
{
    const struct tcp_undo *u = &c->undo;
    return u->stamped && c->ts_on && seg->opt.has_ts && seg->opt.ts_ecr &&
           seq_lt(seg->opt.ts_ecr, u->stamp);
}

void tcp_undo_on_ack(struct tcp_conn *c, const struct tcp_segment *seg)
{
    struct tcp_undo *u = &c->undo;
    bool past_recover = seq_gt(seg->ack, c->recover);
    /* As Linux: in fast recovery the ACK that ends it decides
     * (tcp_try_undo_recovery); after an RTO, each ACK of new data
     * (tcp_try_undo_loss), the first being RFC 3522's "first acceptable
     * ACK that acknowledges the retransmission". */
    if (u->armed && u->retransmitted && (u->loss || (c->in_recovery && past_recover))) {
        if (original_delivered(c, seg))
            undo(c, &c->host->stats.undo_eifel);
        else if (!u->retrans)
            undo(c, &c->host->stats.undo_dsack);
    }
    if (past_recover)
        u->loss = false;
    /* No episode goes on and nothing resent is outstanding: the next
     * retransmission is the first again. */
    bool episode_over = !u->loss && (!c->in_recovery || past_recover);
    if (u->stamped && episode_over && seq_ge(seg->ack, u->stamp_high))
        u->stamped = false;
}
