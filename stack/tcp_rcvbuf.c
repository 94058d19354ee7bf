/* Receive buffer autotuning, as Linux's (tcp_rcv_space_adjust, "dynamic
 * right-sizing"): a buffer the application reads from grows, a round trip
 * at a time, to what the sender delivers in two round trips, so that the
 * window never limits a sender the reader keeps up with, nor lets one
 * fill memory faster than it is read. Not for a buffer the user sized
 * (SO_RCVBUF: Linux's SOCK_RCVBUF_LOCK). */
#include "tcp_internal.h"

/* The receiver's round trip, as Linux's tcp_rcv_rtt_measure: the time one
 * advertised window takes to arrive, at least the time to the data's
 * sender and back (RFC 7323's timestamps are milliseconds here: too
 * coarse). Its minimum is kept: a sender that paused makes a longer one. */
void tcp_rcvbuf_data_in(struct tcp_conn *c, uint64_t now)
{
    struct tcp_rcv_space *r = &c->rcv_space;
    if (r->rtt_at && seq_lt(c->rcv_nxt, r->rtt_seq))
        return;
    if (r->rtt_at) {
        uint64_t sample = now - r->rtt_at ? now - r->rtt_at : 1;
        if (!r->rtt_us || sample < r->rtt_us)
            r->rtt_us = sample;
    }
    r->rtt_seq = c->rcv_nxt + c->rcv_wnd;
    r->rtt_at = now;
}

/* The start of the measurement: what a sender's initial window brings
 * (Linux's tcp_init_buffer_space). */
void tcp_rcvbuf_init(struct tcp_conn *c, uint64_t now)
{
    struct tcp_rcv_space *r = &c->rcv_space;
    r->copied = min_u32(c->rcvbuf.cap, TCP_INIT_CWND * tcp_own_mss(c));
    r->copied_seq = c->rcv_nxt - c->rcvbuf.len;
    r->at = now;
}

/* After the application read: once a round trip, if it read more than in
 * the last one, the buffer becomes twice that (a round trip of slack for
 * losses) plus 16 segments, more by as much again as the rate grew (a
 * sender in slow start doubles it each round trip), up to rcvbuf_max. */
void tcp_rcvbuf_adjust(struct tcp_conn *c, uint64_t now)
{
    struct tcp_rcv_space *r = &c->rcv_space;
    if (!r->rtt_us || now - r->at < r->rtt_us)
        return;
    uint32_t copied_seq = c->rcv_nxt - c->rcvbuf.len;
    uint32_t copied = copied_seq - r->copied_seq;
    if (copied > r->copied) {
        if (!c->rcvbuf_locked && r->copied) {
            uint64_t wnd = 2ull * copied + 16ull * tcp_own_mss(c);
            wnd += 2 * wnd * (copied - r->copied) / r->copied;
            uint32_t cap = (uint32_t)(wnd < c->host->cfg->rcvbuf_max ? wnd : c->host->cfg->rcvbuf_max);
            if (cap > c->rcvbuf.cap)
                c->rcvbuf.cap = cap;
        }
        r->copied = copied;
    }
    r->copied_seq = copied_seq;
    r->at = now;
}
