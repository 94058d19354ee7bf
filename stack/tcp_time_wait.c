/* TIME-WAIT as a small record in place of the connection, as Linux's
 * inet_timewait_sock: what the TCB must still know to answer segments for
 * 2 MSL (RFC 9293 3.10.7.4 in TIME-WAIT: ACK a retransmitted FIN and
 * restart the timer, RFC 5961's answers to RSTs, SYNs and bad ACKs, RFC
 * 7323 PAWS) and to judge a SYN that would reopen the 4-tuple (RFC 6191).
 * A segment is processed by the very rules of tcp_input, on a buffer-less
 * connection rebuilt from the record for the time it takes. */
#include <string.h>

#include "tcp_internal.h"

void tcp_time_wait_save(const struct tcp_conn *c, struct tcp_time_wait *tw)
{
    *tw = (struct tcp_time_wait){
        .ep = c->ep,
        .snd_nxt = c->snd_max, .snd_wnd = c->snd_wnd, .max_snd_wnd = c->max_snd_wnd,
        .snd_wl1 = c->snd_wl1, .snd_wl2 = c->snd_wl2,
        .rcv_nxt = c->rcv_nxt, .rcv_adv = c->rcv_offered,
        .ts_recent = c->ts_recent, .ts_offset = c->ts_offset,
        .ts_recent_at = c->ts_recent_at,
        .close_at = c->close_at,
        .challenge_rng = c->challenge_rng, .challenge_until = c->challenge_until,
        .challenge_acks_left = c->challenge_acks_left,
        .snd_wscale = c->snd_wscale, .rcv_wscale = c->rcv_wscale,
        .ip_tos = c->ip_tos, .ip_ttl = c->ip_ttl,
        .ws_on = c->ws_on, .ts_on = c->ts_on,
    };
}

/* The connection the record stands for: TIME-WAIT, everything sent and
 * acknowledged up to our FIN, the peer's FIN taken, no buffers. */
static void restore(struct tcp_conn *c, struct tcp_host *h, const struct tcp_time_wait *tw)
{
    tcp_conn_init(c, h, &tw->ep, 0, 0);
    c->state = TCP_TIME_WAIT;
    c->snd_una = c->snd_nxt = c->snd_max = tw->snd_nxt;
    c->snd_wnd = tw->snd_wnd;
    c->max_snd_wnd = tw->max_snd_wnd;
    c->snd_wl1 = tw->snd_wl1;
    c->snd_wl2 = tw->snd_wl2;
    c->fin_queued = true;
    c->fin_seq = tw->snd_nxt - 1;
    c->fin_received = true;
    c->user_closed = true;
    c->rcv_nxt = c->last_ack_sent = tw->rcv_nxt;
    c->rcv_adv = c->rcv_offered = tw->rcv_adv;
    c->rcv_wnd = tw->rcv_adv - tw->rcv_nxt;
    c->ts_on = tw->ts_on;
    c->ts_recent = tw->ts_recent;
    c->ts_recent_at = tw->ts_recent_at;
    c->ts_offset = tw->ts_offset;
    c->ws_on = tw->ws_on;
    c->snd_wscale = tw->snd_wscale;
    c->rcv_wscale = tw->rcv_wscale;
    c->ip_tos = tw->ip_tos;
    c->ip_ttl = tw->ip_ttl;
    c->close_at = tw->close_at;
    c->challenge_rng = tw->challenge_rng;
    c->challenge_until = tw->challenge_until;
    c->challenge_acks_left = tw->challenge_acks_left;
    c->cwnd = c->ssthresh = UINT32_MAX;   /* nothing left to send */
}

bool tcp_time_wait_input(struct tcp_time_wait *tw, struct tcp_host *h,
                         const struct tcp_segment *seg, uint64_t now)
{
    struct tcp_conn c;
    restore(&c, h, tw);
    tcp_input(&c, seg, now);
    if (tcp_is_closed(&c))
        return false;
    tcp_time_wait_save(&c, tw);
    return true;
}

bool tcp_time_wait_reusable(const struct tcp_time_wait *tw, const struct tcp_segment *seg)
{
    /* RFC 9293 3.10.7.4, note on TIME-WAIT, and RFC 6191: a new SYN may
     * reopen the 4-tuple when its timestamp (or, without timestamps, its
     * sequence number) shows it is not an old duplicate. */
    if ((seg->flags & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN)
        return false;
    if (tw->ts_on && seg->opt.has_ts)
        return seq_gt(seg->opt.ts_val, tw->ts_recent);
    return seq_gt(seg->seq, tw->rcv_nxt);
}
