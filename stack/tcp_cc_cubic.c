/* CUBIC congestion control (RFC 9438), with HyStart++ (RFC 9406) for
 * the first slow start. Windows are bytes and the clock microseconds; the
 * cubic function runs in milliseconds, in integers. */
#include "tcp_internal.h"

/* RFC 9438 4.1: C = 0.4 and beta_cubic = 0.7, as fractions; 4.3:
 * alpha_cubic = 3 * (1 - beta_cubic) / (1 + beta_cubic) = 9/17. */
#define C_NUM 2
#define C_DEN 5
#define BETA_NUM 7
#define BETA_DEN 10
#define ALPHA_NUM 9
#define ALPHA_DEN 17
#define NSEC_PER_SEC 1000000000ll
/* The longest time from K the cubic function is evaluated at: its cube
 * fits 63 bits, and the window there is far beyond TCP_CWND_MAX. */
#define CUBIC_SPAN_MS ((1 << 21) - 1)

static uint64_t cube_root(uint64_t x)
{
    uint64_t lo = 0, hi = CUBIC_SPAN_MS;
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (mid * mid * mid <= x)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* RFC 9438 4.2 eq. 1: W_cubic(t) = C * (t - K)^3 + W_max, in segments and
 * seconds; here in bytes (C * SMSS per second cubed) at t_ms. */
static uint32_t w_cubic(const struct tcp_conn *c, uint64_t t_ms)
{
    const struct tcp_cubic_epoch *e = &c->cc_state.cubic.e;
    int64_t d = (int64_t)min_u64(t_ms, CUBIC_SPAN_MS) - e->k_ms;
    __int128 w = e->w_max + (__int128)d * d * d * C_NUM * c->snd_mss / (C_DEN * NSEC_PER_SEC);
    return w < 0 ? 0 : w > TCP_CWND_MAX ? TCP_CWND_MAX : (uint32_t)w;
}

/* RFC 9438 4.2: a congestion-avoidance stage begins with cwnd_epoch, K
 * (eq. 2: K = cubic_root((W_max - cwnd_epoch) / C)) and W_est = cwnd_epoch
 * (4.3). Without a W_max (4.8: the first stage after a timeout; 4.10:
 * after a slow start HyStart++ ended), or with cwnd above it, K is 0 and
 * W_max is cwnd_epoch (as Linux's bictcp_update). */
static void begin_epoch(struct tcp_conn *c, uint64_t now)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    struct tcp_cubic_epoch *e = &cu->e;
    e->begun = true;
    e->start = now;
    e->cwnd_epoch = e->w_est = c->cwnd;
    if (e->w_max <= c->cwnd) {
        e->w_max = c->cwnd;
        e->k_ms = 0;
    } else {
        /* (W_max - cwnd_epoch) / (C * SMSS) s^3, in ms^3 */
        uint64_t ms3 = (uint64_t)(e->w_max - c->cwnd) * (C_DEN * NSEC_PER_SEC / C_NUM) /
                       c->snd_mss;
        e->k_ms = (uint32_t)cube_root(ms3);
    }
    cu->cwnd_acc = cu->w_est_acc = 0;
}

static void congestion_avoidance(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    struct tcp_cubic_epoch *e = &cu->e;
    if (!e->begun)
        begin_epoch(c, now);
    uint64_t t_us = now > e->start ? now - e->start : 0;

    /* RFC 9438 4.3 eq. 4: W_est += alpha_cubic * segments_acked / cwnd,
     * and alpha_cubic is 1 once W_est reaches cwnd_prior. */
    uint64_t alpha = e->w_est >= e->cwnd_prior ? ALPHA_DEN : ALPHA_NUM;
    uint64_t unit = (uint64_t)ALPHA_DEN * c->cwnd;
    cu->w_est_acc += alpha * acked * c->snd_mss;
    e->w_est = (uint32_t)min_u64(e->w_est + cu->w_est_acc / unit, TCP_CWND_MAX);
    cu->w_est_acc %= unit;
    if (w_cubic(c, t_us / USEC_PER_MSEC) < e->w_est) {
        /* RFC 9438 4.3: the Reno-friendly region: cwnd = W_est (it only
         * grows: a reduction is for congestion events) */
        c->cwnd = max_u32(c->cwnd, e->w_est);
        return;
    }
    /* RFC 9438 4.4 and 4.5 (concave and convex regions): the target is
     * W_cubic(t + RTT), no less than cwnd and no more than 1.5 * cwnd;
     * cwnd grows by (target - cwnd) / cwnd per SMSS acknowledged. */
    uint32_t target = w_cubic(c, (t_us + c->srtt_us) / USEC_PER_MSEC);
    target = min_u32(max_u32(target, c->cwnd), c->cwnd + c->cwnd / 2);
    cu->cwnd_acc += (uint64_t)(target - c->cwnd) * acked;
    uint64_t growth = cu->cwnd_acc / c->cwnd;
    cu->cwnd_acc %= c->cwnd;
    c->cwnd = (uint32_t)min_u64(c->cwnd + growth, TCP_CWND_MAX);
}

static void cubic_init(struct tcp_conn *c)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    *cu = (struct tcp_cubic){ .e.cwnd_prior = c->cwnd, .undo_ssthresh = c->ssthresh };
    cu->undo = cu->e;
    /* RFC 9406 4.3: HyStart++ only in the first slow start, while
     * ssthresh is the initial one */
    if (c->ssthresh == TCP_CWND_MAX)
        tcp_hystart_start(&cu->hs, c);
}

static void cubic_on_ack(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    if (c->cwnd >= c->ssthresh) {
        congestion_avoidance(c, acked, now);
    } else if (tcp_hystart_slow_start(&cu->hs, c, acked)) {
        /* RFC 9438 4.10: HyStart++ ended slow start without a loss:
         * cwnd_prior = cwnd, and no W_max */
        cu->e.cwnd_prior = c->cwnd;
    }
}

static void cubic_on_rtt(struct tcp_conn *c, uint64_t rtt_us, uint64_t now)
{
    (void)now;
    tcp_hystart_on_rtt(&c->cc_state.cubic.hs, rtt_us);
}

static uint32_t cubic_ssthresh(struct tcp_conn *c, uint32_t flight_size)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    struct tcp_cubic_epoch *e = &cu->e;
    /* RFC 9438 4.9: what an undo restores */
    cu->undo = *e;
    cu->undo_ssthresh = c->ssthresh;
    /* RFC 9406 4.2: a loss ends HyStart++ */
    cu->hs.phase = HYSTART_OFF;
    /* RFC 9438 4.7 (fast convergence): a loss below the last W_max means
     * less bandwidth for this flow: W_max = cwnd * (1 + beta_cubic) / 2 */
    if (c->cwnd < e->w_max)
        e->w_max = (uint32_t)((uint64_t)c->cwnd * (BETA_DEN + BETA_NUM) / (2 * BETA_DEN));
    else
        e->w_max = c->cwnd;
    e->cwnd_prior = c->cwnd;
    /* a new stage begins when congestion avoidance resumes */
    e->begun = false;
    /* RFC 9438 4.6: ssthresh = cwnd * beta_cubic, at least 2 SMSS. The
     * RFC's flight_size may stand for cwnd where cwnd cannot grow beyond
     * what is sent (tcp_cwnd_limited), as in Linux; flight_size is what
     * is left after the ACK that shows the loss, which a stretch ACK
     * (a receiver's, or one batch of ACKs) leaves at a fraction of the
     * window: a cut far deeper than beta. */
    (void)flight_size;
    return max_u32((uint32_t)((uint64_t)c->cwnd * BETA_NUM / BETA_DEN), 2 * c->snd_mss);
}

/* RFC 9438 4.8: after a timeout the first stage of congestion avoidance
 * has K = 0 and W_max = cwnd_epoch (begin_epoch). */
static void cubic_on_timeout(struct tcp_conn *c)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    cu->e.w_max = 0;
    cu->e.begun = false;
    cu->hs.phase = HYSTART_OFF;
}

/* RFC 9438 5.8: while the application, not cwnd, limited the flow,
 * cwnd did not grow (tcp_cwnd_limited), and that time is not to count in
 * t either, or W_cubic(t) would be far ahead when sending resumes. As
 * Linux (bictcp_cwnd_event), the time idle with nothing in flight moves
 * the stage's start on, to now at most. */
static void cubic_tx_start(struct tcp_conn *c, uint64_t now)
{
    struct tcp_cubic_epoch *e = &c->cc_state.cubic.e;
    if (!e->begun || !c->last_data_sent_at || now <= c->last_data_sent_at)
        return;
    e->start += now - c->last_data_sent_at;
    if (e->start > now)
        e->start = now;
}

/* RFC 9438 4.9: a spurious congestion event is undone: cwnd, ssthresh,
 * W_max, K, the epoch and W_est as before it. As Linux
 * (tcp_undo_cwnd_reduction), cwnd and ssthresh do not fall below what
 * they are now. */
static void cubic_undo(struct tcp_conn *c)
{
    struct tcp_cubic *cu = &c->cc_state.cubic;
    c->cwnd = max_u32(c->cwnd, cu->e.cwnd_prior);
    c->ssthresh = max_u32(c->ssthresh, cu->undo_ssthresh);
    cu->e = cu->undo;
}

const struct tcp_cc_ops tcp_cc_cubic = {
    .name = "cubic",
    .init = cubic_init,
    .on_ack = cubic_on_ack,
    .on_rtt = cubic_on_rtt,
    .ssthresh = cubic_ssthresh,
    .on_timeout = cubic_on_timeout,
    .tx_start = cubic_tx_start,
    .undo = cubic_undo,
};
