/* Congestion control, rule by rule: CUBIC (RFC 9438) and HyStart++ (RFC
 * 9406) by calling an algorithm's operations on a connection of its own
 * over simulated time, where the window's course is the rule; the calls
 * the stack makes, over the probe harness; and TCP_CONGESTION. */
#include <errno.h>
#include <string.h>

#include "probe.h"
#include "test.h"

#define A TCP_ACK
#define S TCP_SYN
#define SMSS 1000

static char data[256 * 1024];

/* A connection of `cc` past its handshake, with `segs` SMSS of cwnd (and
 * all of it sent: SND.NXT is where the first round of HyStart++ ends). */
static void conn_for(struct tcp_conn *c, const struct tcp_cc_ops *cc, uint32_t segs)
{
    memset(c, 0, sizeof *c);
    c->state = TCP_ESTABLISHED;
    c->cc = cc;
    c->snd_mss = SMSS;
    c->cwnd = segs * SMSS;
    c->ssthresh = TCP_CWND_MAX;
    c->snd_una = 1;
    c->snd_nxt = c->snd_una + c->cwnd;
    cc->init(c);
}

/* A loss detected with cwnd in flight, and its recovery over: cwnd is the
 * new ssthresh (RFC 6582 3.2 step 3). */
static void loss_recovered(struct tcp_conn *c)
{
    c->ssthresh = c->cc->ssthresh(c, c->cwnd);
    c->cwnd = c->ssthresh;
}

/* One round trip of `rtt` in which a window, cwnd at its start, is
 * acknowledged an SMSS at a time, the ACKs spread over the round. */
static void ack_round(struct tcp_conn *c, uint64_t *now, uint64_t rtt)
{
    uint32_t window = c->cwnd, segs = (window + SMSS - 1) / SMSS;
    for (uint32_t i = 0; i < segs; i++) {
        uint32_t acked = i + 1 < segs ? SMSS : window - i * SMSS;
        c->cc->on_ack(c, acked, *now + rtt * i / segs);
    }
    *now += rtt;
}

/* The cube root, by Newton's method (no libm). */
static double cube_root(double x)
{
    double r = x > 1 ? x : 1;
    for (int i = 0; i < 200; i++)
        r = (2 * r + x / (r * r)) / 3;
    return r;
}

/* RFC 9438 4.2 eq. 1 in segments and seconds. */
static double w_cubic_segs(double t, double k, double w_max)
{
    return 0.4 * (t - k) * (t - k) * (t - k) + w_max;
}

/* RFC 9438 4.2: after a loss at W_max = 1000 segments, cwnd (700 then)
 * follows W_cubic(t) = C * (t - K)^3 + W_max with K = cubic_root((W_max -
 * cwnd_epoch) / C): concave up to W_max at K (4.4), convex beyond (4.5).
 * With this window and a 100 ms round trip the Reno-friendly estimate
 * stays below. */
TEST(rfc9438_4_2_window_follows_the_cubic_curve)
{
    struct tcp_conn c;
    conn_for(&c, &tcp_cc_cubic, 1000);
    c.srtt_us = 100 * MSEC;
    loss_recovered(&c);
    CHECK_EQ(c.cwnd, 700 * SMSS);
    double k = cube_root((1000 - 700) / 0.4);
    uint64_t start = 1000 * SEC, now = start;
    while (now - start < (uint64_t)((k + 5) * SEC)) {
        double t = (double)(now - start) / SEC;
        double expect = w_cubic_segs(t, k, 1000), got = (double)c.cwnd / SMSS;
        CHECK_MSG(got > expect - 1 && got < expect + 1,
                  "t %.1f s: cwnd %.2f segments, W_cubic %.2f", t, got, expect);
        ack_round(&c, &now, 100 * MSEC);
    }
    CHECK(c.cwnd > 1045 * SMSS);
}

/* RFC 9438 4.3: with a short round trip, Reno's AIMD (alpha_cubic =
 * 3 * (1 - 0.7) / (1 + 0.7) = 9/17 of an SMSS a round) grows faster than
 * the cubic function: cwnd follows W_est, and W_est grows by a whole SMSS
 * a round once it reaches cwnd_prior, the window before the loss. */
TEST(rfc9438_4_3_reno_friendly_region)
{
    struct tcp_conn c;
    conn_for(&c, &tcp_cc_cubic, 100);
    c.srtt_us = 10 * MSEC;
    loss_recovered(&c);
    uint64_t start = 1000 * SEC, now = start;
    double w_est = 70, k = cube_root(30 / 0.4);
    for (int round = 1; round <= 100; round++) {
        ack_round(&c, &now, 10 * MSEC);
        w_est += w_est >= 100 ? 1.0 : 9.0 / 17;
        double got = (double)c.cwnd / SMSS;
        CHECK_MSG(got > w_est - 1 && got < w_est + 1, "round %d: cwnd %.2f, W_est %.2f",
                  round, got, w_est);
        CHECK(w_est > w_cubic_segs((double)(now - start) / SEC, k, 100));
    }
    CHECK(w_est > 125);
}

/* RFC 9438 4.5: far into the convex region the target is at most 1.5 *
 * cwnd: cwnd grows by at most half of what is acknowledged. (After a
 * timeout, 4.8, the region is convex from the start.) */
TEST(rfc9438_4_5_target_clamped_to_one_and_a_half_cwnd)
{
    struct tcp_conn c;
    conn_for(&c, &tcp_cc_cubic, 100);
    c.srtt_us = 10 * SEC;   /* W_cubic(t + RTT) is beyond any clamp */
    c.ssthresh = c.cc->ssthresh(&c, c.cwnd);
    c.cc->on_timeout(&c);
    c.cwnd = c.ssthresh;
    uint64_t now = 1000 * SEC;
    c.cc->on_ack(&c, SMSS, now);
    uint32_t before = c.cwnd;
    c.cc->on_ack(&c, 10 * SMSS, now + SEC);
    CHECK_MSG(c.cwnd - before >= 5 * SMSS - 1 && c.cwnd - before <= 5 * SMSS,
              "cwnd %u -> %u", before, c.cwnd);
}

static unsigned ack_each(struct probe *p, struct peer *c);

/* A connection the test opened to the stack, which then writes `bytes`
 * (under `tweak`'s configuration); how many segments went at once. */
static unsigned open_and_send(struct probe *p, struct peer *c,
                              void (*tweak)(struct stack_config *cfg), size_t bytes)
{
    probe_init(p, tweak);
    peer_passive_open(p, c, 80, NULL);
    stack_send(p->stack, c->sock, data, bytes, p->now);
    return probe_drain(p);
}

static void newreno(struct stack_config *cfg)
{
    cfg->tcp.cc = &tcp_cc_newreno;
}

/* RFC 9438 4.6: on a loss ssthresh = cwnd * beta_cubic with beta_cubic
 * = 0.7 (NewReno halves FlightSize, RFC 5681 3.1 eq. 4, the same here:
 * the ten segments of cwnd are in flight), and fast recovery starts from
 * there (RFC 6582: cwnd = ssthresh + 3 SMSS). CUBIC is the default. */
TEST(rfc9438_4_6_multiplicative_decrease_beta_0_7)
{
    static void (*const tweaks[2])(struct stack_config *) = { NULL, newreno };
    static const uint32_t ssthresh[2] = { 10 * 1460 * 7 / 10, 10 * 1460 / 2 };
    for (int i = 0; i < 2; i++) {
        struct probe p;
        struct peer c;
        CHECK_EQ(open_and_send(&p, &c, tweaks[i], 10 * 1460), 10);
        for (int d = 0; d < 3; d++)
            peer_send_ack(&p, &c, 65535);
        const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
        CHECK(tc->in_recovery);
        CHECK_EQ(tc->ssthresh, ssthresh[i]);
        CHECK_EQ(tc->cwnd, ssthresh[i] + 3 * 1460);
        probe_free(&p);
    }
}

/* RFC 9438 4.6 with cwnd for flight_size, as Linux (cwnd cannot grow
 * beyond what is sent, the rule below): a loss shown by a stretch ACK,
 * which acknowledged six of the ten segments in flight and SACKed the
 * last three, cuts cwnd to 0.7 of itself, not to 0.7 of the four
 * segments that ACK left in flight. */
TEST(rfc9438_4_6_ssthresh_from_cwnd_not_what_a_stretch_ack_left_in_flight)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    uint32_t base = c.rcv_nxt;
    stack_send(p.stack, c.sock, data, 10 * 1460, p.now);
    CHECK_EQ(probe_drain(&p), 10);
    probe_advance(&p, 10 * MSEC);
    const uint32_t sacked[2] = { base + 7 * 1460, base + 10 * 1460 };
    peer_send_sack(&p, &c, base + 6 * 1460, 1, sacked);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK(tc->in_recovery);
    uint32_t cwnd = tc->cc_state.cubic.e.cwnd_prior;
    CHECK(cwnd >= 10 * 1460);
    CHECK_EQ(tc->ssthresh, cwnd * 7 / 10);
    probe_free(&p);
}

/* RFC 9438 4.6 and RFC 7661 (Linux's tcp_is_cwnd_limited): cwnd grows
 * only while it limits what is sent. A program that writes two segments
 * per round trip leaves the initial window of ten as it was (in slow
 * start: less than half of it used), for NewReno and CUBIC; a flight
 * that fills it makes it grow. */
TEST(rfc7661_cwnd_grows_only_while_it_limits_sending)
{
    static void (*const tweaks[2])(struct stack_config *) = { NULL, newreno };
    for (int i = 0; i < 2; i++) {
        struct probe p;
        probe_init(&p, tweaks[i]);
        struct peer c;
        peer_passive_open(&p, &c, 80, NULL);
        const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
        uint32_t initial = tc->cwnd;
        for (int round = 0; round < 5; round++) {
            stack_send(p.stack, c.sock, data, 2 * 1460, p.now);
            probe_advance(&p, 10 * MSEC);
            CHECK_EQ(ack_each(&p, &c), 2);
        }
        CHECK_EQ(tc->cwnd, initial);
        stack_send(p.stack, c.sock, data, 10 * 1460, p.now);
        probe_advance(&p, 10 * MSEC);
        CHECK_EQ(ack_each(&p, &c), 10);
        CHECK(tc->cwnd > initial);
        probe_free(&p);
    }
}

/* RFC 9438 4.7: a loss below the W_max of the loss before means the flow
 * should give up bandwidth: W_max = cwnd * (1 + beta_cubic) / 2, and the
 * window's plateau (at t = K) is that, not the cwnd of the loss. */
TEST(rfc9438_4_7_fast_convergence)
{
    struct tcp_conn c;
    conn_for(&c, &tcp_cc_cubic, 1000);
    c.srtt_us = 100 * MSEC;
    loss_recovered(&c);
    CHECK_EQ(c.cc_state.cubic.e.w_max, 1000 * SMSS);
    c.cwnd = 900 * SMSS;   /* the next loss comes sooner */
    loss_recovered(&c);
    CHECK_EQ(c.cc_state.cubic.e.w_max, 765 * SMSS);
    CHECK_EQ(c.cwnd, 630 * SMSS);
    /* the window rises to the plateau at 765 segments at K */
    double k = cube_root((765 - 630) / 0.4);
    uint64_t start = 1000 * SEC, now = start;
    while (now - start < (uint64_t)(k * SEC))
        ack_round(&c, &now, 100 * MSEC);
    CHECK_MSG(c.cwnd > 763 * SMSS && c.cwnd < 767 * SMSS, "cwnd %u at K", c.cwnd);
    /* a loss above W_max takes W_max from cwnd */
    c.cwnd = 800 * SMSS;
    loss_recovered(&c);
    CHECK_EQ(c.cc_state.cubic.e.w_max, 800 * SMSS);
}

/* Receives what the stack sent, then ACKs each segment (a round trip of
 * no time); how many. */
static unsigned ack_each(struct probe *p, struct peer *c)
{
    struct tcp_segment r;
    uint32_t ends[64];
    unsigned n = 0;
    while (n < 64 && probe_recv(p, &r))
        ends[n++] = r.seq + r.len;
    for (unsigned i = 0; i < n; i++) {
        c->rcv_nxt = ends[i];
        peer_send_ack(p, c, 65535);
    }
    return n;
}

/* RFC 9438 4.8: a timeout sets ssthresh as 4.6 does and cwnd to one
 * segment; the first congestion avoidance after it has K = 0 and W_max =
 * W_est = cwnd_epoch, the window it begins with (convex at once). */
TEST(rfc9438_4_8_timeout)
{
    struct probe p;
    struct peer c;
    CHECK_EQ(open_and_send(&p, &c, NULL, sizeof data), 10);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    probe_advance(&p, tc->rto_us);
    CHECK_EQ(tc->ssthresh, 10 * 1460 * 7 / 10);
    CHECK_EQ(tc->cwnd, 1460);
    /* slow start back up to ssthresh, then congestion avoidance */
    const struct tcp_cubic_epoch *e = &tc->cc_state.cubic.e;
    CHECK(!e->begun);
    while (!e->begun)
        CHECK(ack_each(&p, &c) > 0);
    CHECK_EQ(e->k_ms, 0);
    CHECK_EQ(e->cwnd_epoch, tc->ssthresh);
    CHECK_EQ(e->w_max, e->cwnd_epoch);
    CHECK(e->w_est >= e->cwnd_epoch);
    probe_free(&p);
}

/* RFC 9438 5.8: time the application left the connection idle does not
 * count in the cubic function's t: as Linux, the stage's start moves on
 * by the time since the last data sent when new data goes with nothing
 * in flight. */
TEST(rfc9438_5_8_idle_time_is_not_counted_in_t)
{
    struct probe p;
    struct peer c;
    CHECK_EQ(open_and_send(&p, &c, NULL, 10 * 1460), 10);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    /* a timeout, then slow start to ssthresh: congestion avoidance */
    probe_advance(&p, tc->rto_us);
    const struct tcp_cubic_epoch *e = &tc->cc_state.cubic.e;
    while (!e->begun)
        CHECK(ack_each(&p, &c) > 0);
    while (ack_each(&p, &c) > 0)
        ;
    CHECK_EQ(tc->snd_una, tc->snd_max);
    uint64_t start = e->start, last_sent = tc->last_data_sent_at;
    probe_advance(&p, 5 * SEC);
    stack_send(p.stack, c.sock, data, 1460, p.now);
    CHECK_EQ(probe_drain(&p), 1);
    CHECK_EQ(e->start, start + (p.now - last_sent));
    probe_free(&p);
}

/* RFC 9438 4.9: undoing a spurious reduction restores cwnd, ssthresh
 * and W_max. */
TEST(rfc9438_4_9_spurious_reduction_undone)
{
    const struct tcp_cc_ops *const ccs[2] = { &tcp_cc_cubic, &tcp_cc_newreno };
    for (int i = 0; i < 2; i++) {
        struct tcp_conn c;
        conn_for(&c, ccs[i], 100);
        c.ssthresh = 120 * SMSS;
        struct tcp_cubic_epoch before = c.cc_state.cubic.e;
        loss_recovered(&c);
        CHECK(c.cwnd < 100 * SMSS);
        c.cc->undo(&c);
        CHECK_EQ(c.cwnd, 100 * SMSS);
        CHECK_EQ(c.ssthresh, 120 * SMSS);
        if (ccs[i] == &tcp_cc_cubic)
            CHECK(!memcmp(&c.cc_state.cubic.e, &before, sizeof before));
    }
}

/* A CUBIC connection in slow start, the end of its round (SND.NXT when
 * the round began, as HyStart++ counts them) and the clock. */
struct slow_start {
    struct tcp_conn c;
    uint32_t round_end;
    uint64_t now;
};

/* One round of slow start: every SMSS sent before it began comes back
 * with an ACK and an RTT sample of `rtt`; after each ACK cwnd's worth is
 * out. */
static void slow_start_round(struct slow_start *s, uint64_t rtt)
{
    struct tcp_conn *c = &s->c;
    uint32_t next_end = s->round_end;
    while (seq_lt(c->snd_una, s->round_end)) {
        c->snd_una += SMSS;
        next_end = c->snd_nxt;
        c->cc->on_rtt(c, rtt, s->now);
        c->cc->on_ack(c, SMSS, s->now);
        c->snd_nxt = c->snd_una + c->cwnd;
        s->now += MSEC;
    }
    s->round_end = next_end;
}

/* Ten segments sent, and two rounds of slow start at 100 ms. */
static void hystart_begin(struct slow_start *s)
{
    conn_for(&s->c, &tcp_cc_cubic, 10);
    s->round_end = s->c.snd_nxt;
    s->now = 1000 * SEC;
    slow_start_round(s, 100 * MSEC);
    slow_start_round(s, 100 * MSEC);
}

/* Growth of cwnd for the ACK of one more SMSS. */
static uint32_t growth_per_ack(struct tcp_conn *c, uint64_t now)
{
    uint32_t before = c->cwnd;
    c->snd_una += SMSS;
    c->cc->on_ack(c, SMSS, now);
    return c->cwnd - before;
}

/* RFC 9406 4.2: a round whose minimum RTT (over N_RTT_SAMPLE = 8
 * samples) is RttThresh = clamp(last round's / 8, 4 ms, 16 ms) above the
 * last round's leaves slow start for Conservative Slow Start, where cwnd
 * grows by a CSS_GROWTH_DIVISOR = 4th. A smaller increase does not. */
TEST(rfc9406_4_2_hystart_css_entered_on_rtt_increase)
{
    struct slow_start s;
    hystart_begin(&s);
    const struct tcp_hystart *hs = &s.c.cc_state.cubic.hs;
    CHECK_EQ(hs->phase, HYSTART_SLOW_START);
    slow_start_round(&s, 112 * MSEC);   /* + 12 ms < 100 / 8 */
    CHECK_EQ(hs->phase, HYSTART_SLOW_START);
    /* + 14 ms = 112 / 8: CSS from the eighth sample */
    for (int i = 0; i < 7; i++) {
        s.c.cc->on_rtt(&s.c, 126 * MSEC, s.now);
        CHECK_EQ(hs->phase, HYSTART_SLOW_START);
        /* RFC 9406 4.2: cwnd += min(N, L * SMSS) */
        CHECK_EQ(growth_per_ack(&s.c, s.now), SMSS);
    }
    s.c.cc->on_rtt(&s.c, 126 * MSEC, s.now);
    CHECK_EQ(hs->phase, HYSTART_CSS);
    CHECK_EQ(growth_per_ack(&s.c, s.now), SMSS / 4);
    CHECK_EQ(s.c.ssthresh, TCP_CWND_MAX);
}

/* Slow start at 100 ms, then a round at 120 ms that enters CSS. */
static void enter_css(struct slow_start *s)
{
    hystart_begin(s);
    slow_start_round(s, 120 * MSEC);
}

/* RFC 9406 4.2: in CSS, a round whose minimum RTT is below the baseline
 * (the minimum that led into CSS) shows the exit was spurious: back to
 * slow start. */
TEST(rfc9406_4_2_hystart_css_back_to_slow_start_on_rtt_decrease)
{
    struct slow_start s;
    enter_css(&s);
    const struct tcp_hystart *hs = &s.c.cc_state.cubic.hs;
    CHECK_EQ(hs->phase, HYSTART_CSS);
    for (int i = 0; i < 7; i++)
        s.c.cc->on_rtt(&s.c, 119 * MSEC, s.now);
    CHECK_EQ(hs->phase, HYSTART_CSS);
    s.c.cc->on_rtt(&s.c, 119 * MSEC, s.now);
    CHECK_EQ(hs->phase, HYSTART_SLOW_START);
    CHECK_EQ(growth_per_ack(&s.c, s.now), SMSS);
}

/* RFC 9406 4.2: after CSS_ROUNDS = 5 rounds of CSS, ssthresh = cwnd:
 * congestion avoidance (RFC 9438 4.10: with K = 0 and W_max = cwnd). */
TEST(rfc9406_4_2_hystart_exits_to_congestion_avoidance_after_css_rounds)
{
    struct slow_start s;
    enter_css(&s);
    const struct tcp_hystart *hs = &s.c.cc_state.cubic.hs;
    for (int round = 1; round < 5; round++) {
        slow_start_round(&s, 120 * MSEC);
        CHECK_EQ(hs->phase, HYSTART_CSS);
    }
    CHECK_EQ(s.c.ssthresh, TCP_CWND_MAX);
    slow_start_round(&s, 120 * MSEC);
    CHECK_EQ(hs->phase, HYSTART_OFF);
    CHECK_EQ(s.c.ssthresh, s.c.cwnd);
    uint32_t cwnd = s.c.cwnd;
    s.c.cc->on_ack(&s.c, SMSS, s.now);
    const struct tcp_cubic_epoch *e = &s.c.cc_state.cubic.e;
    CHECK(e->begun);
    CHECK_EQ(e->k_ms, 0);
    CHECK_EQ(e->w_max, cwnd);
    CHECK_EQ(e->cwnd_prior, cwnd);
}

/* Receives what the stack sent, lets `rtt` pass, and ACKs each segment
 * with its timestamp echoed. */
static void ack_each_echoing(struct probe *p, struct peer *c, uint64_t rtt)
{
    struct tcp_segment r;
    uint32_t ends[64], tsvals[64];
    unsigned n = 0;
    while (n < 64 && probe_recv(p, &r)) {
        ends[n] = r.seq + r.len;
        tsvals[n++] = r.opt.ts_val;
    }
    probe_advance(p, rtt);
    for (unsigned i = 0; i < n; i++) {
        struct tcp_segment ack = seg_make(c->port, c->stack_port, c->snd_nxt, ends[i], A, 65535);
        ack.opt = (struct tcp_options){ .has_ts = true, .ts_val = ++c->ts_val,
                                        .ts_ecr = tsvals[i] };
        probe_send(p, &ack, NULL);
    }
}

/* RFC 9406 4.2 over the stack: with timestamps every ACK brings an RTT
 * sample (RFC 7323 4.1), enough for HyStart++'s N_RTT_SAMPLE a round, and
 * a round trip grown by 30 ms leads into CSS. A round holds what was sent
 * before it began (windowEnd = SND.NXT): the last ACKs of a burst are
 * still in the round after, so only the second burst at 130 ms makes a
 * round all at 130 ms. */
TEST(rfc9406_4_2_hystart_takes_an_rtt_sample_from_every_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    const struct tcp_options ts = { .has_mss = true, .mss = 1460, .has_ts = true, .ts_val = 1 };
    peer_passive_open(&p, &c, 80, &ts);
    CHECK(c.ts);
    stack_send(p.stack, c.sock, data, sizeof data, p.now);
    const struct tcp_hystart *hs = &stack_sock_conn(p.stack, c.sock)->cc_state.cubic.hs;
    for (int round = 0; round < 3; round++) {
        ack_each_echoing(&p, &c, 100 * MSEC);
        CHECK_EQ(hs->phase, HYSTART_SLOW_START);
    }
    ack_each_echoing(&p, &c, 130 * MSEC);
    CHECK_EQ(hs->phase, HYSTART_SLOW_START);
    ack_each_echoing(&p, &c, 130 * MSEC);
    CHECK_EQ(hs->phase, HYSTART_CSS);
    probe_free(&p);
}

/* RFC 9406 4.3: only the first slow start uses HyStart++: a loss ends
 * it, and the later slow starts are RFC 5681's, min(N, SMSS) an ACK. */
TEST(rfc9406_4_3_hystart_only_in_the_first_slow_start)
{
    struct slow_start s;
    hystart_begin(&s);
    loss_recovered(&s.c);
    CHECK_EQ(s.c.cc_state.cubic.hs.phase, HYSTART_OFF);
    s.c.cwnd = SMSS;   /* after a timeout */
    s.c.cc->on_timeout(&s.c);
    CHECK_EQ(growth_per_ack(&s.c, s.now), SMSS);
    s.c.cc->on_ack(&s.c, 4 * SMSS, s.now);
    CHECK_EQ(s.c.cwnd, 3 * SMSS);
}

/* The stack's end of a connection the test opens to `l` from `port`. */
static struct sock *accepted(struct probe *p, struct sock *l, uint16_t stack_port, uint16_t port)
{
    struct tcp_segment syn = seg_make(port, stack_port, 1000, 0, S, 65535), r;
    syn.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(p, &syn, NULL);
    if (!probe_recv(p, &r))
        return NULL;
    struct tcp_segment ack = seg_make(port, stack_port, 1001, r.seq + 1, A, 65535);
    probe_send(p, &ack, NULL);
    struct sock *k = NULL;
    stack_accept(p->stack, l, &k);
    return k;
}

static int congestion_of(struct probe *p, struct sock *k)
{
    int v = -1;
    stack_getopt(p->stack, k, STACK_OPT_CONGESTION, &v);
    return v;
}

/* TCP_CONGESTION (Linux): per socket, before connect or listen; the
 * connections a listener accepts take its algorithm; an open connection
 * may switch and keeps its window; an algorithm the stack lacks is
 * ENOENT. Linux's names: "cubic", and "reno" for NewReno. */
TEST(tcp_congestion_per_socket_and_inherited_by_accepted_connections)
{
    CHECK(tcp_cc_find("cubic") == &tcp_cc_cubic);
    CHECK(tcp_cc_find("reno") == &tcp_cc_newreno);
    CHECK(tcp_cc_find("newreno") == NULL);
    CHECK(tcp_cc_find("bbr") == NULL);
    struct probe p;
    probe_init(&p, NULL);
    struct sock *reno_l = probe_socket(&p), *l = probe_listen(&p, 81, 16);
    CHECK_EQ(congestion_of(&p, reno_l), TCP_CC_CUBIC);
    CHECK_EQ(stack_setopt(p.stack, reno_l, STACK_OPT_CONGESTION, 0, p.now), -ENOENT);
    CHECK_EQ(stack_setopt(p.stack, reno_l, STACK_OPT_CONGESTION, TCP_CC_END, p.now), -ENOENT);
    CHECK_EQ(congestion_of(&p, reno_l), TCP_CC_CUBIC);
    CHECK_EQ(stack_setopt(p.stack, reno_l, STACK_OPT_CONGESTION, TCP_CC_RENO, p.now), 0);
    CHECK_EQ(stack_bind(p.stack, reno_l, PROBE_STACK_ADDR, 80), 0);
    CHECK_EQ(stack_listen(p.stack, reno_l, 16), 0);

    struct sock *k = accepted(&p, reno_l, 80, 40000), *cubic_k = accepted(&p, l, 81, 40001);
    CHECK(k && cubic_k);
    CHECK(stack_sock_conn(p.stack, k)->cc == &tcp_cc_newreno);
    CHECK_EQ(congestion_of(&p, k), TCP_CC_RENO);
    CHECK(stack_sock_conn(p.stack, cubic_k)->cc == &tcp_cc_cubic);
    CHECK_EQ(congestion_of(&p, cubic_k), TCP_CC_CUBIC);

    /* an active open with the algorithm set before connect */
    struct sock *a = probe_socket(&p);
    CHECK_EQ(stack_setopt(p.stack, a, STACK_OPT_CONGESTION, TCP_CC_RENO, p.now), 0);
    stack_connect(p.stack, a, PROBE_PEER_ADDR, 5000, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    struct tcp_segment synack = seg_make(5000, syn.sport, 7000, syn.seq + 1, S | A, 65535);
    synack.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(&p, &synack, NULL);
    CHECK_EQ(stack_sock_state(p.stack, a), TCP_ESTABLISHED);
    CHECK(stack_sock_conn(p.stack, a)->cc == &tcp_cc_newreno);

    /* switching an open connection keeps its window */
    uint32_t cwnd = stack_sock_conn(p.stack, k)->cwnd;
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_CONGESTION, TCP_CC_CUBIC, p.now), 0);
    CHECK(stack_sock_conn(p.stack, k)->cc == &tcp_cc_cubic);
    CHECK_EQ(stack_sock_conn(p.stack, k)->cwnd, cwnd);
    CHECK_EQ(congestion_of(&p, k), TCP_CC_CUBIC);
    probe_free(&p);
}
