/* User calls (RFC 9293 3.10.1 - 3.10.5) with Linux's socket semantics,
 * and ICMP errors reported to a connection. */
#include <errno.h>
#include <string.h>

#include "syncookie.h"
#include "tcp_internal.h"

static void init_sequence(struct tcp_conn *c, uint32_t iss)
{
    c->iss = iss;
    c->snd_una = iss;
    c->snd_nxt = c->snd_max = iss + 1;
    c->snd_sml = iss; /* no short segment sent yet */
    c->recover = iss; /* RFC 6582 3.2 step 1 */
    c->rack.fack = iss;
    /* RFC 7323 5.4: a per-connection TSval offset; the ISN is already a
     * keyed hash, so scrambling it serves. */
    c->ts_offset = iss * 0x9e3779b9u;
    /* The challenge-ACK budget's random part (tcp_send_challenge_ack),
     * for the same reason. */
    c->challenge_rng = iss;
}

void tcp_open_active(struct tcp_conn *c, uint32_t iss, uint64_t now)
{
    init_sequence(c, iss);
    c->host->stats.active_opens++;
    tcp_set_state(c, TCP_SYN_SENT);
    tcp_send_syn(c, now);
    c->rtt_timing = true;
    c->rtt_seq = iss;
    c->rtt_start = now;
    c->rto_at = now + c->rto_us;
}

void tcp_open_passive(struct tcp_conn *c, uint32_t iss)
{
    init_sequence(c, iss);
    tcp_set_state(c, TCP_LISTEN);
}

void tcp_answer_with_cookie(struct tcp_conn *c, uint32_t iss, const struct tcp_segment *syn,
                            uint64_t now)
{
    tcp_open_passive(c, iss);
    if (syn->opt.has_ts) {
        /* the TSval carries the SYN's options (syncookie.h) */
        uint32_t ts = tcp_ts_now(c, now);
        c->ts_offset += syncookie_tsval(ts, &syn->opt) - ts;
    }
    tcp_input(c, syn, now);
}

void tcp_open_cookie(struct tcp_conn *c, uint32_t iss, const struct tcp_segment *syn,
                     uint64_t now)
{
    init_sequence(c, iss);
    tcp_take_syn(c, syn, now);
    /* the window our SYN-ACK offered (RFC 7323 2.2: unscaled) */
    c->rcv_wnd = min_u32(tcp_rcv_space(c), 65535);
    c->rcv_adv = c->rcv_offered = c->rcv_nxt + c->rcv_wnd;
}

/* The room in the send buffer's memory for `want` more bytes (<=
 * ring_space), grown as memory allows; a send that finds none because
 * of memory is woken when memory frees (tcp_mem_wake_writers). */
static uint32_t send_room(struct tcp_conn *c, uint32_t want)
{
    tcp_mem_reserve(c, &c->sndbuf, c->sndbuf.len + want, TCP_MEM_SEND);
    uint32_t room = ring_room(&c->sndbuf);
    if (!room && want) {
        c->snd_mem_refused = true;
        c->host->mem.writers_refused = true;
    }
    return room;
}

ssize_t tcp_send(struct tcp_conn *c, const void *buf, size_t len, uint64_t now)
{
    /* Linux: a pending error is reported first (e.g. ECONNRESET), then
     * EPIPE for a connection that is gone. */
    if (c->error)
        return -tcp_take_error(c);
    switch (c->state) {
    case TCP_CLOSED:
        return -EPIPE;
    case TCP_LISTEN:
        return -ENOTCONN;
    case TCP_SYN_SENT:
    case TCP_SYN_RECEIVED:
        return -EAGAIN; /* a blocking caller waits for the handshake */
    default:
        break;
    }
    if (c->fin_queued)
        return -EPIPE;
    if (len == 0)
        return 0;
    tcp_rate_check_app_limited(c);
    uint32_t want = min_u32(ring_space(&c->sndbuf), len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    uint32_t n = ring_write(&c->sndbuf, buf, min_u32(want, send_room(c, want)));
    if (n < len)
        c->snd_nospace = true;    /* Linux's SOCK_NOSPACE */
    if (n == 0)
        return -EAGAIN;
    tcp_output(c, now);
    return n;
}

uint32_t tcp_send_room(struct tcp_conn *c)
{
    uint32_t room = ring_room(&c->sndbuf);
    if (!room)
        room = send_room(c, min_u32(ring_space(&c->sndbuf), 1));
    /* the user has more to write than fits: Linux's SOCK_NOSPACE */
    if (!room)
        c->snd_nospace = true;
    return room;
}

void tcp_send_commit(struct tcp_conn *c, uint32_t n, uint64_t now)
{
    tcp_rate_check_app_limited(c);
    ring_commit(&c->sndbuf, min_u32(n, ring_room(&c->sndbuf)));
    tcp_output(c, now);
}

/* After the user read: tell the peer if the window opened a lot (as
 * Linux does: the window we offer has at least doubled from at most
 * half the buffer). */
static void window_update(struct tcp_conn *c, uint64_t now)
{
    if (!tcp_synchronized(c) || c->fin_received || c->state == TCP_TIME_WAIT)
        return;
    uint32_t cur = tcp_rcv_window(c);
    uint32_t space = min_u32(tcp_rcv_space(c), 65535u << c->rcv_wscale);
    if (2 * (uint64_t)cur <= c->rcvbuf.cap && space >= 2 * cur &&
        space - cur >= min_u32(c->rcvbuf.cap / 2, c->host->cfg->mss))
        tcp_send_ack(c, now);
}

ssize_t tcp_recv(struct tcp_conn *c, void *buf, size_t len, bool peek,
                 uint64_t now)
{
    uint32_t n = min_u32(c->rcvbuf.len, len > UINT32_MAX ? UINT32_MAX : (uint32_t)len);
    if (n) {
        ring_peek(&c->rcvbuf, 0, buf, n);
        if (!peek) {
            tcp_recv_consume(c, n, now);
        }
        return n;
    }
    if (len == 0)
        return 0;
    /* Linux: data first, then the pending error, then end of stream. */
    if (c->error)
        return -tcp_take_error(c);
    if (c->fin_received || c->state == TCP_CLOSED)
        return 0;
    if (c->state == TCP_LISTEN)
        return -ENOTCONN;
    return -EAGAIN;
}

void tcp_recv_consume(struct tcp_conn *c, uint32_t n, uint64_t now)
{
    ring_consume(&c->rcvbuf, min_u32(n, c->rcvbuf.len));
    tcp_mem_release_idle(c);
    tcp_rcvbuf_adjust(c, now);
    window_update(c, now);
}

static void queue_fin(struct tcp_conn *c)
{
    if (!c->fin_queued) {
        c->fin_queued = true;
        c->fin_seq = tcp_data_end(c);
    }
}

void tcp_shutdown_send(struct tcp_conn *c, uint64_t now)
{
    switch (c->state) {
    case TCP_LISTEN:
    case TCP_SYN_SENT:
        /* RFC 9293 3.10.4: CLOSE in LISTEN or SYN-SENT deletes the TCB */
        tcp_done(c, 0);
        return;
    case TCP_SYN_RECEIVED:
        /* RFC 9293 3.10.4: queued until ESTABLISHED (tcp_ack_input) */
        queue_fin(c);
        return;
    case TCP_ESTABLISHED:
        /* FIN after the queued data; FIN-WAIT-1 at once */
        queue_fin(c);
        tcp_set_state(c, TCP_FIN_WAIT_1);
        break;
    case TCP_CLOSE_WAIT:
        queue_fin(c);
        tcp_set_state(c, TCP_LAST_ACK);
        break;
    default:
        return; /* already closing */
    }
    tcp_output(c, now);
}

void tcp_close(struct tcp_conn *c, uint64_t now)
{
    c->user_closed = true;
    switch (c->state) {
    case TCP_CLOSED:
    case TCP_CLOSING:
    case TCP_LAST_ACK:
    case TCP_TIME_WAIT:
        return;
    case TCP_LISTEN:
    case TCP_SYN_SENT:
        tcp_done(c, 0);
        return;
    default:
        break;
    }
    /* RFC 2525 2.17, and Linux: closing with unread data loses it, so
     * the peer is told with a reset rather than a FIN. */
    if (c->rcvbuf.len > 0) {
        tcp_abort(c, now);
        return;
    }
    if (c->state == TCP_FIN_WAIT_2)
        c->close_at = now + c->host->cfg->fin_timeout_us;
    tcp_shutdown_send(c, now);
}

void tcp_abort(struct tcp_conn *c, uint64_t now)
{
    /* RFC 9293 3.10.5: a RST in the synchronized states (and SYN-RECEIVED) */
    switch (c->state) {
    case TCP_SYN_RECEIVED:
    case TCP_ESTABLISHED:
    case TCP_FIN_WAIT_1:
    case TCP_FIN_WAIT_2:
    case TCP_CLOSE_WAIT:
        tcp_send_rst(c, now);
        break;
    default:
        break;
    }
    c->user_closed = true;
    tcp_done(c, 0);
}

/* Linux's mapping of ICMP unreachable codes to errno (icmp_err_convert). */
static int unreach_errno(uint8_t code)
{
    static const int map[] = {
        ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE,
        EOPNOTSUPP, ENETUNREACH, EHOSTDOWN, ENONET, ENETUNREACH,
        EHOSTUNREACH, ENETUNREACH, EHOSTUNREACH, EHOSTUNREACH,
        EHOSTUNREACH, EHOSTUNREACH,
    };
    return code < sizeof map / sizeof map[0] ? map[code] : EHOSTUNREACH;
}

void tcp_icmp_error(struct tcp_conn *c, uint8_t type, uint8_t code,
                    uint32_t seq, uint16_t mtu, uint64_t now)
{
    if (c->state == TCP_CLOSED || c->state == TCP_LISTEN)
        return;
    /* RFC 5927 4.1: believe only errors about data in flight */
    if (!seq_in(seq, c->snd_una, c->snd_max))
        return;
    if (type == ICMP_DEST_UNREACH && code == 4) {
        /* RFC 1191: fragmentation needed; shrink the segments and resend
         * from SND.UNA. An MTU too small for IPv4 (RFC 791: 68) or that
         * would not shrink anything is ignored. */
        uint32_t mss = mtu >= 68 + 40 ? mtu - 40u - (c->ts_on ? TCP_TS_OPT_LEN : 0) : 0;
        if (mss >= 64 && mss < c->snd_mss && tcp_synchronized(c)) {
            c->snd_mss = (uint16_t)mss;
            c->snd_nxt = c->snd_una;
            tcp_output(c, now);
        }
        return;
    }
    int err = type == ICMP_DEST_UNREACH ? unreach_errno(code) : EHOSTUNREACH;
    /* RFC 1122 4.2.3.9 calls codes 2-4 hard errors; RFC 5461 and Linux
     * abort only a connection still opening, and keep the error as soft
     * otherwise (reported if the connection then times out). */
    if (c->state == TCP_SYN_SENT) {
        tcp_done(c, err);
        return;
    }
    c->soft_error = err;
}
