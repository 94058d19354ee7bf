/* Delivery rate estimation (draft-cheng-iccrg-delivery-rate-estimation-02,
 * as Linux's tcp_rate.c): each transmission records the connection's
 * delivery state in its scoreboard record (tcp_sack.h); each ACK that
 * delivers something takes a sample from the most recently sent segment
 * it delivered, cumulatively or by SACK: the data delivered since that
 * segment was sent, over the longer of its send and ACK intervals. In
 * bytes, where Linux counts segments (the draft allows either, 2.2). */
#include "tcp_internal.h"

/* t0 as an age before t, saturated to 32 bits (tcp_sent_tx) */
static uint32_t age(uint64_t t, uint64_t t0)
{
    return t > t0 ? (uint32_t)min_u64(t - t0, UINT32_MAX) : 0;
}

void tcp_rate_sent(struct tcp_conn *c, uint64_t now, struct tcp_sent_tx *tx)
{
    struct tcp_rate *r = &c->rate;
    /* 3.2: with nothing in flight, the interval starts now, as any ACK
     * to come delivers only what is sent from now on (Linux tests
     * packets_out, not the pipe: a loss marking must not shorten it) */
    if (c->snd_una == c->snd_max)
        r->first_tx_us = r->delivered_us = now;
    *tx = (struct tcp_sent_tx){
        .delivered = (uint32_t)r->delivered,
        .delivered_age_us = age(now, r->delivered_us),
        .first_tx_age_us = age(now, r->first_tx_us),
        .app_limited = r->app_limited != 0,
    };
}

void tcp_rate_delivered(struct tcp_conn *c, struct tcp_rate_sample *rs,
                        const struct tcp_sent *piece)
{
    struct tcp_rate *r = &c->rate;
    uint32_t len = piece->end - piece->start;
    r->delivered += len;
    r->delivered_segs += tcp_segs(c, len);
    /* 3.3 UpdateRateSample: the most recently sent segment delivered
     * gives the sample (Linux: the latest transmit time, then the
     * highest sequence, as RACK orders them) */
    if (rs->taken && !tcp_sent_after(piece->xmit_us, piece->end, rs->xmit_us, rs->end_seq))
        return;
    rs->taken = true;
    rs->xmit_us = piece->xmit_us;
    rs->end_seq = piece->end;
    rs->prior_delivered = piece->tx.delivered;
    rs->prior_us = piece->xmit_us - min_u64(piece->tx.delivered_age_us, piece->xmit_us);
    rs->send_us = piece->tx.first_tx_age_us;
    rs->app_limited = piece->tx.app_limited;
    /* the next send interval starts at this segment's transmission */
    r->first_tx_us = piece->xmit_us;
}

static uint64_t rate_of(uint32_t delivered, uint64_t interval_us)
{
    return interval_us ? delivered * USEC_PER_SEC / interval_us : 0;
}

void tcp_rate_sample_done(struct tcp_conn *c, const struct tcp_rate_sample *rs, bool reneged,
                          uint64_t now)
{
    struct tcp_rate *r = &c->rate;
    /* 3.4: the application-limited phase ends once its data is delivered */
    if (r->app_limited && r->delivered > r->app_limited)
        r->app_limited = 0;
    if (!rs->taken)
        return;
    r->delivered_us = now;
    /* As Linux: no sample when the peer reneged (what it had SACKed
     * would count twice) */
    if (reneged)
        return;
    uint32_t delivered = (uint32_t)r->delivered - rs->prior_delivered;
    uint64_t ack_us = now > rs->prior_us ? now - rs->prior_us : 0;
    /* 2.2.4, 3.3: data cannot be delivered faster than it was sent: the
     * longer of the send and ACK intervals. As Linux, one shorter than
     * the least round trip is no sample (ACK compression, or the ACK of
     * an original taken for that of its retransmission). */
    uint64_t interval = rs->send_us > ack_us ? rs->send_us : ack_us;
    if (!interval || interval < c->min_rtt_us)
        return;
    /* Linux's tcp_rate_gen: the latest sample is kept unless it is
     * application-limited and lower than the one kept (an idle
     * application says nothing of the path) */
    if (!rs->app_limited ||
        rate_of(delivered, interval) >= rate_of(r->sample_delivered, r->sample_interval_us)) {
        r->sample_delivered = delivered;
        r->sample_interval_us = interval;
        r->sample_app_limited = rs->app_limited;
    }
}

void tcp_rate_check_app_limited(struct tcp_conn *c)
{
    /* 3.4 (Linux's tcp_rate_check_app_limited): less than an MSS left
     * to send, cwnd not filled, every lost segment resent: the
     * application, not the network, limits the rate until what is in
     * flight now is delivered (at least 1: 0 means not limited) */
    uint32_t data_end = tcp_data_end(c);
    uint32_t unsent = seq_lt(c->snd_max, data_end) ? data_end - c->snd_max : 0;
    uint32_t pipe = tcp_pipe(c);
    if (unsent < c->snd_mss && pipe < c->cwnd && c->sb.lost <= c->sb.retrans) {
        uint64_t end = c->rate.delivered + pipe;
        c->rate.app_limited = end ? end : 1;
    }
}

uint64_t tcp_delivery_rate(const struct tcp_conn *c)
{
    return rate_of(c->rate.sample_delivered, c->rate.sample_interval_us);
}
