/* HyStart++ (RFC 9406): slow start that leaves early, through
 * Conservative Slow Start (CSS), once the round trip grows, instead of
 * growing until a loss. Used for the first slow start only (RFC 9406 4.3:
 * later ones end at the ssthresh a loss set). */
#include "tcp_internal.h"

/* RFC 9406 4.3: the constants, in microseconds where they are times. */
#define MIN_RTT_THRESH_US (4 * USEC_PER_MSEC)
#define MAX_RTT_THRESH_US (16 * USEC_PER_MSEC)
#define MIN_RTT_DIVISOR 8
#define N_RTT_SAMPLE 8
#define CSS_GROWTH_DIVISOR 4
#define CSS_ROUNDS 5
/* RFC 9406 4.2: the most slow start grows by per ACK, in SMSS: 8 for a
 * sender that does not pace. */
#define L_NON_PACED 8
#define NO_RTT UINT32_MAX

/* RFC 9406 4.2: a round ends when what was sent at its start (SND.NXT
 * then) is acknowledged; the next begins with the minimum RTT counted
 * afresh. */
static void start_round(struct tcp_hystart *hs, const struct tcp_conn *c)
{
    hs->window_end = c->snd_nxt;
    hs->last_round_min_rtt = hs->current_round_min_rtt;
    hs->current_round_min_rtt = NO_RTT;
    hs->samples = 0;
}

void tcp_hystart_start(struct tcp_hystart *hs, const struct tcp_conn *c)
{
    *hs = (struct tcp_hystart){ .current_round_min_rtt = NO_RTT,
                                .css_baseline_min_rtt = NO_RTT,
                                .phase = HYSTART_SLOW_START };
    start_round(hs, c);
}

void tcp_hystart_on_rtt(struct tcp_hystart *hs, uint64_t rtt_us)
{
    if (hs->phase == HYSTART_OFF)
        return;
    uint32_t rtt = (uint32_t)min_u64(rtt_us, NO_RTT - 1);
    hs->current_round_min_rtt = min_u32(hs->current_round_min_rtt, rtt);
    if (hs->samples < N_RTT_SAMPLE)
        hs->samples++;
    /* Decided only on rounds with N_RTT_SAMPLE samples, and a minimum
     * from the round before. */
    if (hs->samples < N_RTT_SAMPLE || hs->last_round_min_rtt == NO_RTT)
        return;
    if (hs->phase == HYSTART_SLOW_START) {
        /* RFC 9406 4.2: the round trip grew by RttThresh (an eighth of
         * the last round's, clamped to 4..16 ms): into CSS */
        uint32_t thresh = (uint32_t)min_u64(hs->last_round_min_rtt / MIN_RTT_DIVISOR,
                                            MAX_RTT_THRESH_US);
        thresh = max_u32(thresh, MIN_RTT_THRESH_US);
        if (hs->current_round_min_rtt >= hs->last_round_min_rtt + (uint64_t)thresh) {
            hs->css_baseline_min_rtt = hs->current_round_min_rtt;
            hs->css_rounds = 0;   /* the round it began in is not one */
            hs->phase = HYSTART_CSS;
        }
    } else if (hs->current_round_min_rtt < hs->css_baseline_min_rtt) {
        /* RFC 9406 4.2: below the baseline again: the exit was spurious,
         * back to slow start */
        hs->css_baseline_min_rtt = NO_RTT;
        hs->phase = HYSTART_SLOW_START;
    }
}

bool tcp_hystart_slow_start(struct tcp_hystart *hs, struct tcp_conn *c, uint32_t acked)
{
    if (hs->phase == HYSTART_OFF) {
        /* RFC 5681 3.1 eq. 2: slow start after a loss, up to ssthresh */
        c->cwnd = min_u32(c->cwnd + min_u32(acked, c->snd_mss), TCP_CWND_MAX);
        return false;
    }
    /* RFC 9406 4.2: cwnd += min(N, L*SMSS), a CSS_GROWTH_DIVISOR-th of
     * that in CSS */
    uint32_t growth = min_u32(acked, L_NON_PACED * c->snd_mss);
    if (hs->phase == HYSTART_CSS)
        growth /= CSS_GROWTH_DIVISOR;
    c->cwnd = min_u32(c->cwnd + growth, TCP_CWND_MAX);
    if (seq_lt(c->snd_una, hs->window_end))
        return false;
    if (hs->phase == HYSTART_CSS) {
        if (hs->css_rounds == CSS_ROUNDS) {
            /* RFC 9406 4.2: CSS_ROUNDS rounds of CSS are complete:
             * congestion avoidance */
            c->ssthresh = c->cwnd;
            hs->phase = HYSTART_OFF;
            return true;
        }
        hs->css_rounds++;
    }
    start_round(hs, c);
    return false;
}
