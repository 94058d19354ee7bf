/* NewReno congestion control: RFC 5681 window growth and reduction (the
 * loss recovery of RFC 6582 is in tcp_ack.c). */
#include "tcp_internal.h"

#define CWND_MAX (1u << 30)

static void newreno_init(struct tcp_conn *c)
{
    /* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)) */
    c->cwnd = min_u32(10 * c->snd_mss, max_u32(2 * c->snd_mss, 14600));
    /* RFC 5681 3.1: the initial ssthresh is arbitrarily high */
    c->ssthresh = CWND_MAX;
    c->cc_state[0] = 0;
}

static void newreno_on_ack(struct tcp_conn *c, uint32_t acked, uint64_t now)
{
    (void)now;
    if (c->cwnd < c->ssthresh) {
        /* RFC 5681 3.1 eq. 2: slow start, cwnd += min(N, SMSS) */
        c->cwnd += min_u32(acked, c->snd_mss);
    } else {
        /* RFC 5681 3.1 eq. 3 by byte counting (RFC 3465 2.1): one SMSS
         * per cwnd of acknowledged bytes. cc_state[0] counts them. */
        c->cc_state[0] += acked;
        if (c->cc_state[0] >= c->cwnd) {
            c->cc_state[0] -= c->cwnd;
            c->cwnd += c->snd_mss;
        }
    }
    c->cwnd = min_u32(c->cwnd, CWND_MAX);
}

static uint32_t newreno_ssthresh(struct tcp_conn *c, uint32_t flight_size)
{
    /* RFC 5681 3.1 eq. 4: ssthresh = max(FlightSize / 2, 2*SMSS) */
    return max_u32(flight_size / 2, 2 * c->snd_mss);
}

const struct tcp_cc_ops tcp_cc_newreno = {
    .name = "newreno",
    .init = newreno_init,
    .on_ack = newreno_on_ack,
    .ssthresh = newreno_ssthresh,
};
