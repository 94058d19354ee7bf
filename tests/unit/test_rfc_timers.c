/* Timers and sending policy, rule by rule: RFC 6298 retransmission,
 * RFC 5681/6582/6928 congestion control, RFC 9293 3.7.4 Nagle, 3.8.6
 * windows and delayed ACKs, RFC 1122 keepalive, RFC 7323 options. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "probe.h"
#include "test.h"

#define A TCP_ACK
#define S TCP_SYN
#define F TCP_FIN
#define R TCP_RST
#define P TCP_PSH

static char data[256 * 1024];
static char buf[4096];

/* The RFC 5681 rules of ssthresh are NewReno's (CUBIC's: test_cc.c). */
static void newreno(struct stack_config *cfg)
{
    cfg->tcp.cc = &tcp_cc_newreno;
}

static void syn_retries_2(struct stack_config *cfg)
{
    cfg->tcp.syn_retries = 2;
}

TEST(rfc6298_syn_retransmitted_with_backoff_then_etimedout)
{
    struct probe p;
    probe_init(&p, syn_retries_2);
    struct sock *k;
    struct tcp_segment syn, r;
    stack_socket(p.stack, &k);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now);
    CHECK(probe_recv(&p, &syn));
    /* RFC 6298 2.1: initial RTO 1 s; 5.5: doubled on each expiry */
    probe_advance(&p, SEC - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    CHECK(expect_seg(&p, &r, S, syn.seq, 0));
    probe_advance(&p, 2 * SEC - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    CHECK(expect_seg(&p, &r, S, syn.seq, 0));
    CHECK(!(stack_poll(p.stack, k) & POLLERR));
    probe_advance(&p, 4 * SEC);
    CHECK(stack_poll(p.stack, k) & POLLERR);
    CHECK_EQ(stack_sock_error(p.stack, k), ETIMEDOUT);
    probe_free(&p);
}

static void retries_3(struct stack_config *cfg)
{
    cfg->tcp.retries = 3;
}

TEST(rfc6298_data_retransmitted_at_rto_doubling_then_etimedout)
{
    struct probe p;
    probe_init(&p, retries_3);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_send(p.stack, c.sock, "ping", 4, p.now), 4);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    /* the handshake measured ~0 RTT: RTO is the 200 ms minimum */
    uint64_t rto = p.cfg.tcp.rto_min_us;
    for (int i = 0; i < 3; i++) {
        probe_advance(&p, rto - 1);
        CHECK(probe_silent(&p));
        probe_advance(&p, 1);
        CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
        rto *= 2;
    }
    probe_advance(&p, rto);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ETIMEDOUT);
    probe_free(&p);
}

TEST(rfc6928_initial_window_is_ten_segments)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_send(p.stack, c.sock, data, 100000, p.now), 100000);
    struct tcp_segment r;
    unsigned segs = 0, bytes = 0;
    while (probe_recv(&p, &r)) {
        segs++;
        bytes += r.len;
        CHECK(r.len <= 1460);
    }
    CHECK_EQ(segs, 10);
    CHECK_EQ(bytes, 14600);
    probe_free(&p);
}

TEST(rfc5681_3_2_three_duplicate_acks_trigger_fast_retransmit)
{
    struct probe p;
    probe_init(&p, newreno);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, data, 5 * 1460, p.now);
    struct tcp_segment r;
    probe_drain(&p);
    /* the first segment was lost: segments 2..4 each bring a dup ACK */
    peer_send_ack(&p, &c, 65535);
    peer_send_ack(&p, &c, 65535);
    CHECK(probe_silent(&p));
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK(tc->in_recovery);
    CHECK_EQ(tc->ssthresh, 5 * 1460 / 2);
    /* RFC 6582: a full ACK (covering recover) ends recovery */
    c.rcv_nxt += 5 * 1460;
    peer_send_ack(&p, &c, 65535);
    CHECK(!tc->in_recovery);
    probe_free(&p);
}

/* A timeout during fast recovery is the same loss, already answered with
 * a reduction: as Linux (tcp_enter_loss sets ssthresh only outside
 * Recovery), ssthresh stays the recovery's, or the one loss would cut it
 * twice, from a FlightSize that recovery had inflated. */
TEST(rfc5681_3_1_a_timeout_in_fast_recovery_keeps_its_ssthresh)
{
    struct probe p;
    probe_init(&p, newreno);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, data, 20 * 1460, p.now);
    CHECK_EQ(probe_drain(&p), 10);          /* the initial window */
    for (int i = 0; i < 3; i++)
        peer_send_ack(&p, &c, 65535);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK(tc->in_recovery);
    CHECK_EQ(tc->ssthresh, 10 * 1460 / 2);
    for (int i = 0; i < 6; i++)             /* each inflates cwnd: from the 3rd, new data */
        peer_send_ack(&p, &c, 65535);
    CHECK_EQ(probe_drain(&p), 1 + 4);       /* the retransmission, 4 new */
    probe_advance(&p, 1 * SEC);             /* the RTO */
    CHECK_EQ(tc->cwnd, 1460);               /* it fired */
    CHECK_EQ(tc->ssthresh, 10 * 1460 / 2);
    probe_free(&p);
}

/* A segment shorter than the MSS (the peer's window cut it) is resent as
 * it was: the data after it was never sent, lies beyond the window, and
 * its ACK would be beyond SND.MAX, which the sender drops (RFC 9293
 * 3.10.7.4): that connection would never move again. */
TEST(rfc5681_3_2_fast_retransmit_resends_the_lost_segment_and_no_unsent_data)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c = { .port = 40000, .stack_port = 80, .snd_nxt = 1000 };
    c.listener = probe_listen(&p, 80, 1);
    struct tcp_segment syn = seg_make(c.port, c.stack_port, c.snd_nxt++, 0, S, 1000), r;
    syn.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(&p, &syn, NULL);
    CHECK(probe_recv(&p, &r));
    c.rcv_nxt = r.seq + 1;
    peer_send_ack(&p, &c, 1000);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), 0);
    CHECK_EQ(stack_send(p.stack, c.sock, data, 5000, p.now), 5000);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1000);
    for (int i = 0; i < 3; i++)
        peer_send_ack(&p, &c, 1000);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1000);
    probe_free(&p);
}

/* Queues more data than the initial window lets out and takes the ten
 * full segments that go out. */
static bool fill_the_initial_window(struct probe *p, struct peer *c)
{
    stack_send(p->stack, c->sock, data, 14 * 1460, p->now);
    for (uint32_t i = 0; i < 10; i++)
        if (!expect_seg(p, NULL, A, c->rcv_nxt + i * 1460, c->snd_nxt))
            return false;
    return probe_silent(p);
}

TEST(rfc3042_limited_transmit_sends_a_new_segment_on_each_of_the_first_two_dupacks)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK(fill_the_initial_window(&p, &c));
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    uint32_t cwnd = tc->cwnd;
    /* the first segment was lost: each later one brings a duplicate ACK,
     * and each of the first two lets one new segment out */
    struct tcp_segment r;
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt + 10 * 1460, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    CHECK(probe_silent(&p));
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt + 11 * 1460, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    CHECK(probe_silent(&p));
    CHECK_EQ(tc->cwnd, cwnd);
    CHECK(!tc->in_recovery);
    probe_free(&p);
}

TEST(rfc3042_the_third_dupack_after_limited_transmit_fast_retransmits)
{
    struct probe p;
    probe_init(&p, newreno);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK(fill_the_initial_window(&p, &c));
    struct tcp_segment r;
    for (int i = 0; i < 2; i++) {
        peer_send_ack(&p, &c, 65535);
        CHECK(probe_recv(&p, &r));
    }
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK(tc->in_recovery);
    /* RFC 5681 3.2 step 2: the data limited transmit sent is not part of
     * the FlightSize that halves; cwnd = ssthresh + 3*SMSS is less than
     * the 12 segments in flight, so nothing new goes out */
    CHECK_EQ(tc->ssthresh, 10 * 1460 / 2);
    CHECK_EQ(tc->cwnd, 10 * 1460 / 2 + 3 * 1460);
    CHECK(probe_silent(&p));
    probe_free(&p);
}

TEST(rfc3042_limited_transmit_stays_within_the_receivers_window)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_ack(&p, &c, 10 * 1460);
    CHECK(fill_the_initial_window(&p, &c));
    peer_send_ack(&p, &c, 10 * 1460);
    peer_send_ack(&p, &c, 10 * 1460);
    CHECK(probe_silent(&p));
    peer_send_ack(&p, &c, 10 * 1460);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_free(&p);
}

TEST(rfc6582_partial_ack_retransmits_next_hole)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, data, 6 * 1460, p.now);
    struct tcp_segment r;
    probe_drain(&p);
    for (int i = 0; i < 3; i++)
        peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    /* segments 1 and 3 were lost: the retransmission of 1 brings a
     * partial ACK up to segment 3, which is resent at once */
    c.rcv_nxt += 2 * 1460;
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    CHECK(stack_sock_conn(p.stack, c.sock)->in_recovery);
    probe_free(&p);
}

/* RFC 6582 3.2 step 3: a partial ACK resends the first unacknowledged
 * segment as it was sent. In the middle of one (a receiver whose window
 * ended there kept the front), that is the rest of it, not a full MSS
 * from there: its end went out beyond SND.MAX, unknown to SND.MAX, and the
 * receiver's ACK of it was taken for an ACK of unsent data and dropped,
 * for ever. */
TEST(rfc6582_3_2_a_partial_ack_mid_segment_resends_only_what_was_sent)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK(fill_the_initial_window(&p, &c));
    for (int i = 0; i < 3; i++)
        peer_send_ack(&p, &c, 65535);
    struct tcp_segment r;
    while (probe_recv(&p, &r)) /* two limited transmits, the fast retransmit */
        ;
    c.rcv_nxt += 11 * 1460 + 500;   /* into the last of 12 segments sent */
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 960);
    probe_free(&p);
}

TEST(rfc9293_3_7_4_nagle_holds_small_segment_while_data_unacked)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, "a", 1, p.now);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    stack_send(p.stack, c.sock, "b", 1, p.now);
    stack_send(p.stack, c.sock, "c", 1, p.now);
    CHECK(probe_silent(&p));
    c.rcv_nxt++;
    peer_send_ack(&p, &c, 65535);
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 2); /* coalesced */
    probe_free(&p);
}

TEST(rfc896_minshall_a_partial_segment_after_full_ones_goes_out_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* A 2200-byte reply: no earlier short segment is unacknowledged, so
     * the 740-byte tail does not wait for the ACK of the full segment
     * (which a peer delaying its ACKs holds back 40 ms). */
    CHECK_EQ(stack_send(p.stack, c.sock, data, 2200, p.now), 2200);
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt + 1460, c.snd_nxt));
    CHECK_EQ(r.len, 740);
    probe_free(&p);
}

TEST(rfc896_minshall_a_small_segment_waits_while_an_earlier_small_one_is_unacked)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, data, 1560, p.now);
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt + 1460, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    stack_send(p.stack, c.sock, "abc", 3, p.now);
    CHECK(probe_silent(&p));
    /* the full segment acknowledged, the short one not yet: still held */
    c.rcv_nxt += 1460;
    peer_send_ack(&p, &c, 65535);
    CHECK(probe_silent(&p));
    c.rcv_nxt += 100;
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 3);
    probe_free(&p);
}

TEST(rfc9293_3_7_4_nodelay_sends_small_segments_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_NODELAY, 1, p.now), 0);
    stack_send(p.stack, c.sock, "a", 1, p.now);
    stack_send(p.stack, c.sock, "b", 1, p.now);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt + 1, c.snd_nxt));
    probe_free(&p);
}

TEST(rfc9293_3_8_6_3_delayed_ack_every_second_segment_or_timer)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, data, 1460, 0);
    CHECK(probe_silent(&p));
    peer_send_data(&p, &c, data, 1460, 0);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    peer_send_data(&p, &c, data, 100, P);
    probe_advance(&p, p.cfg.tcp.delack_us - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_free(&p);
}

TEST(rfc9293_3_8_6_1_zero_window_is_probed_with_backoff)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_ack(&p, &c, 0);
    stack_send(p.stack, c.sock, "hello", 5, p.now);
    CHECK(probe_silent(&p));
    struct tcp_segment r;
    uint64_t rto = p.cfg.tcp.rto_min_us;
    for (int i = 0; i < 3; i++) {
        probe_advance(&p, rto - 1);
        CHECK(probe_silent(&p));
        probe_advance(&p, 1);
        /* one octet of new data, resent while the window stays shut */
        CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
        CHECK_EQ(r.len, 1);
        peer_send_ack(&p, &c, 0);  /* the receiver answers: still zero */
        rto *= 2;
    }
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    peer_send_ack(&p, &c, 65535);   /* the window opens */
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 5);
    probe_free(&p);
}

TEST(rfc1122_4_2_3_4_small_window_is_used_by_the_override_timer)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, data, 14600, p.now);
    struct tcp_segment r;
    probe_drain(&p);
    c.rcv_nxt += 14600;
    stack_send(p.stack, c.sock, data, 5000, p.now);
    peer_send_ack(&p, &c, 100); /* a window far below an MSS */
    CHECK(probe_silent(&p));   /* sender SWS avoidance */
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    probe_free(&p);
}

TEST(rfc1122_4_2_3_4_data_sent_by_the_override_timer_is_retransmitted)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_send(p.stack, c.sock, data, 14600, p.now);
    struct tcp_segment r;
    probe_drain(&p);
    c.rcv_nxt += 14600;
    stack_send(p.stack, c.sock, data, 5000, p.now);
    peer_send_ack(&p, &c, 100);
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    /* The segment is lost: the retransmission timer resends it after the
     * (backed-off) RTO, as any data in flight. */
    probe_advance(&p, 2 * p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    probe_free(&p);
}

/* Keepalive on: probes after 10 s idle, every 2 s, 3 of them. */
static void keepalive_10_2_3(struct probe *p, struct peer *c)
{
    CHECK_EQ(stack_setopt(p->stack, c->sock, STACK_OPT_KEEPIDLE, 10, p->now), 0);
    CHECK_EQ(stack_setopt(p->stack, c->sock, STACK_OPT_KEEPINTVL, 2, p->now), 0);
    CHECK_EQ(stack_setopt(p->stack, c->sock, STACK_OPT_KEEPCNT, 3, p->now), 0);
    CHECK_EQ(stack_setopt(p->stack, c->sock, STACK_OPT_KEEPALIVE, 1, p->now), 0);
}

TEST(rfc1122_4_2_3_6_keepalive_probes_idle_connection_then_times_out)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    keepalive_10_2_3(&p, &c);
    probe_advance(&p, 10 * SEC - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    /* SEG.SEQ = SND.NXT - 1: the peer must answer with an ACK */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt - 1, c.snd_nxt));
    peer_send_ack(&p, &c, 65535);          /* answered: idle again */
    probe_advance(&p, 10 * SEC);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt - 1, c.snd_nxt));
    for (int i = 0; i < 2; i++) {           /* unanswered */
        probe_advance(&p, 2 * SEC);
        CHECK(expect_seg(&p, NULL, A, c.rcv_nxt - 1, c.snd_nxt));
    }
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_advance(&p, 2 * SEC);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ETIMEDOUT);
    probe_free(&p);
}

/* A segment that only earns a challenge ACK (RFC 5961: an in-window SYN
 * or RST a blind attacker can send) is no sign of the peer: as Linux
 * (rcv_tstamp and probes_out reset in tcp_ack), only a segment whose ACK
 * is processed counts, or forged segments keep a dead peer's connection
 * from timing out. */
TEST(rfc1122_4_2_3_6_keepalive_not_reset_by_segments_that_only_earn_a_challenge_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    keepalive_10_2_3(&p, &c);
    probe_advance(&p, 10 * SEC);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt - 1, c.snd_nxt));
    for (int i = 0; i < 6; i++) {            /* the peer is gone; a forger is not */
        probe_advance(&p, 1 * SEC);
        struct tcp_segment syn = seg_make(c.port, 80, c.snd_nxt + 100, 0, S, 65535);
        probe_send(&p, &syn, NULL);
        if (stack_sock_state(p.stack, c.sock) == TCP_CLOSED)
            break;
    }
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ETIMEDOUT);
    probe_free(&p);
}

TEST(rfc9293_3_7_1_peer_mss_limits_segment_size)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_options opt = { .has_mss = true, .mss = 536 };
    peer_passive_open(&p, &c, 80, &opt);
    stack_send(p.stack, c.sock, data, 3000, p.now);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    CHECK_EQ(r.len, 536);
    probe_free(&p);
}

TEST(rfc9293_3_7_1_no_mss_option_means_536)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_options opt = { 0 };
    peer_passive_open(&p, &c, 80, &opt);
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_mss, 536);
    probe_free(&p);
}

TEST(rfc7323_2_window_scale_negotiated_and_applied)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_options opt = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 2 };
    peer_passive_open(&p, &c, 80, &opt);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK(tc->ws_on);
    CHECK_EQ(tc->snd_wscale, 2);
    peer_send_ack(&p, &c, 1000);
    CHECK_EQ(tc->snd_wnd, 4000);
    /* our advertised window is scaled by our shift */
    peer_send_data(&p, &c, data, 10, P);
    probe_advance(&p, SEC);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    CHECK_EQ((uint32_t)r.wnd << tc->rcv_wscale, tc->rcv_wnd);
    CHECK(tc->rcv_wscale > 0); /* 256 KiB buffer needs a shift */
    probe_free(&p);
}

TEST(rfc7323_2_3_shift_over_14_is_used_as_14)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_options opt = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 20 };
    peer_passive_open(&p, &c, 80, &opt);
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_wscale, 14);
    probe_free(&p);
}

static struct tcp_options ts_opt(uint32_t val, uint32_t ecr)
{
    return (struct tcp_options){ .has_mss = true, .mss = 1460, .has_ts = true,
                                 .ts_val = val, .ts_ecr = ecr };
}

/* A connection to the stack's port 80 with timestamps negotiated. */
static void open_with_timestamps(struct probe *p, struct peer *c, uint32_t tsval)
{
    probe_init(p, NULL);
    struct tcp_options opt = ts_opt(tsval, 0);
    peer_passive_open(p, c, 80, &opt);
}

static void send_ts_data(struct probe *p, struct peer *c, uint32_t tsval,
                         const char *text, uint32_t len)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt, c->rcv_nxt, A, 65535);
    s.opt = ts_opt(tsval, 0);
    s.len = len;
    probe_send(p, &s, text);
    c->snd_nxt += len;
}

TEST(rfc7323_3_timestamps_echoed_on_every_segment)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 100);
    send_ts_data(&p, &c, 150, "ab", 2);
    send_ts_data(&p, &c, 160, "cd", 2);
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK(r.opt.has_ts);
    /* RFC 7323 4.3: with a delayed ACK, the earliest unacknowledged
     * segment's TSval is echoed (the second did not cover Last.ACK.sent) */
    CHECK_EQ(r.opt.ts_ecr, 150);
    probe_free(&p);
}

TEST(rfc7323_5_3_paws_drops_old_timestamp_and_acks)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 1000);
    send_ts_data(&p, &c, 2000, "ab", 2);
    probe_advance(&p, SEC);
    probe_drain(&p);
    send_ts_data(&p, &c, 1500, "cd", 2); /* an old duplicate from a past life */
    c.snd_nxt -= 2;
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 2);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

TEST(rfc7323_5_5_a_ts_recent_idle_for_24_days_is_replaced_by_an_older_tsval)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 1000000);
    send_ts_data(&p, &c, 2000000, "ab", 2);
    probe_advance(&p, 25ull * 24 * 3600 * SEC);
    struct tcp_segment r;
    probe_drain(&p);
    /* RFC 7323 5.5: after more than 24 days idle TS.Recent is outdated
     * (the peer's clock may have wrapped): the segment is accepted and its
     * TSval becomes TS.Recent, so later segments are judged, and echoed,
     * against the new value (as Linux's tcp_paws_check). */
    send_ts_data(&p, &c, 5000, "cd", 2);
    send_ts_data(&p, &c, 5001, "ef", 2);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.opt.ts_ecr, 5000);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 6);
    probe_free(&p);
}

TEST(rfc7323_4_3_a_segment_dropped_for_its_ack_does_not_update_ts_recent)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 1000);
    uint32_t ts_recent = c.ts_val;         /* the handshake's ACK */
    /* In the window, but it acknowledges data never sent (RFC 9293
     * 3.10.7.4 fifth): answered with an ACK and dropped. Its TSval must
     * not become TS.Recent. */
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, c.rcv_nxt + 1000, A, 65535);
    s.opt = ts_opt(ts_recent + 1000000, 0);
    s.len = 3;
    probe_send(&p, &s, "xyz");
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.opt.ts_ecr, ts_recent);
    /* The next valid segment, with the peer's real clock, passes PAWS. */
    peer_send_data(&p, &c, "abc", 3, P);
    probe_advance(&p, SEC);                /* the delayed ACK */
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.opt.ts_ecr, c.ts_val);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    probe_free(&p);
}

/* An ACK below SND.UNA (but within MAX.SND.WND: RFC 5961 5.2 keeps
 * it) is old: its text is taken, but as Linux (tcp_ack leaves through
 * old_ack before tcp_replace_ts_recent) its TSval does not become
 * TS.Recent, nor does it show the peer alive. */
TEST(rfc7323_4_3_a_segment_with_an_old_ack_does_not_update_ts_recent)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 1000);
    CHECK_EQ(stack_send(p.stack, c.sock, "hello", 5, p.now), 5);
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt += 5;
    peer_send_ack(&p, &c, 65535);          /* SND.UNA past "hello" */
    uint32_t ts_recent = c.ts_val;
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, c.rcv_nxt - 5, A, 65535);
    s.opt = ts_opt(ts_recent + 1000000, 0);
    s.len = 3;
    probe_send(&p, &s, "xyz");
    c.snd_nxt += 3;
    probe_advance(&p, SEC);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.opt.ts_ecr, ts_recent);
    peer_send_data(&p, &c, "abc", 3, P);   /* the peer's real clock */
    probe_advance(&p, SEC);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.opt.ts_ecr, c.ts_val);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 6);
    CHECK(memcmp(buf, "xyzabc", 6) == 0);
    probe_free(&p);
}

TEST(rfc7323_3_2_segment_without_timestamp_is_dropped_once_negotiated)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 1000);
    CHECK(c.ts);
    c.ts = false;                          /* the test stops sending TSopt */
    peer_send_data(&p, &c, "ab", 2, P);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

static void short_msl(struct stack_config *cfg)
{
    cfg->tcp.msl_us = 5 * SEC;
}

TEST(rfc9293_3_10_8_time_wait_lasts_two_msl_configurable)
{
    struct probe p;
    probe_init(&p, short_msl);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_close(p.stack, c.sock, p.now);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    c.rcv_nxt++;
    peer_send_data(&p, &c, NULL, 0, F);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_advance(&p, 10 * SEC - 1);
    CHECK_EQ(probe_conns_open(&p), 1);
    probe_advance(&p, 1);
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

TEST(rfc9293_3_8_6_2_2_receiver_window_opens_in_large_steps)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    uint32_t edge = tc->rcv_adv;
    peer_send_data(&p, &c, data, 1000, P);
    stack_recv(p.stack, c.sock, buf, 100, 0, p.now); /* a small read */
    probe_advance(&p, SEC);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    /* the right edge did not creep forward by the 100 bytes read */
    CHECK_EQ(tc->rcv_adv, edge);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_ack_after_a_timeout_carries_snd_max)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_send(p.stack, c.sock, data, 2920, p.now), 2920);  /* 2 segments */
    while (!probe_silent(&p))
        ;
    /* the timeout sends SND.NXT back to SND.UNA to resend */
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    /* The peer, which got both segments, sends data. The stack's ACK
     * must carry the next new sequence number: the peer would find
     * SND.UNA outside its window and drop the ACK. */
    peer_send_data(&p, &c, "x", 1, P);
    probe_advance(&p, p.cfg.tcp.delack_us);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt + 2920, c.snd_nxt));
    probe_free(&p);
}

TEST(rfc7323_4_1_echo_older_than_the_retransmission_is_no_rtt_sample)
{
    struct probe p;
    struct peer c;
    open_with_timestamps(&p, &c, 1000);
    CHECK(c.ts);
    CHECK_EQ(stack_send(p.stack, c.sock, "ping", 4, p.now), 4);
    struct tcp_segment ping;
    CHECK(expect_seg(&p, &ping, A | P, c.rcv_nxt, c.snd_nxt));
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    /* An ACK echoing a TSval from 10 s before: the peer answers an old
     * duplicate. Taken as a sample it would make the RTO 10 s. */
    struct tcp_segment ack = seg_make(c.port, 80, c.snd_nxt, c.rcv_nxt + 4, A, 65535);
    ack.opt = (struct tcp_options){ .has_ts = true, .ts_val = ++c.ts_val,
                                    .ts_ecr = ping.opt.ts_val - 10000 };
    probe_send(&p, &ack, NULL);
    const struct tcp_conn *conn = stack_sock_conn(p.stack, c.sock);
    CHECK_EQ(conn->snd_una, c.rcv_nxt + 4);
    CHECK_EQ(conn->rto_us, p.cfg.tcp.rto_min_us);
    probe_free(&p);
}

/* Queues `count` full segments from the peer, `skip` of them left out
 * (a gap), for the stack to read in one batch. */
static void queue_segments(struct probe *p, struct peer *c, int count, int skip)
{
    for (int i = 0; i < count; i++) {
        struct tcp_segment s = seg_make(c->port, 80, c->snd_nxt + (uint32_t)i * 1000,
                                        c->rcv_nxt, A, 65535);
        s.len = 1000;
        if (i != skip)
            probe_queue(p, &s, data);
    }
}

/* Queues `count` segments for one batch and expects their ACKs: one for
 * every `stride` of them, the last one at the batch's end. */
static void batch_acked(struct probe *p, struct peer *c, int count, int stride)
{
    queue_segments(p, c, count, -1);
    stack_receive(p->stack, p->now);
    for (int i = stride; i < count + stride; i += stride)
        CHECK(expect_seg(p, NULL, A, c->rcv_nxt, c->snd_nxt + (uint32_t)(i < count ? i : count) * 1000));
    CHECK(probe_silent(p));
    c->snd_nxt += (uint32_t)count * 1000;
}

TEST(rfc5681_4_2_a_first_batch_is_acked_every_second_segment)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* Nothing known yet of the peer's flight: the RFC's rule as it is. */
    batch_acked(&p, &c, 6, 2);
    probe_free(&p);
}

TEST(rfc2525_2_13_a_batch_folds_acks_to_a_quarter_of_the_last_batch)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    batch_acked(&p, &c, 16, 2);
    /* The next flight, read in one go too: an ACK every 16 / 4 segments
     * (stretch ACKs, as Linux sends after GRO, but four of them, so that
     * one lost ACK does not leave the sender without a clock). */
    batch_acked(&p, &c, 16, 4);
    /* a small flight after a large one: still a quarter of the last */
    batch_acked(&p, &c, 6, 4);
    batch_acked(&p, &c, 6, 2);
    probe_free(&p);
}

TEST(rfc5681_4_2_out_of_order_segments_in_a_batch_each_get_an_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* the first segment is missing: each later one is ACKed at once, so
     * that the sender sees its duplicate ACKs (fast retransmit) */
    queue_segments(&p, &c, 4, 0);
    stack_receive(p.stack, p.now);
    for (int i = 0; i < 3; i++)
        CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* Answers every segment the stack sent with a pure ACK of c->rcv_nxt and
 * window `wnd`; returns how many there were. */
static unsigned answer_all(struct probe *p, struct peer *c, uint16_t wnd)
{
    struct tcp_segment r;
    unsigned n = 0;
    while (probe_recv(p, &r)) {
        n++;
        peer_send_ack(p, c, wnd);
    }
    return n;
}

TEST(rfc1122_4_2_2_17_persist_backoff_is_reset_when_the_window_opens)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_ack(&p, &c, 0);
    CHECK_EQ(stack_send(p.stack, c.sock, "hello", 5, p.now), 5);
    /* Half an hour of zero window: the probes back off to the 120 s
     * maximum, and every one is answered. */
    for (int i = 0; i < 15; i++) {
        probe_advance(&p, 120 * SEC);
        CHECK(answer_all(&p, &c, 0) > 0);
    }
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    peer_send_ack(&p, &c, 65535);   /* the window opens */
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 5);
    /* That segment is lost: it is resent after the RTO (the 200 ms
     * minimum here), not after the probes' 120 s, and one loss does not
     * end the connection. */
    probe_advance(&p, p.cfg.tcp.rto_min_us - 1);
    CHECK(probe_silent(&p));
    probe_advance(&p, 1);
    CHECK(expect_seg(&p, &r, A | P, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 5);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_free(&p);
}

TEST(rfc1122_4_2_2_17_a_window_that_shrinks_to_zero_with_data_in_flight_is_probed)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_send(p.stack, c.sock, data, 4 * 1460, p.now), 4 * 1460);
    struct tcp_segment r;
    probe_drain(&p);
    /* The peer takes the first segment and shuts its window: the other
     * three are in flight beyond it. */
    c.rcv_nxt += 1460;
    peer_send_ack(&p, &c, 0);
    /* Two hours: the stack keeps probing (never more than the 120 s
     * maximum apart) and, since the peer answers every probe, never
     * gives up. */
    for (int i = 0; i < 60; i++) {
        probe_advance(&p, 121 * SEC);
        CHECK_MSG(answer_all(&p, &c, 0) > 0, "silent for 121 s, round %d", i);
        CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    }
    /* The window opens: the data beyond the old edge goes again. */
    peer_send_ack(&p, &c, 65535);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 1460);
    probe_free(&p);
}

TEST(rfc1122_4_2_2_17_a_window_that_shrinks_below_a_segment_with_data_in_flight_is_used)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_send(p.stack, c.sock, data, 4 * 1460, p.now), 4 * 1460);
    struct tcp_segment r;
    probe_drain(&p);
    /* The peer takes the first segment and offers 100 octets: too few to
     * resend a segment (sender SWS avoidance), so at the timeout the
     * override timer sends what fits. */
    c.rcv_nxt += 1460;
    peer_send_ack(&p, &c, 100);
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    /* Those 100 octets are lost: they are sent again, with backoff. */
    probe_advance(&p, 4 * p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    /* Acknowledged: the next 100 follow. */
    c.rcv_nxt += 100;
    peer_send_ack(&p, &c, 100);
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 100);
    probe_free(&p);
}

/* Data from the peer, whose own window stays shut. */
static void send_data_in_a_shut_window(struct probe *p, struct peer *c,
                                       const char *text, uint32_t len)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt, c->rcv_nxt, A | P, 0);
    s.len = len;
    probe_send(p, &s, text);
    c->snd_nxt += len;
}

/* A connection whose peer shut its window under "hello": true once the
 * stack's probe octet, beyond the window, has come. */
static bool probing_a_shut_window(struct probe *p, struct peer *c)
{
    peer_passive_open(p, c, 80, NULL);
    peer_send_ack(p, c, 0);
    if (stack_send(p->stack, c->sock, "hello", 5, p->now) != 5)
        return false;
    probe_advance(p, p->cfg.tcp.rto_min_us);
    struct tcp_segment r;
    return expect_seg(p, &r, A, c->rcv_nxt, c->snd_nxt) && r.len == 1;
}

TEST(rfc9293_3_10_7_4_acks_sent_during_a_zero_window_probe_carry_an_acceptable_seq)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    CHECK(probing_a_shut_window(&p, &c));
    struct tcp_segment r;
    /* The peer, window still shut, sends data. The stack's ACK must not
     * carry the sequence number after the probe octet: with RCV.WND = 0
     * the peer accepts only SEG.SEQ = RCV.NXT and would drop the ACK. */
    send_data_in_a_shut_window(&p, &c, "x", 1);
    probe_advance(&p, p.cfg.tcp.delack_us);
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(r.len, 0);
    probe_free(&p);
}

TEST(rfc5961_3_2_a_rst_sent_during_a_zero_window_probe_is_at_the_peers_rcv_nxt)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    CHECK(probing_a_shut_window(&p, &c));
    /* Closing with unread data resets: the peer takes a RST only at
     * exactly its RCV.NXT, not after the octet it did not accept. */
    send_data_in_a_shut_window(&p, &c, "unread", 6);
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, R | A, c.rcv_nxt, c.snd_nxt));
    probe_free(&p);
}

/* The daemon handled a batch of events with one clock reading: a connect
 * early in the batch sent its SYN at a later reading than the one the
 * SYN-ACK further on was processed with. The sample wrapped around to
 * 2^64 microseconds and made the RTO 120 s. */
TEST(rfc6298_2_an_answer_processed_at_an_earlier_reading_gives_no_huge_rtt)
{
    struct probe p;
    probe_init(&p, NULL);
    p.now = 10000000;
    struct sock *k;
    stack_socket(p.stack, &k);
    CHECK_EQ(stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now + 50), -EINPROGRESS);
    struct tcp_segment syn, synack;
    CHECK(probe_recv(&p, &syn));
    synack = seg_make(80, syn.sport, 5000, syn.seq + 1, TCP_SYN | TCP_ACK, 65535);
    probe_send(&p, &synack, NULL);    /* at p.now: 50 us "before" the SYN */
    const struct tcp_conn *c = stack_sock_conn(p.stack, k);
    CHECK_EQ(c->state, TCP_ESTABLISHED);
    CHECK(c->rto_us <= 1000000);
    probe_free(&p);
}

TEST(rfc5482_user_timeout_ends_a_connection_whose_data_stays_unacknowledged)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_USER_TIMEOUT, 3000, p.now), 0);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_USER_TIMEOUT, -1, p.now), -EINVAL);
    CHECK_EQ(stack_send(p.stack, c.sock, "lost", 4, p.now), 4);
    probe_advance(&p, 2500000);   /* retransmitted, still trying */
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_advance(&p, 2500000);   /* 5 s: past 3 s (and long before the retry count) */
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSED);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ETIMEDOUT);
    probe_free(&p);
}

TEST(rfc5482_user_timeout_bounds_the_probing_of_a_shut_window)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_USER_TIMEOUT, 10000, p.now), 0);
    peer_send_ack(&p, &c, 0);                 /* the peer shuts its window */
    CHECK_EQ(stack_send(p.stack, c.sock, "wait", 4, p.now), 4);
    /* the peer answers every probe with a shut window: Linux gives up
     * once the user timeout has passed since the first probe */
    struct tcp_segment seg;
    uint64_t start = p.now;
    for (int i = 0; i < 60 && stack_sock_state(p.stack, c.sock) == TCP_ESTABLISHED; i++) {
        probe_advance(&p, 1000000);
        while (probe_recv(&p, &seg))
            peer_send_ack(&p, &c, 0);
    }
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSED);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ETIMEDOUT);
    CHECK(p.now - start <= 30000000);   /* without it, never while answered */
    probe_free(&p);
}

TEST(linux_tcp_quickack_sends_the_owed_ack_and_acks_the_next_segments_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "a", 1, TCP_PSH);
    CHECK(probe_silent(&p));                    /* RFC 9293 3.8.6.3: delayed */
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_QUICKACK, 1, p.now), 0);
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    int v;
    CHECK_EQ(stack_getopt(p.stack, c.sock, STACK_OPT_QUICKACK, &v), 0);
    CHECK_EQ(v, 1);
    peer_send_data(&p, &c, "b", 1, TCP_PSH);
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));   /* at once */
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_QUICKACK, 0, p.now), 0);
    peer_send_data(&p, &c, "c", 1, TCP_PSH);
    CHECK(probe_silent(&p));                    /* delayed again */
    probe_free(&p);
}

TEST(linux_delayedacklost_a_retransmission_of_held_data_makes_the_next_segments_acked_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "a", 1, TCP_PSH);
    CHECK(probe_silent(&p));                    /* RFC 9293 3.8.6.3: delayed */
    probe_advance(&p, p.cfg.tcp.delack_us);
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    /* The peer sends "a" again: it did not get that ACK. */
    struct tcp_segment again = seg_make(c.port, 80, c.snd_nxt - 1, c.rcv_nxt, TCP_ACK | TCP_PSH, 65535);
    again.len = 1;
    probe_send(&p, &again, "a");
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));   /* RFC 9293: at once */
    /* Linux (DELAYEDACKLOST): the next segments too, not after 40 ms,
     * so that the sender's clock restarts at once */
    for (int i = 0; i < 2; i++) {
        peer_send_data(&p, &c, "b", 1, TCP_PSH);
        CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    }
    probe_free(&p);
}
