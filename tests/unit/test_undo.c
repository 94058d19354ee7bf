/* Spurious retransmissions undone (RFC 3522 Eifel detection, RFC 3708
 * D-SACK detection, as Linux's tcp_try_undo_*) over the probe harness:
 * the test is a SACK receiver; ten segments leave at once, a millisecond
 * (one timestamp tick) passes, and the test's ACKs say, by the timestamp
 * they echo or by D-SACK blocks, whether the originals arrived. */
#include <string.h>

#include "probe.h"
#include "tcp_internal.h"
#include "test.h"

#define A TCP_ACK
#define NSEG 10

static char data[NSEG * 1460];

/* What the stack sent: the first segment's sequence number, the MSS, and
 * the TSval the ten segments carried. */
struct flight {
    uint32_t base, mss, tsval;
};

static const struct tcp_conn *conn(struct probe *p, struct peer *c)
{
    return stack_sock_conn(p->stack, c->sock);
}

/* RFC 6675's IsLost rather than RACK, and so no tail loss probe before
 * the RTO. */
static void rack_off(struct stack_config *cfg)
{
    cfg->tcp.rack = false;
}

/* A connection with SACK if `sack`, and timestamps if `ts`, running
 * NewReno, whose halving the figures assume; NSEG segments sent, then a
 * millisecond. */
static void open_and_send(struct probe *p, struct peer *c, struct flight *f, bool sack,
                          bool ts, void (*tweak)(struct stack_config *cfg))
{
    probe_init(p, tweak);
    struct tcp_options opt = probe_syn_options(sack, ts);
    peer_passive_open(p, c, 80, &opt);
    stack_setopt(p->stack, c->sock, STACK_OPT_CONGESTION, TCP_CC_RENO, p->now);
    f->base = c->rcv_nxt;
    f->mss = conn(p, c)->snd_mss;
    stack_send(p->stack, c->sock, data, NSEG * f->mss, p->now);
    struct tcp_segment s;
    f->tsval = probe_recv(p, &s) ? s.opt.ts_val : 0;
    probe_drain(p);
    probe_advance(p, MSEC);
}

/* An ACK of segment `ack` with n SACK blocks [left, right) in segments,
 * echoing `ts_ecr` if timestamps are on. */
static void ack_of(struct probe *p, struct peer *c, const struct flight *f, unsigned ack,
                   uint32_t ts_ecr, unsigned n, const unsigned (*blocks)[2])
{
    uint32_t edges[2 * TCP_MAX_SACK_BLOCKS];
    for (unsigned i = 0; i < n; i++) {
        edges[2 * i] = f->base + blocks[i][0] * f->mss;
        edges[2 * i + 1] = f->base + blocks[i][1] * f->mss;
    }
    struct tcp_segment s = peer_sack_segment(c, f->base + ack * f->mss, n, edges);
    s.opt.ts_ecr = ts_ecr;
    probe_send(p, &s, NULL);
}

static const unsigned above_first[][2] = { { 1, 4 } };

/* Segments 1-3 SACKed: fast recovery resends segment 0 (its TSval is
 * returned). */
static uint32_t fast_retransmit(struct probe *p, struct peer *c, const struct flight *f)
{
    ack_of(p, c, f, 0, f->tsval, 1, above_first);
    struct tcp_segment s;
    if (!expect_seg(p, &s, A, f->base, c->snd_nxt))
        return 0;
    probe_drain(p);
    return s.opt.ts_val;
}

/* RFC 3522 2 and 3.2: "if the value of the Timestamp Echo Reply field
 * is smaller than the value of RetransmitTS, the retransmission was
 * spurious", and the congestion response is undone: the ACK that ends
 * fast recovery echoes the original's TSval, so cwnd and ssthresh go
 * back to what they were (Linux's tcp_try_undo_recovery, TCPFullUndo). */
TEST(rfc3522_eifel_spurious_fast_retransmit_is_undone)
{
    struct probe p;
    struct peer c;
    struct flight f;
    open_and_send(&p, &c, &f, true, true, NULL);
    uint32_t cwnd = conn(&p, &c)->cwnd, ssthresh = conn(&p, &c)->ssthresh;
    CHECK(fast_retransmit(&p, &c, &f) != f.tsval);
    CHECK_EQ(conn(&p, &c)->ssthresh, NSEG * f.mss / 2);
    ack_of(&p, &c, &f, NSEG, f.tsval, 0, NULL);
    CHECK(!conn(&p, &c)->in_recovery);
    CHECK_EQ(conn(&p, &c)->ssthresh, ssthresh);
    CHECK(conn(&p, &c)->cwnd >= cwnd);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_eifel, 1);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_dsack, 0);
    probe_free(&p);
}

/* RFC 3522 2: the same after a timeout: the first ACK of the
 * retransmitted segment echoes the original's TSval, so the RTO was
 * spurious: cwnd and ssthresh come back, and nothing more is resent as
 * lost (Linux's tcp_try_undo_loss, TCPLossUndo). */
TEST(rfc3522_eifel_spurious_rto_is_undone)
{
    struct probe p;
    struct peer c;
    struct flight f;
    open_and_send(&p, &c, &f, true, true, rack_off);
    uint32_t cwnd = conn(&p, &c)->cwnd, ssthresh = conn(&p, &c)->ssthresh;
    probe_advance(&p, conn(&p, &c)->rto_us);
    CHECK(expect_seg(&p, NULL, A, f.base, c.snd_nxt));
    CHECK(probe_silent(&p));
    CHECK_EQ(conn(&p, &c)->cwnd, f.mss);
    ack_of(&p, &c, &f, NSEG / 2, f.tsval, 0, NULL);
    CHECK(probe_silent(&p));     /* segments 5-9 are not resent */
    CHECK_EQ(conn(&p, &c)->ssthresh, ssthresh);
    CHECK(conn(&p, &c)->cwnd >= cwnd);
    CHECK(!conn(&p, &c)->rto_recovery);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_eifel, 1);
    ack_of(&p, &c, &f, NSEG, f.tsval, 0, NULL);
    CHECK_EQ(conn(&p, &c)->snd_una, f.base + NSEG * f.mss);
    probe_free(&p);
}

/* RFC 3522 2 without SACK: after the spurious RTO the sender goes back
 * N no more (Linux's tcp_try_undo_loss unmarks the losses): the segments
 * beyond the ACK are not resent. */
TEST(rfc3522_eifel_spurious_rto_without_sack_stops_going_back_n)
{
    struct probe p;
    struct peer c;
    struct flight f;
    open_and_send(&p, &c, &f, false, true, NULL);
    uint32_t cwnd = conn(&p, &c)->cwnd;
    probe_advance(&p, conn(&p, &c)->rto_us);
    CHECK(expect_seg(&p, NULL, A, f.base, c.snd_nxt));
    CHECK(probe_silent(&p));
    ack_of(&p, &c, &f, NSEG / 2, f.tsval, 0, NULL);
    CHECK(probe_silent(&p));
    CHECK(conn(&p, &c)->cwnd >= cwnd);
    CHECK_EQ(conn(&p, &c)->snd_nxt, conn(&p, &c)->snd_max);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_eifel, 1);
    probe_free(&p);
}

/* RFC 3522 2: an ACK echoing the retransmission's own TSval says the
 * retransmission filled the hole: a real loss, whose reduction stays
 * (RFC 6937: cwnd = ssthresh when recovery ends). */
TEST(rfc3522_a_real_loss_is_not_undone)
{
    struct probe p;
    struct peer c;
    struct flight f;
    open_and_send(&p, &c, &f, true, true, NULL);
    uint32_t rexmit_tsval = fast_retransmit(&p, &c, &f);
    ack_of(&p, &c, &f, NSEG, rexmit_tsval, 0, NULL);
    CHECK(!conn(&p, &c)->in_recovery);
    CHECK_EQ(conn(&p, &c)->ssthresh, NSEG * f.mss / 2);
    CHECK_EQ(conn(&p, &c)->cwnd, NSEG * f.mss / 2);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_eifel, 0);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_dsack, 0);
    probe_free(&p);
}

/* RFC 3708 3: without timestamps, once every retransmission of the
 * episode comes back in a D-SACK (RFC 2883) the data had all arrived,
 * and the reduction is undone (Linux's tcp_try_undo_dsack,
 * TCPDSACKUndo). */
TEST(rfc3708_dsack_of_every_retransmission_undoes_the_reduction)
{
    struct probe p;
    struct peer c;
    struct flight f;
    open_and_send(&p, &c, &f, true, false, NULL);
    uint32_t cwnd = conn(&p, &c)->cwnd, ssthresh = conn(&p, &c)->ssthresh;
    fast_retransmit(&p, &c, &f);
    ack_of(&p, &c, &f, NSEG, 0, 0, NULL);
    CHECK_EQ(conn(&p, &c)->cwnd, NSEG * f.mss / 2);    /* recovery over */
    static const unsigned dup_first[][2] = { { 0, 1 } };
    ack_of(&p, &c, &f, NSEG, 0, 1, dup_first);
    CHECK_EQ(conn(&p, &c)->ssthresh, ssthresh);
    CHECK(conn(&p, &c)->cwnd >= cwnd);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_dsack, 1);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_eifel, 0);
    probe_free(&p);
}

/* RFC 3708 3: with two segments resent and only one D-SACKed, the other
 * retransmission may have repaired a loss: the reduction stays. */
TEST(rfc3708_partial_dsack_does_not_undo)
{
    struct probe p;
    struct peer c;
    struct flight f;
    open_and_send(&p, &c, &f, true, false, NULL);
    static const unsigned two_holes[][2] = { { 1, 2 }, { 3, NSEG } };
    ack_of(&p, &c, &f, 0, 0, 2, two_holes);
    CHECK(expect_seg(&p, NULL, A, f.base, c.snd_nxt));
    CHECK(expect_seg(&p, NULL, A, f.base + 2 * f.mss, c.snd_nxt));
    CHECK(probe_silent(&p));
    ack_of(&p, &c, &f, NSEG, 0, 0, NULL);
    static const unsigned dup_first[][2] = { { 0, 1 } };
    ack_of(&p, &c, &f, NSEG, 0, 1, dup_first);
    CHECK_EQ(conn(&p, &c)->ssthresh, NSEG * f.mss / 2);
    CHECK_EQ(conn(&p, &c)->cwnd, NSEG * f.mss / 2);
    CHECK_EQ(conn(&p, &c)->host->stats.undo_dsack, 0);
    static const unsigned dup_third[][2] = { { 2, 3 } };
    ack_of(&p, &c, &f, NSEG, 0, 1, dup_third);   /* now both were */
    CHECK_EQ(conn(&p, &c)->host->stats.undo_dsack, 1);
    probe_free(&p);
}
