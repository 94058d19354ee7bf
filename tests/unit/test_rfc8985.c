/* RFC 8985 (RACK-TLP) over the probe harness: the test is a SACK
 * receiver; segments leave at a known virtual time and the ACKs come a
 * round trip (1 ms) later, so what RACK decides, and when, is exact. */
#include "probe.h"
#include "tcp_internal.h"
#include "test.h"

#define A TCP_ACK
#define MSS 1460
#define RTT MSEC

static char data[20 * MSS];

static void rack_off(struct stack_config *cfg)
{
    cfg->tcp.rack = false;
}

/* A connection with SACK (RACK on unless `tweak` says) whose handshake
 * took a round trip, so that SRTT is RTT; `bytes` queued and the initial
 * window (ten segments) sent; then a round trip passes. Returns the first
 * segment's sequence number. */
static uint32_t open_and_send(struct probe *p, struct peer *c, uint32_t bytes,
                              void (*tweak)(struct stack_config *cfg))
{
    probe_init(p, tweak);
    uint32_t base = peer_sack_open_and_send(p, c, RTT, bytes);
    probe_advance(p, RTT);
    return base;
}

/* An ACK of segment `ack` SACKing segments [left, right) (none if equal),
 * and [left2, right2) if not equal. */
static void sack(struct probe *p, struct peer *c, uint32_t base, unsigned ack,
                 unsigned left, unsigned right, unsigned left2, unsigned right2)
{
    const unsigned segs[4] = { left, right, left2, right2 };
    uint32_t edges[4];
    unsigned n = 0;
    for (unsigned i = 0; i < 4; i += 2) {
        if (segs[i] != segs[i + 1]) {
            edges[2 * n] = base + segs[i] * MSS;
            edges[2 * n + 1] = base + segs[i + 1] * MSS;
            n++;
        }
    }
    peer_send_sack(p, c, base + ack * MSS, n, edges);
}

static const struct tcp_stats *stats(struct probe *p, struct peer *c)
{
    return &stack_sock_conn(p->stack, c->sock)->host->stats;
}

/* RFC 8985 6.2 step 5 and 6.3: one SACKed segment above the others (no
 * DupThresh, no IsLost): those sent before it are lost once RACK.rtt +
 * reo_wnd (min_RTT / 4) has passed since they were sent; the reordering
 * timer fires then, and recovery resends the first. */
TEST(rfc8985_6_3_reordering_timer_marks_segments_sent_before_a_sacked_one_lost)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 10 * MSS, NULL);
    sack(&p, &c, base, 0, 9, 10, 0, 0);
    CHECK(probe_silent(&p));
    probe_advance(&p, RTT / 4 - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    CHECK(expect_seg(&p, NULL, A, base, c.snd_nxt));
    CHECK_EQ(stats(&p, &c)->rack_lost_segs, 9);
    CHECK(stack_sock_conn(p.stack, c.sock)->in_recovery);
    probe_free(&p);
}

/* RFC 8985 6.2: a retransmission is a segment like any other: once a
 * segment sent after it is delivered and a round trip has passed, a lost
 * retransmission is deemed lost and resent again, with no RTO (RFC 6675
 * alone never marks a retransmission lost). */
TEST(rfc8985_6_2_a_lost_retransmission_is_detected_and_resent)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 20 * MSS, NULL);
    sack(&p, &c, base, 0, 1, 4, 0, 0);     /* DupThresh SACKed: segment 0 lost */
    CHECK(expect_seg(&p, NULL, A, base, c.snd_nxt));
    CHECK(probe_silent(&p));
    sack(&p, &c, base, 0, 1, 7, 0, 0);     /* PRR lets segment 10 go */
    CHECK(expect_seg(&p, NULL, A, base + 10 * MSS, c.snd_nxt));
    probe_advance(&p, RTT);
    sack(&p, &c, base, 0, 1, 7, 10, 11);   /* 10 arrived, the resent 0 did not */
    CHECK(expect_seg(&p, NULL, A, base, c.snd_nxt));
    probe_free(&p);
}

/* RFC 8985 7.2, 7.3: with the tail of a flight lost and nothing to show
 * it, a probe timeout of 2 * SRTT (+ 2 ms, as Linux) resends the last
 * segment, long before the RTO; one probe per episode (7.3). */
TEST(rfc8985_7_3_tail_loss_probe_resends_the_last_segment_before_the_rto)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 10 * MSS, NULL);
    sack(&p, &c, base, 8, 0, 0, 0, 0);     /* segments 8 and 9 lost */
    CHECK(probe_silent(&p));
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    uint64_t pto = 2 * tc->srtt_us + 2 * MSEC;
    CHECK(pto < tc->rto_us);
    probe_advance(&p, pto - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    struct tcp_segment s;
    CHECK(expect_seg(&p, &s, A, base + 9 * MSS, c.snd_nxt));
    CHECK_EQ(s.len, MSS);
    CHECK_EQ(stats(&p, &c)->tlp_probes, 1);
    probe_advance(&p, tc->rto_us / 2);
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* RFC 8985 7.2: with one segment in flight the PTO adds the peer's
 * delayed ACK (200 ms), capped by the RTO: the probe goes in its place.
 * 7.4.2: a probe that repaired a loss (its ACK covers the probe, no
 * D-SACK says the original arrived, then a duplicate ACK without SACK
 * blocks) is a loss: congestion control reduces cwnd. */
TEST(rfc8985_7_4_a_probe_that_repaired_a_loss_reduces_cwnd)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 10 * MSS, NULL);
    sack(&p, &c, base, 9, 0, 0, 0, 0);     /* segment 9 lost */
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK(2 * tc->srtt_us + 200 * MSEC > tc->rto_us);
    probe_advance(&p, tc->rto_us - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    CHECK(expect_seg(&p, NULL, A, base + 9 * MSS, c.snd_nxt));
    CHECK_EQ(tc->host->stats.rto_expirations, 0);
    uint32_t cwnd = tc->cwnd;
    sack(&p, &c, base, 10, 0, 0, 0, 0);
    sack(&p, &c, base, 10, 0, 0, 0, 0);
    CHECK_EQ(stats(&p, &c)->tlp_recoveries, 1);
    CHECK(tc->cwnd < cwnd);
    CHECK_EQ(tc->cwnd, tc->ssthresh);
    probe_free(&p);
}

/* The same losses with RACK off (as Linux's net.ipv4.tcp_recovery=0):
 * RFC 6675's IsLost, and the RTO for the tail. */
TEST(rfc8985_rack_off_leaves_loss_detection_to_rfc6675)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 10 * MSS, rack_off);
    sack(&p, &c, base, 0, 9, 10, 0, 0);
    probe_advance(&p, RTT);
    CHECK(probe_silent(&p));
    CHECK_EQ(stats(&p, &c)->rack_lost_segs, 0);
    probe_free(&p);
}

/* One segment sent, resent by the probe timeout, and ACKed 100 us after
 * the retransmission: by a peer with timestamps (`ts`) echoing the
 * retransmission's TSval if `echo_retransmission`, else the original's.
 * Sets *min_rtt to RACK.min_RTT then (left alone if that went wrong). */
static void min_rtt_after_acked_retransmission(bool ts, bool echo_retransmission,
                                               uint64_t *min_rtt)
{
    struct probe p;
    struct peer c;
    probe_init(&p, NULL);
    peer_sack_open(&p, &c, ts);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    uint32_t mss = tc->snd_mss;
    stack_send(p.stack, c.sock, data, mss, p.now);
    struct tcp_segment original, resent;
    CHECK(probe_recv(&p, &original));
    probe_advance(&p, MSEC);   /* the retransmission gets a later TSval */
    for (unsigned ms = 0; ms < 2000 && !probe_recv(&p, &resent); ms++)
        probe_advance(&p, MSEC);
    CHECK_EQ(resent.seq, original.seq);
    probe_advance(&p, 100);
    struct tcp_segment ack =
        seg_make(c.port, c.stack_port, c.snd_nxt, original.seq + mss, A, 65535);
    if (ts) {
        ack.opt.has_ts = true;
        ack.opt.ts_val = ++c.ts_val;
        ack.opt.ts_ecr = echo_retransmission ? resent.opt.ts_val : original.opt.ts_val;
    }
    probe_send(&p, &ack, NULL);
    CHECK_EQ(tc->snd_una, original.seq + mss);
    *min_rtt = tc->min_rtt_us;
    probe_free(&p);
}

/* RFC 8985 6.2 step 1: RACK.min_RTT comes from RFC 6298's and RFC 7323's
 * RTT measurements: none from the ACK of a retransmission (Karn), which
 * may be the original's, unless its echoed timestamp shows it answers
 * the retransmission. The delivery rate estimator uses the same. */
TEST(rfc8985_6_2_min_rtt_takes_no_sample_from_a_retransmission_without_timestamps)
{
    uint64_t min_rtt = UINT64_MAX;
    min_rtt_after_acked_retransmission(false, false, &min_rtt);
    CHECK_EQ(min_rtt, 0);
}

TEST(rfc8985_6_2_min_rtt_takes_no_sample_from_a_retransmission_whose_ack_echoes_the_original)
{
    uint64_t min_rtt = UINT64_MAX;
    min_rtt_after_acked_retransmission(true, false, &min_rtt);
    CHECK_EQ(min_rtt, 0);
}

TEST(rfc8985_6_2_min_rtt_takes_a_sample_from_a_retransmission_whose_ack_echoes_it)
{
    uint64_t min_rtt = UINT64_MAX;
    min_rtt_after_acked_retransmission(true, true, &min_rtt);
    CHECK_EQ(min_rtt, 100);
}
