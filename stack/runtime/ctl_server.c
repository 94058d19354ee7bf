/* The daemon's side of the control protocol (ctl.h). Only root, the
 * daemon's own user and the --user of `tuntcp up` (SO_PEERCRED) may make
 * sockets; any other process may only ask about a socket it holds, and
 * proves it by sending its fd along (a server's workers that gave up root
 * still set options on the connections they accept). A request that is
 * not well formed is answered with EBADMSG, never trusted. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "fdpass.h"

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

/* Milliseconds from `at` to `now`, as Linux's jiffies_to_msecs(now - t). */
static uint32_t ms_since(uint64_t at, uint64_t now)
{
    return now > at ? (uint32_t)((now - at) / 1000) : 0;
}

/* TCP_INFO with the fields the stack knows; the rest stay zero. `unread`:
 * bytes the program wrote that the daemon has not taken yet. */
static void tcp_info_of(const struct tcp_conn *c, enum tcp_state state, uint32_t unread,
                        uint64_t now, struct tcp_info *ti)
{
    memset(ti, 0, sizeof *ti);
    ti->tcpi_state = linux_state(state);
    if (!c)
        return;
    uint32_t mss = c->snd_mss ? c->snd_mss : 1;
    ti->tcpi_retransmits = (uint8_t)c->backoff;
    ti->tcpi_backoff = (uint8_t)c->backoff;
    ti->tcpi_options = (c->ts_on ? TCPI_OPT_TIMESTAMPS : 0) | (c->ws_on ? TCPI_OPT_WSCALE : 0) |
                       (c->sack_on ? TCPI_OPT_SACK : 0);
    /* the scoreboard's bytes, in segments as Linux counts them */
    ti->tcpi_sacked = tcp_segs(c, c->sb.sacked);
    ti->tcpi_lost = tcp_segs(c, c->sb.lost);
    ti->tcpi_retrans = tcp_segs(c, c->sb.retrans);
    ti->tcpi_reordering = c->reordering;
    ti->tcpi_snd_wscale = c->snd_wscale & 15;
    ti->tcpi_rcv_wscale = c->rcv_wscale & 15;
    ti->tcpi_rto = (uint32_t)c->rto_us;
    ti->tcpi_snd_mss = c->snd_mss;
    ti->tcpi_rcv_mss = c->snd_mss;
    ti->tcpi_unacked = tcp_segs(c, c->snd_max - c->snd_una);
    ti->tcpi_rtt = (uint32_t)c->srtt_us;
    ti->tcpi_rttvar = (uint32_t)c->rttvar_us;
    ti->tcpi_snd_ssthresh = c->ssthresh / mss;
    ti->tcpi_snd_cwnd = c->cwnd / mss;
    ti->tcpi_advmss = c->host->cfg->mss;
    ti->tcpi_rcv_space = c->rcvbuf.cap;
    /* the connection's own counters, as Linux's tcp_get_info */
    const struct tcp_conn_stats *cs = &c->stats;
    ti->tcpi_total_retrans = cs->total_retrans;
    ti->tcpi_bytes_acked = cs->bytes_acked;
    ti->tcpi_bytes_received = cs->bytes_received;
    ti->tcpi_bytes_sent = cs->bytes_sent;
    ti->tcpi_bytes_retrans = cs->bytes_retrans;
    ti->tcpi_segs_out = cs->segs_out;
    ti->tcpi_segs_in = cs->segs_in;
    ti->tcpi_data_segs_out = cs->data_segs_out;
    ti->tcpi_data_segs_in = cs->data_segs_in;
    ti->tcpi_dsack_dups = cs->dsack_dups;
    ti->tcpi_reord_seen = cs->reord_seen;
    /* delivery rate estimation (tcp_rate.c) */
    ti->tcpi_delivered = c->rate.delivered_segs;
    ti->tcpi_delivery_rate = tcp_delivery_rate(c);
    ti->tcpi_delivery_rate_app_limited = c->rate.sample_app_limited;
    ti->tcpi_min_rtt = (uint32_t)c->min_rtt_us;
    ti->tcpi_snd_wnd = c->snd_wnd;
    /* as Linux's tcp_get_info: times since, in ms (the last data sent,
     * resent too; the last in-order data received; the last ACK) */
    ti->tcpi_last_data_sent = ms_since(c->last_data_sent_at, now);
    ti->tcpi_last_data_recv = ms_since(c->last_data_recv_at, now);
    ti->tcpi_last_ack_recv = ms_since(c->last_recv_at, now);
    /* and what waits in the program's socket, not sent either */
    ti->tcpi_notsent_bytes = tcp_notsent_bytes(c) + unread;
    /* Linux's tcp_get_info_chrono_stats, us: busy is all three */
    uint64_t rwnd = tcp_chrono_us(c, TCP_CHRONO_RWND_LIMITED, now);
    uint64_t sndbuf = tcp_chrono_us(c, TCP_CHRONO_SNDBUF_LIMITED, now);
    ti->tcpi_busy_time = tcp_chrono_us(c, TCP_CHRONO_BUSY, now) + rwnd + sndbuf;
    ti->tcpi_rwnd_limited = rwnd;
    ti->tcpi_sndbuf_limited = sndbuf;
}

static void status_of(struct daemon *d, struct rsock *r, uint64_t id, bool take,
                      struct ctl_status *st)
{
    struct stack *s = d->stack;
    if (!r) {
        /* gone: closed, with the error it ended with (once) */
        st->state = TCP_CLOSED;
        st->error = take ? tomb_take(d, id) : 0;
        st->maxseg = 536;
        tcp_info_of(NULL, TCP_CLOSED, 0, 0, &st->info);
        return;
    }
    const struct tcp_conn *c = stack_sock_conn(s, r->k);
    st->state = stack_sock_state(s, r->k);
    st->error = take ? stack_sock_error(s, r->k) : c ? c->error : 0;
    st->listening = st->state == TCP_LISTEN;
    int queued = 0;
    if (r->kind == SOCKNAME_CONN && ioctl(r->fd, FIONREAD, &queued) < 0)
        queued = 0;
    uint32_t unread = (uint32_t)queued - r->filler;
    st->outq = (c ? c->snd_max - c->snd_una : 0) + unread;
    /* Linux: the MSS in use once connected, else the user's or 536 */
    int maxseg = 0;
    stack_getopt(s, r->k, STACK_OPT_MAXSEG, &maxseg);
    st->maxseg = c && c->state >= TCP_ESTABLISHED ? c->snd_mss : maxseg ? maxseg : 536;
    tcp_info_of(c, (enum tcp_state)st->state, unread, daemon_now(), &st->info);
}

static void reply(struct client *c, const struct ctl_rep *rep, int fd)
{
    /* a client asks one thing at a time, so its queue has room; if it
     * went away, its hang-up is handled in the loop */
    fdpass_send(c->fd, rep, sizeof *rep, fd, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void client_answer(struct daemon *d, struct client *c, int result)
{
    (void)d;
    struct ctl_rep rep = { .result = result };
    if (c->waits_on)
        rep.id = c->waits_on->id;
    c->waits_on = NULL;
    reply(c, &rep, -1);
}

/* Options carried over from the kernel socket the program made. The
 * linger timeout is the relay's, applied once the rsock exists. */
static int apply_opts(struct daemon *d, struct sock *k, const struct ctl_req *req, int *linger)
{
    for (unsigned i = 0; i < req->nopts; i++) {
        const struct ctl_opt *o = &req->opts[i];
        if (o->opt == CTL_OPT_LINGER) {
            *linger = o->value;
            continue;
        }
        int rc = stack_setopt(d->stack, k, (enum stack_opt)o->opt, o->value, daemon_now());
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* A new stack socket with the request's options. */
static int new_sock(struct daemon *d, const struct ctl_req *req, struct sock **k, int *linger)
{
    int rc = stack_socket(d->stack, k);
    if (rc == 0 && (rc = apply_opts(d, *k, req, linger)) < 0)
        stack_close(d->stack, *k, daemon_now());
    return rc;
}

static int do_bind(struct daemon *d, const struct ctl_req *req, struct ctl_rep *rep, int *fd)
{
    struct sock *k;
    int linger = -1;
    int rc = new_sock(d, req, &k, &linger);
    if (rc < 0)
        return rc;
    struct rsock *r = NULL;
    rc = stack_bind(d->stack, k, req->addr, req->port);
    if (rc == 0 && !(r = rsock_new(d, k, SOCKNAME_BOUND, fd)))
        rc = -errno;
    if (rc < 0) {
        stack_close(d->stack, k, daemon_now());
        return rc;
    }
    r->linger = linger;
    rep->id = r->id;
    return 0;
}

static int do_connect(struct daemon *d, struct client *c, const struct ctl_req *req,
                      struct rsock *r, struct ctl_rep *rep, int *fd)
{
    struct stack *s = d->stack;
    struct sock *k;
    int linger = -1;
    if (r) {
        k = r->k;
    } else {
        /* a new socket, or one whose connect failed: tried again afresh */
        int rc = new_sock(d, req, &k, &linger);
        if (rc < 0)
            return rc;
    }
    int rc = stack_connect(s, k, req->addr, req->port, daemon_now());
    if (r && r->kind == SOCKNAME_CONN) {
        /* Linux: the call after the connection completed says so (0),
         * the ones after it EISCONN; a blocking call waits for a
         * handshake under way (one retried after EINTR) */
        if (rc == -EISCONN && !r->connect_told) {
            r->connect_told = true;
            return 0;
        }
        if (rc == -EALREADY && (req->flags & CTL_WAIT) && !r->waiter) {
            r->waiter = c;
            c->waits_on = r;
            return -EINPROGRESS;
        }
        return rc;
    }
    if (rc != -EINPROGRESS) {
        if (!r)
            stack_close(s, k, daemon_now());
        return rc;
    }
    if (r) {
        rc = rsock_reconnect(d, r, fd);
    } else if ((r = rsock_new(d, k, SOCKNAME_CONN, fd))) {
        r->linger = linger;
        rc = 0;
    } else {
        rc = -errno;
        stack_abort(s, k, daemon_now());
    }
    if (rc < 0)
        return rc;
    rep->id = r->id;
    daemon_log(d, LOG_DEBUG, "connect: socket %llu%s", (unsigned long long)r->id,
               req->flags & CTL_WAIT ? ", the caller waits" : "");
    if (req->flags & CTL_WAIT) {
        r->waiter = c;
        c->waits_on = r;
    }
    rsock_mark(d, r);
    return -EINPROGRESS;
}

static int do_setopt(struct daemon *d, struct rsock *r, const struct ctl_opt *o)
{
    if (!r)
        return 0;   /* a socket that is over takes options, as on Linux */
    if (o->opt == CTL_OPT_LINGER) {
        /* Linux (sk_setsockopt): off keeps the timeout, for getsockopt */
        r->linger = o->value >= 0 ? o->value : r->linger >= 0 ? -1 - r->linger : r->linger;
        return 0;
    }
    int rc = stack_setopt(d->stack, r->k, (enum stack_opt)o->opt, o->value, daemon_now());
    rsock_mark(d, r);   /* SO_RCVLOWAT and TCP_CORK change what moves */
    return rc;
}

static int do_getopt(struct daemon *d, struct rsock *r, int opt, int32_t *value)
{
    *value = 0;
    if (!r)
        return 0;
    if (opt == CTL_OPT_LINGER) {
        *value = r->linger;
        return 0;
    }
    int v = 0;
    int rc = stack_getopt(d->stack, r->k, (enum stack_opt)opt, &v);
    *value = v;
    return rc;
}

/* ---- CTL_STATS: what `tuntcp stats` prints ---- */

/* The stack's counters and the daemon's own figures. */
struct figures {
    struct stack_stats stack;
    uint64_t relays, bound;         /* connections the daemon relays, and
                                       bound or listening sockets it holds */
    uint64_t clients;               /* control connections */
    uint64_t fds;                   /* the daemon's open fds */
    uint64_t vm_rss_kb, vm_hwm_kb;  /* its memory now, and at its peak */
};

/* One "name value" line a field, in this order; every field is a
 * uint64_t (checked). The drop counters follow, by reason. */
#define U64_FIELD(f) (offsetof(struct figures, f) + \
                      0 * sizeof(_Generic(((struct figures *)0)->f, uint64_t: 0)))
#define STACK(f) { #f, U64_FIELD(stack.f) }
#define DAEMON(f) { "daemon." #f, U64_FIELD(f) }
static const struct figure {
    const char *name;
    size_t off;
} figures_shown[] = {
    STACK(ip_in), STACK(ip_out), STACK(tcp_in), STACK(icmp_in), STACK(icmp_out),
    STACK(link_errors), STACK(gso_in), STACK(gso_out), STACK(gso_in_whole),
    STACK(tcp.segs_out), STACK(tcp.data_segs_out), STACK(tcp.bytes_out),
    STACK(tcp.retrans_segs), STACK(tcp.fast_retransmits), STACK(tcp.rto_expirations),
    STACK(tcp.zero_window_probes), STACK(tcp.keepalive_probes), STACK(tcp.challenge_acks),
    STACK(tcp.challenge_acks_suppressed), STACK(tcp.rst_out), STACK(tcp.paws_drops),
    STACK(tcp.unacceptable_segs), STACK(tcp.ooo_segs), STACK(tcp.ooo_dropped),
    STACK(tcp.active_opens), STACK(tcp.passive_opens), STACK(tcp.established),
    STACK(tcp.resets_in), STACK(tcp.timeouts), STACK(tcp.aborts_on_data),
    STACK(tcp.syncookies_sent),
    STACK(tcp.syncookies_ok), STACK(tcp.syncookies_failed),
    STACK(tcp.buffer_bytes), STACK(tcp.buffer_peak_bytes), STACK(tcp.buffer_limit_bytes),
    STACK(tcp.mem_pressure_events), STACK(tcp.ooo_pruned), STACK(tcp.mem_drops),
    STACK(tcp.sack_recoveries), STACK(tcp.sacked_bytes), STACK(tcp.rack_lost_segs),
    STACK(tcp.tlp_probes), STACK(tcp.tlp_recoveries), STACK(tcp.undo_eifel),
    STACK(tcp.undo_dsack),
    STACK(sockets), STACK(conns_open), STACK(time_wait),
    DAEMON(relays), DAEMON(bound), DAEMON(clients), DAEMON(fds),
    DAEMON(vm_rss_kb), DAEMON(vm_hwm_kb),
};

static uint64_t open_fds(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return 0;
    uint64_t n = 0;
    for (struct dirent *e; (e = readdir(dir));)
        n += e->d_name[0] != '.';
    closedir(dir);
    return n ? n - 1 : 0;   /* less the directory's own */
}

/* VmRSS and VmHWM, in kB. */
static void memory_of(struct figures *f)
{
    FILE *st = fopen("/proc/self/status", "re");
    if (!st)
        return;
    char line[256];
    while (fgets(line, sizeof line, st)) {
        uint64_t kb;
        if (sscanf(line, "VmRSS: %" SCNu64, &kb) == 1)
            f->vm_rss_kb = kb;
        else if (sscanf(line, "VmHWM: %" SCNu64, &kb) == 1)
            f->vm_hwm_kb = kb;
    }
    fclose(st);
}

static void figures_of(struct daemon *d, struct figures *f)
{
    memset(f, 0, sizeof *f);
    stack_get_stats(d->stack, &f->stack);
    for (size_t i = 0; i < ID_BUCKETS; i++)
        for (const struct rsock *r = d->ids[i]; r; r = r->id_next)
            if (r->kind == SOCKNAME_BOUND)
                f->bound++;
            else
                f->relays++;
    f->clients = d->nclients;
    f->fds = open_fds();
    memory_of(f);
}

/* Appends a line while there is room; returns the new length. */
static size_t add_line(char *buf, size_t cap, size_t len, const char *name, uint64_t value)
{
    int n = snprintf(buf + len, cap - len, "%s %" PRIu64 "\n", name, value);
    return n > 0 && (size_t)n < cap - len ? len + (size_t)n : len;
}

/* One message: the reply, then the text. */
static void stats_reply(struct daemon *d, struct client *c)
{
    char msg[CTL_STATS_MAX];
    struct ctl_rep rep = { 0 };
    char *text = msg + sizeof rep;
    size_t cap = sizeof msg - sizeof rep, len = 0;
    struct figures f;
    figures_of(d, &f);
    for (size_t i = 0; i < sizeof figures_shown / sizeof *figures_shown; i++) {
        uint64_t v;
        memcpy(&v, (const char *)&f + figures_shown[i].off, sizeof v);
        len = add_line(text, cap, len, figures_shown[i].name, v);
    }
    for (int r = DROP_NONE + 1; r < DROP_REASON_COUNT; r++) {
        char name[64];
        snprintf(name, sizeof name, "drops.%s", drop_reason_name((enum drop_reason)r));
        len = add_line(text, cap, len, name, f.stack.drops[r]);
    }
    rep.result = (int32_t)len;
    memcpy(msg, &rep, sizeof rep);
    fdpass_send(c->fd, msg, sizeof rep + len, -1, MSG_DONTWAIT | MSG_NOSIGNAL);
}

/* May the client do this? `held` is the fd it sent along, if any. */
/* Trusted clients may do anything; others may say hello, and act on a
 * socket they show they hold (its fd comes with the request). Holding one
 * makes a client trusted: a process given a socket by one that may (a
 * server's worker that dropped privileges) may make sockets too. */
static bool may(struct daemon *d, struct client *c, const struct ctl_req *req, int held)
{
    if (c->trusted || req->op == CTL_HELLO)
        return true;
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    struct sockname n;
    c->trusted = req->id && held >= 0 && getpeername(held, (struct sockaddr *)&sa, &len) == 0 &&
                 sockname_parse(&sa, len, &n) && n.nonce == d->nonce && n.id == req->id &&
                 !strcmp(n.dev, d->cfg.dev) && rsock_find(d, req->id);
    return c->trusted;
}

static void handle(struct daemon *d, struct client *c, const struct ctl_req *req, int held)
{
    struct stack *s = d->stack;
    struct ctl_rep rep = { .id = req->id };
    bool quiet = req->flags & CTL_NOREPLY;
    if (!may(d, c, req, held)) {
        rep.result = -EACCES;
        if (!quiet)
            reply(c, &rep, -1);
        return;
    }
    /* a socket of an earlier daemon run is no socket of ours */
    struct rsock *r = req->id && req->nonce == d->nonce ? rsock_find(d, req->id) : NULL;
    int fd = -1;
    switch (req->op) {
    case CTL_HELLO:
        rep.hello = (struct ctl_hello){ .addr = d->cfg.addr, .net = d->cfg.net,
                                        .prefix = d->cfg.prefix, .mtu = d->cfg.mtu,
                                        .pid = (int32_t)getpid() };
        break;
    case CTL_BIND:
        rep.result = do_bind(d, req, &rep, &fd);
        break;
    case CTL_CONNECT:
        rep.result = do_connect(d, c, req, r, &rep, &fd);
        break;
    case CTL_LISTEN:
    case CTL_SHUTDOWN:
        if (!r) {
            rep.result = -EINVAL;
            break;
        }
        rep.result = req->op == CTL_LISTEN ? stack_listen(s, r->k, req->value)
                                           : stack_shutdown(s, r->k, req->value, daemon_now());
        rsock_mark(d, r);
        break;
    case CTL_SETOPT:
    case CTL_GETOPT:
        if (req->nopts != 1) {
            rep.result = -EINVAL;
            break;
        }
        rep.result = req->op == CTL_SETOPT ? do_setopt(d, r, &req->opts[0])
                                           : do_getopt(d, r, req->opts[0].opt, &rep.value);
        break;
    case CTL_STATUS:
        status_of(d, r, req->nonce == d->nonce ? req->id : 0, req->flags & CTL_TAKE_ERROR,
                  &rep.status);
        break;
    case CTL_LINGER:
        /* 1: waiting, a second reply comes once the FIN is acknowledged */
        if (r && r->kind == SOCKNAME_CONN && !r->waiter) {
            r->waiter = c;
            c->waits_on = r;
            rep.result = 1;
        }
        break;
    case CTL_STOP:
        d->stop = true;
        break;
    case CTL_STATS:
        if (!quiet)
            stats_reply(d, c);
        return;
    default:
        rep.result = -EINVAL;
        break;
    }
    if (!quiet)
        reply(c, &rep, fd);
    if (fd >= 0)
        close(fd);
}

static bool trusted(const struct daemon *d, int fd)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    return cred.uid == 0 || cred.uid == geteuid() || (d->user && cred.uid == d->user);
}

void ctl_accept(struct daemon *d)
{
    int fd;
    while ((fd = accept4(d->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        struct client *c = calloc(1, sizeof *c);
        if (!c || daemon_watch(d, fd, EPOLLIN, &c->w) < 0) {
            free(c);
            close(fd);
            continue;
        }
        c->w.kind = WATCH_CLIENT;
        c->fd = fd;
        c->trusted = trusted(d, fd);
        c->next = d->clients;
        d->clients = c;
        d->nclients++;
    }
}

static void client_drop(struct daemon *d, struct client *c)
{
    if (c->waits_on)
        c->waits_on->waiter = NULL;
    struct client **pp = &d->clients;
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    daemon_unwatch(d, c->fd);
    close(c->fd);
    free(c);
    d->nclients--;
}

/* Reads one request; false when the client is gone. */
static bool read_request(struct daemon *d, struct client *c)
{
    struct ctl_req req;
    struct iovec iov = { &req, sizeof req };
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(16 * sizeof(int))];
    } u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
    ssize_t n = recvmsg(c->fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR;
    if (n == 0)
        return false;
    /* the first fd is the socket asked about; more are closed unread */
    int held = -1;
    for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
        if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                int fd;
                memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof fd);
                if (held < 0)
                    held = fd;
                else
                    close(fd);
            }
    }
    if ((size_t)n != sizeof req || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        req.version != CTL_VERSION || req.nopts > CTL_MAX_OPTS || c->waits_on) {
        daemon_log(d, LOG_WARN, "a malformed control request (%zd bytes): refused", n);
        struct ctl_rep rep = { .result = -EBADMSG };
        reply(c, &rep, -1);
    } else {
        handle(d, c, &req, held);
    }
    if (held >= 0)
        close(held);
    return true;
}

void client_event(struct daemon *d, struct client *c, uint32_t events)
{
    if ((events & EPOLLIN) && read_request(d, c))
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        client_drop(d, c);
}
