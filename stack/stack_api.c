/* The socket calls, with Linux's semantics and errno values (the
 * comments name the Linux function a rule comes from). */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

#include "stack_internal.h"

#define KEEPIDLE_MAX 32767   /* Linux MAX_TCP_KEEPIDLE / KEEPINTVL, seconds */
#define KEEPCNT_MAX 127      /* Linux MAX_TCP_KEEPCNT */
#define MAXSEG_MIN 88         /* Linux TCP_MIN_MSS */
#define MAXSEG_MAX 32767      /* Linux MAX_TCP_WINDOW */
#define BUF_MIN 4096
#define BUF_MAX (64u << 20)

int stack_socket(struct stack *s, struct sock **out)
{
    struct sock *k = sock_new(s);
    if (!k)
        return -ENOMEM;
    *out = k;
    return 0;
}

static bool is_bound(const struct sock *k)
{
    return hnode_linked(&k->port_node);
}

/* Port 0 takes a free ephemeral port (EADDRINUSE when none is left). */
static int bind_port(struct stack *s, struct sock *k, uint32_t addr, uint16_t port)
{
    if (port == 0) {
        port = port_pick_ephemeral(s, NULL);
        if (!port)
            return -EADDRINUSE;
    } else {
        int err = port_check_bind(s, k, port);
        if (err)
            return err;
    }
    k->ep.laddr = addr;
    k->ep.lport = port;
    port_add(s, k);
    return 0;
}

int stack_bind(struct stack *s, struct sock *k, uint32_t addr, uint16_t port)
{
    if (k->kind != SOCK_FRESH || is_bound(k))
        return -EINVAL;
    if (addr != 0 && addr != s->cfg.addr)
        return -EADDRNOTAVAIL;
    return bind_port(s, k, addr, port);
}

int stack_listen(struct stack *s, struct sock *k, int backlog)
{
    /* Linux (__sys_listen): the backlog is clamped to somaxconn, and a
     * negative one means as much as allowed. */
    unsigned max = s->cfg.max_backlog;
    unsigned bl = backlog < 0 || (unsigned)backlog > max ? max : (unsigned)backlog;
    if (k->kind == SOCK_LISTENER) {
        k->listener->backlog = bl;
        return 0;
    }
    if (k->kind != SOCK_FRESH)
        return -EINVAL;
    /* Linux (inet_csk_listen_start) checks the port again: two sockets
     * that share one with SO_REUSEADDR cannot both listen. */
    int err = is_bound(k) ? port_check_bind(s, k, k->ep.lport) : bind_port(s, k, 0, 0);
    if (err || (err = listener_start(s, k, bl)))
        return err;
    sock_settle(s, k);
    return 0;
}

int stack_accept(struct stack *s, struct sock *k, struct sock **out)
{
    if (k->kind != SOCK_LISTENER)
        return -EINVAL;
    struct sock *c = listener_take(s, k->listener);
    if (!c)
        return -EAGAIN;
    *out = c;
    return 0;
}

int stack_connect(struct stack *s, struct sock *k, uint32_t addr, uint16_t port,
                  uint64_t now)
{
    /* Linux (__inet_stream_connect) */
    if (k->kind == SOCK_LISTENER)
        return -EISCONN;
    if (k->kind == SOCK_CONN) {
        if (k->conn.state == TCP_SYN_SENT || k->conn.state == TCP_SYN_RECEIVED)
            return -EALREADY;
        if (!tcp_is_closed(&k->conn) || k->was_connected)
            return -EISCONN;
        /* a connect that failed may be tried again */
        tcp_conn_destroy(&k->conn);
        k->kind = SOCK_FRESH;
    }
    struct tcp_endpoints ep = {
        .laddr = s->cfg.addr, .raddr = addr, .lport = k->ep.lport, .rport = port,
    };
    bool bound = is_bound(k);
    if (bound && (table_lookup(s, &ep) || time_wait_lookup(s, &ep)))
        return -EADDRNOTAVAIL;   /* the 4-tuple is taken */
    if (!bound && !(ep.lport = port_pick_ephemeral(s, &ep)))
        return -EADDRNOTAVAIL;
    stack_conn_init(s, k, k, &ep);
    if (!bound)
        port_add(s, k);
    table_insert(s, k);
    tcp_open_active(&k->conn, isn_generate(&s->cfg.isn_key, &ep, now), now);
    sock_settle(s, k);
    return -EINPROGRESS;
}

int stack_connect_result(struct stack *s, struct sock *k)
{
    if (k->kind != SOCK_CONN)
        return -ENOTCONN;
    if (k->was_connected)
        return 0;
    if (!tcp_is_closed(&k->conn))
        return -EAGAIN;
    int err = stack_sock_error(s, k);
    return err ? -err : -ECONNREFUSED;
}

ssize_t stack_send(struct stack *s, struct sock *k, const void *buf, size_t len,
                   uint64_t now)
{
    /* Linux (sk_stream_wait_connect): EPIPE unless connecting/connected */
    if (k->kind != SOCK_CONN)
        return -EPIPE;
    ssize_t n = tcp_send(&k->conn, buf, len, now);
    sock_settle(s, k);
    return n;
}

ssize_t stack_recv(struct stack *s, struct sock *k, void *buf, size_t len,
                   int flags, uint64_t now)
{
    if (k->kind != SOCK_CONN)
        return -ENOTCONN;
    ssize_t n = tcp_recv(&k->conn, buf, len, flags & STACK_MSG_PEEK, now);
    /* Linux (tcp_recvmsg): after shutdown(SHUT_RD) an empty read is end
     * of stream; a socket that never connected is ENOTCONN. */
    if (n == -EAGAIN && k->shut_rd)
        n = 0;
    if (n == 0 && len && tcp_is_closed(&k->conn) && !k->was_connected)
        n = -ENOTCONN;
    sock_settle(s, k);
    return n;
}

uint32_t stack_recv_view(struct stack *s, struct sock *k, struct iovec iov[2])
{
    (void)s;
    if (k->kind != SOCK_CONN)
        return 0;
    const struct ring *r = &k->conn.rcvbuf;
    const uint8_t *base[2];
    uint32_t len[2];
    ring_view(r, 0, r->len, base, len);
    for (int i = 0; i < 2; i++)
        iov[i] = (struct iovec){ .iov_base = (void *)base[i], .iov_len = len[i] };
    return r->len;
}

void stack_recv_consume(struct stack *s, struct sock *k, uint32_t n, uint64_t now)
{
    if (k->kind != SOCK_CONN || !n)
        return;
    tcp_recv_consume(&k->conn, n, now);
    sock_settle(s, k);
}

uint32_t stack_send_view(struct stack *s, struct sock *k, struct iovec iov[2])
{
    (void)s;
    iov[0].iov_len = iov[1].iov_len = 0;
    if (k->kind != SOCK_CONN)
        return 0;
    struct ring *r = &k->conn.sndbuf;
    struct tcp_conn *c = &k->conn;
    bool sending = c->state == TCP_ESTABLISHED || c->state == TCP_CLOSE_WAIT;
    if (!sending || c->error || c->fin_queued)
        return 0;
    uint32_t room = tcp_send_room(c);
    const uint8_t *base[2];
    uint32_t len[2];
    ring_view(r, r->len, room, base, len);
    for (int i = 0; i < 2; i++)
        iov[i] = (struct iovec){ .iov_base = (void *)base[i], .iov_len = len[i] };
    return room;
}

void stack_send_commit(struct stack *s, struct sock *k, uint32_t n, uint64_t now)
{
    if (k->kind != SOCK_CONN || !n)
        return;
    tcp_send_commit(&k->conn, n, now);
    sock_settle(s, k);
}

int stack_shutdown(struct stack *s, struct sock *k, int how, uint64_t now)
{
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
        return -EINVAL;
    /* Linux (inet_shutdown): a listener stops listening on SHUT_RD; a
     * connection still opening is dropped. */
    switch (k->kind) {
    case SOCK_FRESH:
        return -ENOTCONN;
    case SOCK_LISTENER:
        if (how != SHUT_WR)
            listener_stop(s, k, now);
        sock_settle(s, k);
        return 0;
    case SOCK_CONN:
        break;
    }
    if (tcp_is_closed(&k->conn))
        return -ENOTCONN;
    if (k->conn.state == TCP_SYN_SENT) {
        tcp_abort(&k->conn, now);
    } else {
        if (how != SHUT_WR)
            k->shut_rd = true;
        if (how != SHUT_RD)
            tcp_shutdown_send(&k->conn, now);
    }
    sock_settle(s, k);
    return 0;
}

void stack_close(struct stack *s, struct sock *k, uint64_t now)
{
    switch (k->kind) {
    case SOCK_FRESH:
        sock_free(s, k);
        return;
    case SOCK_LISTENER:
        listener_stop(s, k, now);
        sock_free(s, k);
        return;
    case SOCK_CONN:
        k->released = true;
        if (!tcp_is_closed(&k->conn))
            tcp_close(&k->conn, now);
        sock_settle(s, k);   /* frees it once the connection is over */
        return;
    }
}

void stack_abort(struct stack *s, struct sock *k, uint64_t now)
{
    if (k->kind != SOCK_CONN) {
        stack_close(s, k, now);
        return;
    }
    k->released = true;
    if (!tcp_is_closed(&k->conn))
        tcp_abort(&k->conn, now);
    sock_settle(s, k);
}

unsigned stack_poll(struct stack *s, struct sock *k)
{
    (void)s;
    switch (k->kind) {
    case SOCK_FRESH:
        return POLLOUT | POLLHUP;   /* Linux (tcp_poll) on a new socket */
    case SOCK_LISTENER:
        return k->listener->accept_q.count ? POLLIN : 0;
    case SOCK_CONN:
        break;
    }
    unsigned mask = tcp_poll(&k->conn);
    /* SO_RCVLOWAT: readable from that many bytes (or at end of stream) */
    if ((mask & POLLIN) && !(mask & POLLRDHUP) && tcp_readable(&k->conn) < k->opts.rcvlowat)
        mask &= ~(unsigned)POLLIN;
    if (k->shut_rd) {
        mask |= POLLIN | POLLRDHUP;
        if (k->conn.fin_queued)
            mask |= POLLHUP;
    }
    return mask;
}

int stack_getsockname(struct stack *s, struct sock *k, uint32_t *addr, uint16_t *port)
{
    (void)s;
    *addr = k->ep.laddr;
    *port = k->ep.lport;
    return 0;
}

int stack_getpeername(struct stack *s, struct sock *k, uint32_t *addr, uint16_t *port)
{
    (void)s;
    /* Linux (inet_getname): no peer while connecting or once closed */
    if (k->kind != SOCK_CONN || k->conn.state == TCP_SYN_SENT || tcp_is_closed(&k->conn))
        return -ENOTCONN;
    *addr = k->ep.raddr;
    *port = k->ep.rport;
    return 0;
}

int stack_sock_error(struct stack *s, struct sock *k)
{
    int err = k->kind == SOCK_CONN ? tcp_take_error(&k->conn) : 0;
    sock_settle(s, k);
    return err;
}

enum tcp_state stack_sock_state(struct stack *s, struct sock *k)
{
    (void)s;
    switch (k->kind) {
    case SOCK_LISTENER:
        return TCP_LISTEN;
    case SOCK_CONN:
        return k->conn.state;
    default:
        return TCP_CLOSED;
    }
}

const struct tcp_conn *stack_sock_conn(struct stack *s, struct sock *k)
{
    (void)s;
    return k->kind == SOCK_CONN ? &k->conn : NULL;
}

/* Linux TCP_DEFER_ACCEPT (tcp.c secs_to_retrans, retrans_to_secs): the
 * seconds are kept as the number of SYN-ACK timeouts they cover, the first
 * 1 s (TCP_TIMEOUT_INIT), each one twice the last up to 120 s
 * (TCP_RTO_MAX), at most 255; the option reads back as the seconds those
 * timeouts add up to. */
#define DEFER_TIMEOUT_INIT 1
#define DEFER_RTO_MAX 120
#define DEFER_RETRANS_MAX 255

static int defer_backoff(int timeout)
{
    return timeout * 2 > DEFER_RTO_MAX ? DEFER_RTO_MAX : timeout * 2;
}

static uint8_t defer_secs_to_retrans(int seconds)
{
    unsigned res = 0;
    if (seconds > 0) {
        int timeout = DEFER_TIMEOUT_INIT, period = timeout;
        for (res = 1; seconds > period && res < DEFER_RETRANS_MAX; res++)
            period += timeout = defer_backoff(timeout);
    }
    return (uint8_t)res;
}

static int defer_retrans_to_secs(unsigned retrans)
{
    int timeout = DEFER_TIMEOUT_INIT, period = retrans ? timeout : 0;
    while (retrans-- > 1)
        period += timeout = defer_backoff(timeout);
    return period;
}

/* Linux (reqsk_timer_handler, syn_ack_recalc): the last of those timeouts
 * sends the SYN-ACK again, and the ACK it draws queues the connection. */
uint64_t defer_accept_period_us(const struct sock *l)
{
    return (uint64_t)defer_retrans_to_secs(l->defer_accept) * 1000000u;
}

/* Linux (rt_tos2priority, ip_tos2prio): the priority a TOS implies */
static int32_t tos_priority(uint8_t tos)
{
    static const uint8_t prio[16] = { 0, 0, 0, 0, 2, 2, 2, 2, 6, 6, 6, 6, 4, 4, 4, 4 };
    return prio[(tos & 0x1e) >> 1];
}

static int seconds_option(int value, int max, uint64_t *out_us)
{
    if (value < 1 || value > max)
        return -EINVAL;
    *out_us = (uint64_t)value * 1000000u;
    return 0;
}

int stack_setopt(struct stack *s, struct sock *k, enum stack_opt opt, int value,
                 uint64_t now)
{
    struct sock_opts *o = &k->opts;
    int err = 0;
    switch (opt) {
    case STACK_OPT_REUSEADDR:
        o->reuseaddr = value != 0;
        return 0;
    case STACK_OPT_REUSEPORT:
        o->reuseport = value != 0;
        return 0;
    case STACK_OPT_NODELAY:
        o->nodelay = value != 0;
        break;
    case STACK_OPT_KEEPALIVE:
        o->keepalive = value != 0;
        break;
    case STACK_OPT_KEEPIDLE:
        err = seconds_option(value, KEEPIDLE_MAX, &o->ka_idle_us);
        break;
    case STACK_OPT_KEEPINTVL:
        err = seconds_option(value, KEEPIDLE_MAX, &o->ka_intvl_us);
        break;
    case STACK_OPT_KEEPCNT:
        if (value < 1 || value > KEEPCNT_MAX)
            return -EINVAL;
        o->ka_cnt = (unsigned)value;
        break;
    case STACK_OPT_MAXSEG:
        /* Linux (do_tcp_setsockopt): takes effect at the handshake */
        if (value && (value < MAXSEG_MIN || value > MAXSEG_MAX))
            return -EINVAL;
        o->maxseg = (uint16_t)value;
        if (k->kind == SOCK_CONN && k->conn.state < TCP_SYN_SENT)
            k->conn.mss_clamp = o->maxseg;
        return 0;
    case STACK_OPT_CORK:
        o->cork = value != 0;
        if (k->kind == SOCK_CONN)
            tcp_set_cork(&k->conn, o->cork, now);
        sock_settle(s, k);
        return 0;
    case STACK_OPT_TOS: {
        /* Linux (__ip_sock_set_tos): for TCP the ECN bits stay the
         * stack's; a TOS that changes sets the priority from it */
        uint8_t tos = (uint8_t)(value & ~IP_ECN_MASK);
        if (tos != o->tos)
            k->priority = tos_priority(tos);
        o->tos = tos;
        if (k->kind == SOCK_CONN)
            k->conn.ip_tos = o->tos;
        return 0;
    }
    case STACK_OPT_PRIORITY:
        k->priority = value;
        return 0;
    case STACK_OPT_DEFER_ACCEPT:
        /* Linux (do_tcp_setsockopt): any value; 0 or less turns it off */
        k->defer_accept = defer_secs_to_retrans(value);
        return 0;
    case STACK_OPT_TTL:
        if (value != -1 && (value < 1 || value > 255))
            return -EINVAL;
        o->ttl = value == -1 ? 0 : (uint8_t)value;
        if (k->kind == SOCK_CONN)
            k->conn.ip_ttl = o->ttl;
        return 0;
    case STACK_OPT_BOUND_DEVICE:
        o->bound_device = value != 0;
        return 0;
    case STACK_OPT_QUICKACK:
        /* Linux: a state of the connection, not an option kept */
        if (k->kind == SOCK_CONN) {
            tcp_set_quickack(&k->conn, value != 0, now);
            sock_settle(s, k);
        }
        return 0;
    case STACK_OPT_USER_TIMEOUT:
        /* Linux (do_tcp_setsockopt): a negative value is EINVAL */
        if (value < 0)
            return -EINVAL;
        o->user_timeout_ms = (uint32_t)value;
        if (k->kind == SOCK_CONN)
            k->conn.user_timeout_us = (uint64_t)value * 1000u;
        return 0;
    case STACK_OPT_RCVLOWAT:
        /* Linux (sock_setsockopt): negative means INT_MAX, 0 means 1 */
        o->rcvlowat = value < 0 ? INT32_MAX : value == 0 ? 1 : (uint32_t)value;
        sock_settle(s, k);
        return 0;
    case STACK_OPT_CONGESTION: {
        /* Linux (tcp_set_congestion_control): ENOENT for an algorithm it
         * lacks */
        const struct tcp_cc_ops *cc = tcp_cc_of(value);
        if (!cc)
            return -ENOENT;
        o->cc = cc;
        if (k->kind == SOCK_CONN)
            tcp_set_congestion(&k->conn, cc);
        return 0;
    }
    case STACK_OPT_SNDBUF:
    case STACK_OPT_RCVBUF: {
        uint32_t v = value < BUF_MIN ? BUF_MIN : (uint32_t)value > BUF_MAX ? BUF_MAX : (uint32_t)value;
        *(opt == STACK_OPT_SNDBUF ? &o->sndbuf : &o->rcvbuf) = v;
        if (opt == STACK_OPT_RCVBUF) {
            /* Linux: a size the user chose is not autotuned any more */
            o->rcvbuf_locked = true;
            if (k->kind == SOCK_CONN)
                k->conn.rcvbuf_locked = true;
        }
        return 0;
    }
    default:
        return -ENOPROTOOPT;
    }
    if (err || k->kind != SOCK_CONN)
        return err;
    struct tcp_conn *c = &k->conn;
    c->ka_idle_us = o->ka_idle_us;
    c->ka_intvl_us = o->ka_intvl_us;
    c->ka_cnt = o->ka_cnt;
    if (c->nodelay != o->nodelay)
        tcp_set_nodelay(c, o->nodelay, now);
    tcp_set_keepalive(c, o->keepalive, now);
    sock_settle(s, k);
    return 0;
}

int stack_getopt(struct stack *s, struct sock *k, enum stack_opt opt, int *value)
{
    (void)s;
    const struct sock_opts *o = &k->opts;
    switch (opt) {
    case STACK_OPT_REUSEADDR: *value = o->reuseaddr; return 0;
    case STACK_OPT_REUSEPORT: *value = o->reuseport; return 0;
    case STACK_OPT_NODELAY: *value = o->nodelay; return 0;
    case STACK_OPT_KEEPALIVE: *value = o->keepalive; return 0;
    case STACK_OPT_KEEPIDLE: *value = (int)(o->ka_idle_us / 1000000u); return 0;
    case STACK_OPT_KEEPINTVL: *value = (int)(o->ka_intvl_us / 1000000u); return 0;
    case STACK_OPT_KEEPCNT: *value = (int)o->ka_cnt; return 0;
    case STACK_OPT_SNDBUF: *value = (int)o->sndbuf; return 0;
    case STACK_OPT_RCVBUF: {
        /* Linux reports sk_rcvbuf, which autotuning grows (until the
         * user sets a size) */
        uint32_t size = o->rcvbuf;
        if (k->kind == SOCK_CONN && !k->conn.rcvbuf_locked && k->conn.rcvbuf.cap > size)
            size = k->conn.rcvbuf.cap;
        *value = (int)size;
        return 0;
    }
    case STACK_OPT_MAXSEG: *value = o->maxseg; return 0;
    case STACK_OPT_CORK: *value = o->cork; return 0;
    case STACK_OPT_RCVLOWAT: *value = (int)o->rcvlowat; return 0;
    case STACK_OPT_TOS: *value = o->tos; return 0;
    case STACK_OPT_BOUND_DEVICE: *value = o->bound_device; return 0;
    case STACK_OPT_USER_TIMEOUT: *value = (int)o->user_timeout_ms; return 0;
    case STACK_OPT_QUICKACK: *value = k->kind == SOCK_CONN && k->conn.quickacks; return 0;
    case STACK_OPT_TTL: *value = o->ttl ? o->ttl : IP_DEFAULT_TTL; return 0;
    case STACK_OPT_PRIORITY: *value = k->priority; return 0;
    case STACK_OPT_DEFER_ACCEPT: *value = defer_retrans_to_secs(k->defer_accept); return 0;
    case STACK_OPT_CONGESTION: *value = tcp_cc_algorithm_by_name(o->cc->name); return 0;
    default: return -ENOPROTOOPT;
    }
}
