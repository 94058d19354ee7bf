/* A connection's life outside segment processing: configuration,
 * creation, the state variable, options, readiness. */
#include <poll.h>
#include <string.h>

#include "tcp_internal.h"

void tcp_config_default(struct tcp_config *cfg)
{
    *cfg = (struct tcp_config){
        .mss = 1460,
        .sndbuf = 256 * 1024,
        .rcvbuf = 256 * 1024,
        .rcvbuf_max = 6 * 1024 * 1024,
        .mem_limit = 256ull << 20,
        .rto_initial_us = 1 * USEC_PER_SEC,
        .rto_min_us = 200 * USEC_PER_MSEC,
        .rto_max_us = 120 * USEC_PER_SEC,
        .syn_retries = 6,
        .retries = 15,
        .msl_us = 30 * USEC_PER_SEC,
        .fin_timeout_us = 60 * USEC_PER_SEC,
        .delack_us = 40 * USEC_PER_MSEC,
        .keepalive_idle_us = 7200 * USEC_PER_SEC,
        .keepalive_intvl_us = 75 * USEC_PER_SEC,
        .keepalive_cnt = 9,
        .challenge_ack_limit = 1000,
        .window_scaling = true,
        .timestamps = true,
        .sack = true,
        .rack = true,
        .cc = &tcp_cc_cubic,
    };
}

const char *tcp_state_name(enum tcp_state s)
{
    static const char *const names[] = {
        "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED",
        "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK",
        "TIME-WAIT",
    };
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

void tcp_conn_init(struct tcp_conn *c, struct tcp_host *host,
                   const struct tcp_endpoints *ep, uint32_t sndbuf,
                   uint32_t rcvbuf)
{
    const struct tcp_config *cfg = host->cfg;
    memset(c, 0, sizeof *c);
    c->host = host;
    c->ep = *ep;
    c->state = TCP_CLOSED;
    c->cc = cfg->cc;
    c->rto_us = cfg->rto_initial_us;
    c->snd_mss = TCP_DEFAULT_MSS;
    c->ka_idle_us = cfg->keepalive_idle_us;
    c->ka_intvl_us = cfg->keepalive_intvl_us;
    c->ka_cnt = cfg->keepalive_cnt;
    c->reordering = TCP_DUPTHRESH;
    c->rack.reo_wnd_mult = 1;
    c->ack_stride = TCP_MIN_ACK_STRIDE;
    ring_init(&c->sndbuf, sndbuf);
    ring_init(&c->rcvbuf, rcvbuf);
}

void tcp_conn_destroy(struct tcp_conn *c)
{
    tcp_mem_release(c, &c->sndbuf);
    tcp_mem_release(c, &c->rcvbuf);
    tcp_mem_sb_free(c);
}

void tcp_set_state(struct tcp_conn *c, enum tcp_state s)
{
    c->state = s;
}

void tcp_done(struct tcp_conn *c, int err)
{
    if (err)
        c->error = err;
    tcp_set_state(c, TCP_CLOSED);
    c->rto_at = c->delack_at = c->keepalive_at = c->close_at = 0;
    c->reo_at = c->tlp_at = 0;
    c->persist = false;
    /* Nothing queued for sending can be delivered any more, nor can
     * out-of-order data; received data stays readable, as on Linux. */
    tcp_sndbuf_release(c, c->snd_max);
    ring_consume(&c->sndbuf, c->sndbuf.len);
    c->reass.count = 0;
    tcp_mem_sb_free(c);
    tcp_mem_release_idle(c);
}

/* RFC 7323 2.3: the shift that lets the whole buffer be advertised. */
static uint8_t wscale_for(uint32_t bufsize)
{
    uint8_t shift = 0;
    while (shift < TCP_MAX_WSCALE && (bufsize >> shift) > 65535)
        shift++;
    return shift;
}

void tcp_syn_options(struct tcp_conn *c, const struct tcp_segment *seg,
                     uint64_t now)
{
    const struct tcp_config *cfg = c->host->cfg;
    /* RFC 9293 3.7.1: without an MSS option the peer takes 536. RFC 6691:
     * the MSS counts no options; the timestamp option comes off below. */
    uint32_t mss = seg->opt.has_mss ? seg->opt.mss : TCP_DEFAULT_MSS;
    mss = min_u32(mss, tcp_own_mss(c));
    /* RFC 7323 2.2: scaling is used only if both SYNs carry the option. */
    c->ws_on = cfg->window_scaling && seg->opt.has_wscale;
    if (c->ws_on) {
        /* RFC 7323 2.3: a shift over 14 is used as 14. */
        c->snd_wscale = min_u32(seg->opt.wscale, TCP_MAX_WSCALE);
        c->rcv_wscale = tcp_offered_wscale(c);
    } else {
        c->snd_wscale = c->rcv_wscale = 0;
    }
    /* RFC 7323 3.2: timestamps only if the peer's SYN carried them. */
    c->ts_on = cfg->timestamps && seg->opt.has_ts;
    if (c->ts_on) {
        c->ts_recent = seg->opt.ts_val;
        c->ts_recent_at = now;
    }
    /* RFC 2018 2: SACK-permitted "MUST NOT be sent on non-SYN segments"
     * and SACK is used only if both SYNs carried it. */
    c->sack_on = cfg->sack && seg->opt.sack_permitted;
    /* A hostile MSS of 0 or a few bytes must not stall or loop us (nor
     * underflow once the option space comes off). */
    uint32_t opt_len = c->ts_on ? TCP_TS_OPT_LEN : 0;
    c->snd_mss = (uint16_t)(max_u32(mss, 64 + opt_len) - opt_len);
}

/* For the most the receive buffer may grow to, as Linux's
 * tcp_select_initial_window (tcp_rmem[2]). */
uint8_t tcp_offered_wscale(const struct tcp_conn *c)
{
    uint32_t most = c->rcvbuf.cap;
    if (!c->rcvbuf_locked)
        most = max_u32(most, c->host->cfg->rcvbuf_max);
    return wscale_for(most);
}

void tcp_established(struct tcp_conn *c, uint64_t now)
{
    tcp_set_state(c, TCP_ESTABLISHED);
    c->host->stats.established++;
    /* RFC 6928 2: IW = min(10*MSS, max(2*MSS, 14600)); RFC 5681 3.1: the
     * initial ssthresh is arbitrarily high */
    c->cwnd = min_u32(10 * c->snd_mss, max_u32(2 * c->snd_mss, 14600));
    c->ssthresh = TCP_CWND_MAX;
    c->cc->init(c);
    c->last_recv_at = c->last_data_sent_at = c->last_data_recv_at = now;
    /* RFC 6298 5.7: if a SYN timed out and no RTT was measured, data
     * transmission starts with an RTO of 3 seconds. */
    if (c->backoff && !c->srtt_us)
        c->rto_us = 3 * USEC_PER_SEC;
    c->backoff = 0;
    tcp_arm_keepalive(c, now);
    tcp_rcvbuf_init(c, now);
}

uint32_t tcp_readable(const struct tcp_conn *c)
{
    return c->rcvbuf.len;
}

int tcp_take_error(struct tcp_conn *c)
{
    int err = c->error;
    c->error = 0;
    return err;
}

unsigned tcp_poll(const struct tcp_conn *c)
{
    unsigned mask = c->error ? POLLERR : 0;
    bool rcv_shut, snd_shut;

    switch (c->state) {
    case TCP_LISTEN:
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
        return mask;
    case TCP_CLOSED:
        rcv_shut = snd_shut = true;
        break;
    default:
        rcv_shut = c->fin_received;
        snd_shut = c->fin_queued;
        break;
    }
    if (c->rcvbuf.len > 0 || rcv_shut)
        mask |= POLLIN;
    if (rcv_shut)
        mask |= POLLRDHUP;
    if (rcv_shut && snd_shut)
        mask |= POLLHUP;
    /* after shutdown(SHUT_WR) a write fails at once, so it is "ready" */
    if (snd_shut || tcp_snd_writable(c))
        mask |= POLLOUT;
    return mask;
}

void tcp_set_cork(struct tcp_conn *c, bool on, uint64_t now)
{
    c->cork = on;
    /* Linux: uncorking sends what was held back */
    if (!on && tcp_synchronized(c))
        tcp_output(c, now);
}

void tcp_set_quickack(struct tcp_conn *c, bool on, uint64_t now)
{
    c->quickacks = on ? TCP_MAX_QUICKACKS : 0;
    if (on && tcp_synchronized(c) && c->segs_unacked)
        tcp_send_ack(c, now);
}

/* Linux (tcp_enter_quickack_mode, on DELAYEDACKLOST and out-of-window
 * data): a retransmission of data we hold says that our ACK was lost, or
 * came too late. The next segments are ACKed at once, so the sender's
 * clock restarts without waiting for our delayed-ACK timer: as many as
 * half a window holds, at least 2, at most TCP_MAX_QUICKACKS
 * (tcp_incr_quickack). */
void tcp_enter_quickack_mode(struct tcp_conn *c)
{
    uint32_t quick = tcp_rcv_window(c) / (2 * tcp_own_mss(c));
    quick = min_u32(max_u32(quick, 2), TCP_MAX_QUICKACKS);
    c->quickacks = max_u32(c->quickacks, quick);
}

void tcp_set_nodelay(struct tcp_conn *c, bool on, uint64_t now)
{
    c->nodelay = on;
    /* Linux: turning Nagle off pushes what it was holding back. */
    if (on && tcp_synchronized(c))
        tcp_output(c, now);
}

void tcp_set_congestion(struct tcp_conn *c, const struct tcp_cc_ops *cc)
{
    if (cc == c->cc)
        return;
    c->cc = cc;
    /* before ESTABLISHED, tcp_established starts it */
    if (tcp_synchronized(c))
        cc->init(c);
}

void tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t now)
{
    c->keepalive = on;
    c->probes = 0;
    tcp_arm_keepalive(c, now);
}
