/* getsockopt/setsockopt on stack sockets: the options with an effect,
 * Linux's values and errors; an option the stack lacks is ENOPROTOOPT,
 * never a silent success. */
#include <errno.h>
#include <netinet/in.h>
#include <linux/tcp.h>   /* option names; netinet/tcp.h clashes with tcp.h's states */
#include <string.h>
#include <sys/socket.h>

#include "preload.h"

/* Linux keeps twice the value asked for SO_RCVBUF/SO_SNDBUF, for its
 * bookkeeping; the stack sizes its buffers with the value asked. */
#define BUF_FACTOR 2

static int opt_int(const void *val, socklen_t len, int *out)
{
    if (!val || len < (socklen_t)sizeof(int))
        return -EINVAL;
    memcpy(out, val, sizeof *out);
    return 0;
}

static int put_opt(void *val, socklen_t *len, const void *src, socklen_t size)
{
    if (!val || !len)
        return -EFAULT;
    socklen_t n = *len < size ? *len : size;
    memcpy(val, src, n);
    *len = n;
    return 0;
}

static uint64_t tv_us(const struct timeval *tv)
{
    return (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
}

/* The stack option behind a (level, name), or -1. */
static int stack_option(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return STACK_OPT_REUSEADDR;
        case SO_KEEPALIVE: return STACK_OPT_KEEPALIVE;
        case SO_SNDBUF: return STACK_OPT_SNDBUF;
        case SO_RCVBUF: return STACK_OPT_RCVBUF;
        case SO_RCVLOWAT: return STACK_OPT_RCVLOWAT;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return STACK_OPT_NODELAY;
        case TCP_MAXSEG: return STACK_OPT_MAXSEG;
        case TCP_CORK: return STACK_OPT_CORK;
        case TCP_KEEPIDLE: return STACK_OPT_KEEPIDLE;
        case TCP_KEEPINTVL: return STACK_OPT_KEEPINTVL;
        case TCP_KEEPCNT: return STACK_OPT_KEEPCNT;
        }
    }
    return -1;
}

static int set_opt(struct psock *ps, int level, int name, const void *val, socklen_t len)
{
    struct runtime *r = preload_runtime();
    int v;
    if (level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO)) {
        struct timeval tv;
        if (!val || len < (socklen_t)sizeof tv)
            return -EINVAL;
        memcpy(&tv, val, sizeof tv);
        if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
            return -EDOM;
        *(name == SO_RCVTIMEO ? &ps->rcvtimeo_us : &ps->sndtimeo_us) =
            tv.tv_sec < 0 ? 0 : tv_us(&tv);
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger lg;
        if (!val || len < (socklen_t)sizeof lg)
            return -EINVAL;
        memcpy(&lg, val, sizeof lg);
        ps->linger_on = lg.l_onoff;
        ps->linger_s = lg.l_linger;
        return 0;
    }
    int opt = stack_option(level, name);
    if (opt < 0)
        return -ENOPROTOOPT;
    if (opt_int(val, len, &v))
        return -EINVAL;
    runtime_lock(r);
    int rc = stack_setopt(runtime_stack(r), ps->k, (enum stack_opt)opt, v, runtime_now());
    runtime_unlock(r);
    return rc;
}

/* Linux's numbering of the states in struct tcp_info (net/tcp_states.h) */
static uint8_t linux_state(enum tcp_state s)
{
    static const uint8_t map[] = {
        [TCP_CLOSED] = 7, [TCP_LISTEN] = 10, [TCP_SYN_SENT] = 2, [TCP_SYN_RECEIVED] = 3,
        [TCP_ESTABLISHED] = 1, [TCP_FIN_WAIT_1] = 4, [TCP_FIN_WAIT_2] = 5,
        [TCP_CLOSE_WAIT] = 8, [TCP_CLOSING] = 11, [TCP_LAST_ACK] = 9, [TCP_TIME_WAIT] = 6,
    };
    return map[s];
}

/* TCP_INFO with the fields the stack knows; the rest stay zero. */
static int get_tcp_info(struct stack *s, struct psock *ps, void *val, socklen_t *len)
{
    struct tcp_info ti = { 0 };
    ti.tcpi_state = linux_state(stack_sock_state(s, ps->k));
    const struct tcp_conn *c = stack_sock_conn(s, ps->k);
    if (c) {
        uint32_t mss = c->snd_mss ? c->snd_mss : 1;
        ti.tcpi_retransmits = (uint8_t)c->backoff;
        ti.tcpi_backoff = (uint8_t)c->backoff;
        ti.tcpi_options = (c->ts_on ? TCPI_OPT_TIMESTAMPS : 0) | (c->ws_on ? TCPI_OPT_WSCALE : 0);
        ti.tcpi_snd_wscale = c->snd_wscale & 15;
        ti.tcpi_rcv_wscale = c->rcv_wscale & 15;
        ti.tcpi_rto = (uint32_t)c->rto_us;
        ti.tcpi_snd_mss = c->snd_mss;
        ti.tcpi_rcv_mss = c->snd_mss;
        ti.tcpi_unacked = (c->snd_max - c->snd_una + mss - 1) / mss;
        ti.tcpi_rtt = (uint32_t)c->srtt_us;
        ti.tcpi_rttvar = (uint32_t)c->rttvar_us;
        ti.tcpi_snd_ssthresh = c->ssthresh / mss;
        ti.tcpi_snd_cwnd = c->cwnd / mss;
        ti.tcpi_advmss = c->host->cfg->mss;
        ti.tcpi_rcv_space = c->rcvbuf.cap;
        ti.tcpi_total_retrans = c->host->stats.retrans_segs > UINT32_MAX
                                    ? UINT32_MAX : (uint32_t)c->host->stats.retrans_segs;
    }
    return put_opt(val, len, &ti, sizeof ti);
}

static int get_opt(struct psock *ps, int level, int name, void *val, socklen_t *len)
{
    struct runtime *r = preload_runtime();
    struct stack *s = runtime_stack(r);
    int v = 0;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_RCVTIMEO:
        case SO_SNDTIMEO: {
            uint64_t us = name == SO_RCVTIMEO ? ps->rcvtimeo_us : ps->sndtimeo_us;
            struct timeval tv = { .tv_sec = (time_t)(us / 1000000u),
                                  .tv_usec = (suseconds_t)(us % 1000000u) };
            return put_opt(val, len, &tv, sizeof tv);
        }
        case SO_LINGER: {
            struct linger lg = { .l_onoff = ps->linger_on, .l_linger = ps->linger_s };
            return put_opt(val, len, &lg, sizeof lg);
        }
        case SO_TYPE: v = SOCK_STREAM; return put_opt(val, len, &v, sizeof v);
        case SO_DOMAIN: v = AF_INET; return put_opt(val, len, &v, sizeof v);
        case SO_PROTOCOL: v = IPPROTO_TCP; return put_opt(val, len, &v, sizeof v);
        case SO_ERROR:
        case SO_ACCEPTCONN:
            runtime_lock(r);
            v = name == SO_ERROR ? stack_sock_error(s, ps->k)
                                 : stack_sock_state(s, ps->k) == TCP_LISTEN;
            runtime_unlock(r);
            return put_opt(val, len, &v, sizeof v);
        }
    } else if (level == IPPROTO_TCP && name == TCP_INFO) {
        runtime_lock(r);
        int rc = get_tcp_info(s, ps, val, len);
        runtime_unlock(r);
        return rc;
    } else if (level == IPPROTO_TCP && name == TCP_MAXSEG) {
        /* Linux: the MSS in use once connected, else the user's or 536 */
        runtime_lock(r);
        const struct tcp_conn *c = stack_sock_conn(s, ps->k);
        stack_getopt(s, ps->k, STACK_OPT_MAXSEG, &v);
        if (c && c->state >= TCP_ESTABLISHED)
            v = c->snd_mss;
        else if (!v)
            v = 536;
        runtime_unlock(r);
        return put_opt(val, len, &v, sizeof v);
    }
    int opt = stack_option(level, name);
    if (opt < 0)
        return -ENOPROTOOPT;
    runtime_lock(r);
    int rc = stack_getopt(s, ps->k, (enum stack_opt)opt, &v);
    runtime_unlock(r);
    if (opt == STACK_OPT_SNDBUF || opt == STACK_OPT_RCVBUF)
        v *= BUF_FACTOR;
    return rc < 0 ? rc : put_opt(val, len, &v, sizeof v);
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(setsockopt)(fd, level, name, val, len);
    return (int)errno_result(set_opt(ps, level, name, val, len));
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(getsockopt)(fd, level, name, val, len);
    return (int)errno_result(get_opt(ps, level, name, val, len));
}
