/* Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02,
 * Linux's tcp_rate.c) and the per-connection counters TCP_INFO reports
 * (Linux's tcp_get_info), over the probe harness: the test is the
 * receiver, and its ACKs, sent after set delays on the virtual clock,
 * decide what each sample must be. */
#include <string.h>
#include <sys/socket.h>

#include "probe.h"
#include "tcp_internal.h"
#include "test.h"

#define A TCP_ACK

static char data[40 * 1460];

static const struct tcp_conn *conn(struct probe *p, struct peer *c)
{
    return stack_sock_conn(p->stack, c->sock);
}

/* The stack's first data octet and its MSS. */
struct flow {
    uint32_t base, mss;
};

/* RFC 6675's IsLost rather than RACK: the handshake's round trip of
 * nothing would have a tail loss probe go before the test's ACKs. */
static void rack_off(struct stack_config *cfg)
{
    cfg->tcp.rack = false;
}

static void open_flow_with(struct probe *p, struct peer *c, struct flow *f, bool sack,
                           void (*tweak)(struct stack_config *cfg))
{
    probe_init(p, tweak);
    if (sack) {
        peer_sack_open(p, c, false);
    } else {
        peer_passive_open(p, c, 80, NULL);
    }
    f->base = c->rcv_nxt;
    f->mss = conn(p, c)->snd_mss;
}

static void open_flow(struct probe *p, struct peer *c, struct flow *f, bool sack)
{
    open_flow_with(p, c, f, sack, rack_off);
}

/* The stack writes `segs` full segments; returns how many segments it
 * sent at once. */
static unsigned write_segs(struct probe *p, struct peer *c, const struct flow *f, unsigned segs)
{
    stack_send(p->stack, c->sock, data, segs * f->mss, p->now);
    return probe_drain(p);
}

/* An ACK of segment `ack` (counted from the first data octet) with an
 * optional SACK block [left, right), in segments, and window `wnd`. */
static void ack_segs_wnd(struct probe *p, struct peer *c, const struct flow *f, unsigned ack,
                         unsigned left, unsigned right, uint16_t wnd)
{
    const uint32_t edges[2] = { f->base + left * f->mss, f->base + right * f->mss };
    struct tcp_segment s = peer_sack_segment(c, f->base + ack * f->mss, left < right, edges);
    s.wnd = wnd;
    probe_send(p, &s, NULL);
}

static void ack_segs(struct probe *p, struct peer *c, const struct flow *f, unsigned ack,
                     unsigned left, unsigned right)
{
    ack_segs_wnd(p, c, f, ack, left, right, 65535);
}

/* bytes over microseconds, per second */
static uint64_t rate(uint64_t bytes, uint64_t us)
{
    return bytes * SEC / us;
}

/* 3.3 UpdateRateSample: an ACK's sample comes from the most recently
 * sent segment it delivers: the data delivered since that segment left,
 * over the longer of its send and ACK intervals. Ten segments leave at
 * 0 ms, two are ACKed at 10 ms and more leave then; the ACK at 20 ms of
 * all of them measures from the segments sent at 10 ms (over 10 ms),
 * not from the oldest (which would take 20 ms). Not application-limited:
 * the user wrote more than cwnd lets go. */
TEST(delivery_rate_estimation_3_3_a_sample_per_ack_from_the_newest_delivered_segment)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, true);
    unsigned first = write_segs(&p, &c, &f, 40);
    CHECK(first >= 2 && first < 40);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, 2, 0, 0);
    /* the first flight began with nothing in flight: application-limited,
     * as Linux marks a write to an idle connection */
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), rate(2 * f.mss, 10 * MSEC));
    CHECK(conn(&p, &c)->rate.sample_app_limited);
    unsigned more = probe_drain(&p);
    CHECK(more > 0);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, first + more, 0, 0);
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), rate((first + more - 2) * f.mss, 10 * MSEC));
    CHECK(!conn(&p, &c)->rate.sample_app_limited);
    CHECK_EQ(conn(&p, &c)->min_rtt_us, 10 * MSEC);
    probe_free(&p);
}

/* 2.2.4 and 3.3: data is not delivered faster than it was sent, so
 * the interval is the longer of the send and ACK intervals. Nine
 * segments sent 15 ms after the flight began (all the initial window
 * has room for), ACKed with the one before them 6 ms after the last
 * delivery (ACK compression), give ten segments over 15 ms, not over
 * 6 ms. */
TEST(delivery_rate_estimation_2_2_4_the_interval_is_at_least_the_send_interval)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, true);
    CHECK_EQ(write_segs(&p, &c, &f, 2), 2);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, 1, 0, 0);
    probe_advance(&p, 5 * MSEC);
    CHECK_EQ(write_segs(&p, &c, &f, 9), 9);
    probe_advance(&p, 1 * MSEC);
    ack_segs(&p, &c, &f, 11, 0, 0);
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), rate(10 * f.mss, 15 * MSEC));
    probe_free(&p);
}

/* 3.3: a segment counts as delivered when SACKed, once: the cumulative
 * ACK that covers it later does not count it again. Four segments
 * SACKed at 10 ms give a sample of four segments over 10 ms. */
TEST(delivery_rate_estimation_3_3_sacked_segments_count_as_delivered)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, true);
    CHECK_EQ(write_segs(&p, &c, &f, 10), 10);
    uint64_t before = conn(&p, &c)->rate.delivered;
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, 0, 1, 5);
    CHECK_EQ(conn(&p, &c)->rate.delivered - before, 4 * f.mss);
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), rate(4 * f.mss, 10 * MSEC));
    probe_drain(&p);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, 10, 0, 0);
    CHECK_EQ(conn(&p, &c)->rate.delivered - before, 10 * f.mss);
    probe_free(&p);
}

/* Without SACK the scoreboard is kept from the cumulative ACKs alone,
 * and the samples come from them (as Linux samples every connection). */
TEST(delivery_rate_estimation_3_3_samples_without_sack_from_cumulative_acks)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, false);
    CHECK(!conn(&p, &c)->sack_on);
    CHECK_EQ(write_segs(&p, &c, &f, 4), 4);
    probe_advance(&p, 25 * MSEC);
    ack_segs(&p, &c, &f, 4, 0, 0);
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), rate(4 * f.mss, 25 * MSEC));
    CHECK_EQ(conn(&p, &c)->sb.count, 0);
    probe_free(&p);
}

/* 3.4 (Linux's tcp_rate_check_app_limited): data written when
 * everything was sent and cwnd not full is application-limited until
 * what was in flight then is delivered, and so are its samples. Such a
 * sample replaces the one kept only if it is higher (Linux's
 * tcp_rate_gen: an idle application says nothing of the path). */
TEST(delivery_rate_estimation_3_4_app_limited_samples_are_marked)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, true);
    /* a bulk transfer, everything sent ACKed 10 ms later: its first
     * samples are application-limited, the later ones not */
    unsigned sent = write_segs(&p, &c, &f, 40);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, sent, 0, 0);
    CHECK(conn(&p, &c)->rate.sample_app_limited);
    for (unsigned n; (n = probe_drain(&p)) > 0;) {
        sent += n;
        probe_advance(&p, 10 * MSEC);
        ack_segs(&p, &c, &f, sent, 0, 0);
        CHECK(!conn(&p, &c)->rate.sample_app_limited);
    }
    CHECK_EQ(sent, 40);
    uint64_t bulk = tcp_delivery_rate(conn(&p, &c));
    CHECK(bulk > 0);
    /* then one segment, ACKed 50 ms later: application-limited, and
     * slower: the bulk sample stays */
    write_segs(&p, &c, &f, 1);
    CHECK(conn(&p, &c)->rate.app_limited != 0);
    probe_advance(&p, 50 * MSEC);
    ack_segs(&p, &c, &f, 41, 0, 0);
    CHECK_EQ(conn(&p, &c)->rate.app_limited, 0);
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), bulk);
    CHECK(!conn(&p, &c)->rate.sample_app_limited);
    /* a faster application-limited sample is kept, and marked */
    CHECK_EQ(write_segs(&p, &c, &f, 20), 20);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, 61, 0, 0);
    CHECK(rate(20 * f.mss, 10 * MSEC) > bulk);
    CHECK_EQ(tcp_delivery_rate(conn(&p, &c)), rate(20 * f.mss, 10 * MSEC));
    CHECK(conn(&p, &c)->rate.sample_app_limited);
    probe_free(&p);
}

/* TCP_INFO's counters are the connection's own (Linux's tcp_get_info),
 * not the stack's: a retransmission on one connection leaves another's
 * tcpi_total_retrans at 0. Bytes count sequence space, the FIN too, and
 * our SYN in bytes_acked after an active open, as Linux. */
TEST(tcp_info_counts_per_connection)
{
    struct probe p;
    struct peer c, d;
    struct flow f;
    open_flow(&p, &c, &f, true);
    peer_active_open(&p, &d, 5555, NULL);
    probe_drain(&p);
    /* c: three segments, the first lost and sent again by the RTO */
    CHECK_EQ(write_segs(&p, &c, &f, 3), 3);
    probe_advance(&p, 10 * MSEC);
    ack_segs(&p, &c, &f, 0, 1, 3);
    probe_advance(&p, 300 * MSEC);
    CHECK_EQ(probe_drain(&p), 1);
    ack_segs(&p, &c, &f, 3, 0, 0);
    /* and 100 bytes from the peer, then its FIN */
    peer_send_data(&p, &c, data, 100, TCP_FIN);
    probe_drain(&p);
    /* d: 500 bytes sent and acknowledged */
    stack_send(p.stack, d.sock, data, 500, p.now);
    CHECK_EQ(probe_drain(&p), 1);
    d.rcv_nxt += 500;
    peer_send_ack(&p, &d, 65535);

    const struct tcp_conn_stats *cs = &conn(&p, &c)->stats;
    CHECK_EQ(cs->total_retrans, 1);
    CHECK_EQ(cs->bytes_retrans, f.mss);
    CHECK_EQ(cs->bytes_sent, 4 * f.mss);
    CHECK_EQ(cs->bytes_acked, 3 * f.mss);
    CHECK_EQ(cs->bytes_received, 101);
    CHECK_EQ(cs->data_segs_out, 4);
    CHECK(cs->segs_out > cs->data_segs_out);   /* the SYN-ACK and ACKs */
    CHECK_EQ(cs->data_segs_in, 1);
    CHECK_EQ(cs->segs_in, 5);   /* SYN, ACK, two ACKs, data with FIN */
    CHECK_EQ(conn(&p, &c)->rate.delivered, 1 + 3 * f.mss);
    CHECK_EQ(conn(&p, &c)->rate.delivered_segs, 1 + 3);
    CHECK_EQ(conn(&p, &c)->min_rtt_us, 10 * MSEC);

    const struct tcp_conn_stats *ds = &conn(&p, &d)->stats;
    CHECK_EQ(ds->total_retrans, 0);
    CHECK_EQ(ds->bytes_sent, 500);
    CHECK_EQ(ds->bytes_acked, 1 + 500);
    CHECK_EQ(ds->data_segs_out, 1);
    CHECK_EQ(ds->bytes_received, 0);
    CHECK_EQ(conn(&p, &d)->rate.delivered_segs, 1 + 1);
    CHECK_EQ(conn(&p, &d)->host->stats.retrans_segs, 1);   /* the stack's */
    probe_free(&p);
}

/* TCP_INFO's tcpi_dsack_dups and tcpi_reord_seen: the segments D-SACK
 * blocks reported received twice (RFC 2883; Linux's tcp_dsack_seen), and
 * the ACKs that showed segments delivered out of order (RACK, RFC 8985
 * 6.2 step 3). Segments 2-3 are SACKed, then 0-1 arrive: reordering,
 * once; then a D-SACK of two segments. */
TEST(tcp_info_counts_dsack_duplicates_and_reordering)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow_with(&p, &c, &f, true, NULL);
    CHECK_EQ(write_segs(&p, &c, &f, 4), 4);
    probe_advance(&p, 1 * MSEC);
    ack_segs(&p, &c, &f, 0, 2, 4);
    CHECK_EQ(conn(&p, &c)->stats.reord_seen, 0);
    ack_segs(&p, &c, &f, 4, 0, 0);
    CHECK_EQ(conn(&p, &c)->stats.reord_seen, 1);
    CHECK_EQ(conn(&p, &c)->stats.total_retrans, 0);
    ack_segs(&p, &c, &f, 4, 0, 2);
    CHECK_EQ(conn(&p, &c)->stats.dsack_dups, 2);
    probe_free(&p);
}

/* TCP_INFO's tcpi_last_data_sent (Linux's lsndtime): the last segment
 * that carried data, a retransmission too; not an ACK without data. */
TEST(tcp_info_last_data_sent_is_the_last_segment_with_data_resent_too)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, false);
    CHECK_EQ(conn(&p, &c)->last_data_sent_at, p.now);   /* since it opened */
    probe_advance(&p, 5 * MSEC);
    uint64_t sent_at = p.now;
    CHECK_EQ(write_segs(&p, &c, &f, 1), 1);
    CHECK_EQ(conn(&p, &c)->last_data_sent_at, sent_at);
    probe_advance(&p, 10 * MSEC);
    peer_send_data(&p, &c, data, 10, 0);
    probe_advance(&p, 50 * MSEC);            /* its delayed ACK, bare */
    CHECK_EQ(probe_drain(&p), 1);
    CHECK_EQ(conn(&p, &c)->last_data_sent_at, sent_at);
    uint64_t rto_at = conn(&p, &c)->rto_at;
    probe_advance(&p, rto_at - p.now);       /* the RTO resends it */
    CHECK_EQ(probe_drain(&p), 1);
    CHECK_EQ(conn(&p, &c)->last_data_sent_at, rto_at);
    probe_free(&p);
}

/* TCP_INFO's tcpi_last_data_recv (Linux's icsk_ack.lrcvtime, set by
 * tcp_event_data_recv): the last data taken in order; not data held
 * out of order, nor an ACK without data. */
TEST(tcp_info_last_data_recv_is_the_last_data_received_in_order)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, false);
    probe_advance(&p, 5 * MSEC);
    uint64_t in_order_at = p.now;
    peer_send_data(&p, &c, data, 100, 0);
    CHECK_EQ(conn(&p, &c)->last_data_recv_at, in_order_at);
    probe_advance(&p, 5 * MSEC);
    peer_send_range(&p, &c, 200, 300);      /* out of order */
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(conn(&p, &c)->last_data_recv_at, in_order_at);
    probe_advance(&p, 5 * MSEC);
    peer_send_data(&p, &c, data, 100, 0);   /* fills the gap */
    CHECK_EQ(conn(&p, &c)->last_data_recv_at, p.now);
    probe_free(&p);
}

/* TCP_INFO's tcpi_last_ack_recv (Linux's rcv_tstamp): the last segment
 * whose ACK is not older than SND.UNA, data or not; not an old one. */
TEST(tcp_info_last_ack_recv_is_the_last_ack_not_older_than_snd_una)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, false);
    CHECK_EQ(write_segs(&p, &c, &f, 2), 2);
    probe_advance(&p, 5 * MSEC);
    ack_segs(&p, &c, &f, 2, 0, 0);
    uint64_t acked_at = p.now;
    CHECK_EQ(conn(&p, &c)->last_recv_at, acked_at);
    probe_advance(&p, 5 * MSEC);
    ack_segs(&p, &c, &f, 1, 0, 0);          /* old */
    CHECK_EQ(conn(&p, &c)->last_recv_at, acked_at);
    probe_advance(&p, 5 * MSEC);
    ack_segs(&p, &c, &f, 2, 0, 0);          /* a duplicate: not old */
    CHECK_EQ(conn(&p, &c)->last_recv_at, p.now);
    probe_free(&p);
}

/* TCP_INFO's tcpi_notsent_bytes (Linux's write_seq - snd_nxt): what was
 * written and never sent, the FIN queued included; data resent after a
 * timeout was sent. */
TEST(tcp_info_notsent_bytes_is_what_was_written_and_never_sent)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, false);
    unsigned sent = write_segs(&p, &c, &f, 30);
    CHECK(sent < 30);
    CHECK_EQ(tcp_notsent_bytes(conn(&p, &c)), (30 - sent) * f.mss);
    probe_advance(&p, conn(&p, &c)->rto_at - p.now);   /* go-back-N */
    CHECK_EQ(probe_drain(&p), 1);
    CHECK_EQ(tcp_notsent_bytes(conn(&p, &c)), (30 - sent) * f.mss);
    stack_shutdown(p.stack, c.sock, SHUT_WR, p.now);
    CHECK_EQ(tcp_notsent_bytes(conn(&p, &c)), (30 - sent) * f.mss + 1);
    probe_free(&p);
}

/* TCP_INFO's tcpi_busy_time and tcpi_rwnd_limited (Linux's
 * tcp_chrono_start/stop): busy from the write until nothing is in flight
 * or left to send, not while idle; limited by the peer's window while it
 * holds data back that cwnd would let go. The peer offers two segments:
 * four written, two wait 10 ms for the window, all are ACKed at 20 ms. */
TEST(tcp_info_busy_time_and_rwnd_limited_follow_linux_chronographs)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow(&p, &c, &f, false);
    ack_segs_wnd(&p, &c, &f, 0, 0, 0, (uint16_t)(2 * f.mss));
    probe_advance(&p, 50 * MSEC);           /* idle: not busy */
    CHECK_EQ(write_segs(&p, &c, &f, 4), 2);
    probe_advance(&p, 10 * MSEC);
    const struct tcp_conn *tc = conn(&p, &c);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_RWND_LIMITED, p.now), 10 * MSEC);
    ack_segs_wnd(&p, &c, &f, 2, 0, 0, (uint16_t)(4 * f.mss));
    CHECK_EQ(probe_drain(&p), 2);
    probe_advance(&p, 10 * MSEC);
    ack_segs_wnd(&p, &c, &f, 4, 0, 0, (uint16_t)(4 * f.mss));
    probe_advance(&p, 30 * MSEC);           /* idle again */
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_RWND_LIMITED, p.now), 10 * MSEC);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_BUSY, p.now), 10 * MSEC);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_SNDBUF_LIMITED, p.now), 0);
    probe_free(&p);
}

static void small_sndbuf(struct stack_config *cfg)
{
    rack_off(cfg);
    cfg->tcp.sndbuf = 4 * 1460;
}

/* TCP_INFO's tcpi_sndbuf_limited (Linux's tcp_cwnd_validate and
 * tcp_check_space): from when all the send buffer holds went, cwnd not
 * the limit, while the writer waits for room, until the ACK that gives
 * it room. A write of more than the buffer holds, ACKed 10 ms later. */
TEST(tcp_info_sndbuf_limited_is_the_writer_waiting_with_everything_sent)
{
    struct probe p;
    struct peer c;
    struct flow f;
    open_flow_with(&p, &c, &f, false, small_sndbuf);
    const struct tcp_conn *tc = conn(&p, &c);
    uint32_t cap = tc->sndbuf.cap;
    CHECK(cap < 10 * f.mss);
    CHECK_EQ(stack_send(p.stack, c.sock, data, 10 * f.mss, p.now), cap);
    probe_drain(&p);
    CHECK_EQ(tcp_notsent_bytes(tc), 0);
    probe_advance(&p, 10 * MSEC);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_SNDBUF_LIMITED, p.now), 10 * MSEC);
    ack_segs(&p, &c, &f, 0, 0, 0);          /* no room yet */
    probe_advance(&p, 5 * MSEC);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_SNDBUF_LIMITED, p.now), 15 * MSEC);
    struct tcp_segment s = seg_make(c.port, c.stack_port, c.snd_nxt, f.base + cap, A, 65535);
    probe_send(&p, &s, NULL);
    probe_advance(&p, 20 * MSEC);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_SNDBUF_LIMITED, p.now), 15 * MSEC);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_BUSY, p.now), 0);
    CHECK_EQ(tcp_chrono_us(tc, TCP_CHRONO_RWND_LIMITED, p.now), 0);
    probe_free(&p);
}
