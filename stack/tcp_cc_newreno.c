/* NewReno congestion control: RFC 5681 window growth and reduction (the
 * loss recovery of RFC 6582 is in tcp_ack.c). */
#include "tcp_internal.h"

static void newreno_init(struct tcp_conn *c)
{
    c->cc_state.newreno = (struct tcp_newreno){ .undo_cwnd = c->cwnd,
                                                .undo_ssthresh = c->ssthresh };
}

static void newreno_on_ack(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
    (void)now;
    struct tcp_newreno *r = &c->cc_state.newreno;
    if (c->cwnd < c->ssthresh) {
        /* RFC 5681 3.1 eq. 2: slow start, cwnd += min(N, SMSS) */
        c->cwnd += min_u32(acked, c->snd_mss);
    } else {
        /* RFC 5681 3.1 eq. 3 by byte counting (RFC 3465 2.1): one SMSS
         * per cwnd of acknowledged bytes. */
        r->acked += acked;
        if (r->acked >= c->cwnd) {
            r->acked -= c->cwnd;
            c->cwnd += c->snd_mss;
        }
    }
    c->cwnd = min_u32(c->cwnd, TCP_CWND_MAX);
}

static void newreno_on_rtt(struct tcp_conn *c, uint64_t rtt_us, uint64_t now)
{
    (void)c, (void)rtt_us, (void)now;
}

static uint32_t newreno_ssthresh(struct tcp_conn *c, uint32_t flight_size)
{
    struct tcp_newreno *r = &c->cc_state.newreno;
    r->undo_cwnd = c->cwnd;
    r->undo_ssthresh = c->ssthresh;
    /* RFC 5681 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS) */
    return max_u32(flight_size / 2, 2 * c->snd_mss);
}

/* As Linux (tcp_enter_loss): the count towards the next SMSS starts
 * afresh. */
static void newreno_on_timeout(struct tcp_conn *c)
{
    c->cc_state.newreno.acked = 0;
}

/* As Linux (tcp_reno_undo_cwnd, tcp_undo_cwnd_reduction): neither falls
 * below what it is now. */
static void newreno_undo(struct tcp_conn *c)
{
    const struct tcp_newreno *r = &c->cc_state.newreno;
    c->cwnd = max_u32(c->cwnd, r->undo_cwnd);
    c->ssthresh = max_u32(c->ssthresh, r->undo_ssthresh);
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "reno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .on_rtt = newreno_on_rtt,
    .ssthresh = newreno_ssthresh,
    .on_timeout = newreno_on_timeout,
    .undo = newreno_undo,
};
