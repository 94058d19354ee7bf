/* The daemon's device, control socket and event loop. It sleeps in
 * epoll until a packet, a request, a program's socket or the earliest
 * stack timer needs it, and ends once nothing is held and nothing owed. */
#include "daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* How long the daemon stays once idle: a program started right after
 * another finds the same stack (and device) still there. */
#define IDLE_EXIT_US 1000000ull
#define BUSY_WAIT_US 50

uint64_t daemon_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void daemon_log(const struct daemon *d, enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    config_vlog(&d->cfg, "tuntcpd", level, fmt, ap);
    va_end(ap);
}

int daemon_watch(struct daemon *d, int fd, uint32_t events, struct watch *w)
{
    struct epoll_event ev = { .events = events, .data.ptr = w };
    return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void daemon_unwatch(struct daemon *d, int fd)
{
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void on_notify(void *ctx, struct sock *k)
{
    struct rsock *r = stack_sock_user(k);
    if (r)
        rsock_mark(ctx, r);
}

/* The control socket first: binding its abstract name is atomic, so of
 * two daemons started at once for a device, one goes on and the other
 * learns the device is served. */
static int open_ctl(struct daemon *d, char *err, size_t errlen)
{
    d->ctl_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    socklen_t len = ctl_address(d->cfg.dev, &sa);
    if (d->ctl_fd >= 0 && bind(d->ctl_fd, (struct sockaddr *)&sa, len) == 0 &&
        listen(d->ctl_fd, 4096) == 0)
        return 0;
    int e = errno;
    if (d->ctl_fd >= 0)
        close(d->ctl_fd);
    if (e == EADDRINUSE)
        return 1;
    snprintf(err, errlen, "tuntcp: cannot make the control socket of %s: %s", d->cfg.dev,
             strerror(e));
    return -e;
}

int daemon_open(struct daemon *d, char *err, size_t errlen)
{
    const struct tuntcp_config *cfg = &d->cfg;
    int rc = open_ctl(d, err, errlen);
    if (rc)
        return rc;
    /* the impairing link takes packets one by one: no super-packets */
    struct tun_config tc = { .dev = cfg->dev, .peer_addr = cfg->peer,
                             .prefix_len = cfg->prefix, .mtu = cfg->mtu,
                             .offload = cfg->offload && !cfg->impaired };
    rc = tun_open(&tc, &d->tun, err, errlen);
    if (rc < 0) {
        close(d->ctl_fd);
        return rc;
    }
    struct link *link = &d->tun.link;
    d->impaired = cfg->impaired;
    if (d->impaired) {
        if (impair_init(&d->impair, link, &cfg->impair) < 0) {
            snprintf(err, errlen, "tuntcp: out of memory");
            return -ENOMEM;
        }
        link = &d->impair.link;
    }
    rc = pktlog_init(&d->log, link, cfg->log == LOG_PACKETS, cfg->pcap[0] ? cfg->pcap : NULL,
                     err, errlen);
    if (rc < 0)
        return rc;
    struct stack_config sc;
    stack_config_default(&sc);
    sc.addr = cfg->addr;
    if (cfg->msl_ms)
        sc.tcp.msl_us = (uint64_t)cfg->msl_ms * 1000;
    if (cfg->mem_limit)
        sc.tcp.mem_limit = cfg->mem_limit;
    sc.tcp.sack = cfg->sack;
    if (cfg->cc[0])
        sc.tcp.cc = tcp_cc_find(cfg->cc);
    /* the detour through the log only when there is something to show */
    bool shown = cfg->log == LOG_PACKETS || cfg->pcap[0];
    d->stack = stack_new(&sc, shown ? &d->log.link : link);
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!d->stack || d->epfd < 0) {
        snprintf(err, errlen, "tuntcp: cannot start the stack: %s", strerror(errno));
        return -errno;
    }
    stack_set_notify(d->stack, on_notify, d);
    d->tun_watch.kind = WATCH_TUN;
    d->ctl_watch.kind = WATCH_CTL;
    if (getrandom(&d->nonce, sizeof d->nonce, 0) != sizeof d->nonce)
        d->nonce = (uint32_t)getpid() ^ (uint32_t)daemon_now();
    if (daemon_watch(d, d->tun.fd, EPOLLIN, &d->tun_watch) < 0 ||
        daemon_watch(d, d->ctl_fd, EPOLLIN, &d->ctl_watch) < 0) {
        snprintf(err, errlen, "tuntcp: epoll: %s", strerror(errno));
        return -errno;
    }
    return 0;
}

/* Idle: no program holds a socket or a control connection, and no
 * connection still delivers data or a FIN, nor waits for the peer's. */
static bool idle_long_enough(struct daemon *d, uint64_t now)
{
    if (d->persist || d->nrsocks || d->nclients || stack_delivering(d->stack, true)) {
        d->idle_since = 0;
        return false;
    }
    if (!d->idle_since)
        d->idle_since = now;
    return now - d->idle_since >= IDLE_EXIT_US;
}

static void dispatch(struct daemon *d, const struct epoll_event *ev, uint64_t now)
{
    struct watch *w = ev->data.ptr;
    switch (w->kind) {
    case WATCH_TUN:
        stack_receive(d->stack, now);
        break;
    case WATCH_CTL:
        ctl_accept(d);
        break;
    case WATCH_CLIENT:
        client_event(d, (struct client *)w, ev->events);
        break;
    case WATCH_RSOCK:
        rsock_event(d, (struct rsock *)w, ev->events);
        break;
    }
}

/* Right after work, the answer to what we passed on often comes within
 * microseconds (a request's response): looking for it a little while,
 * rather than sleeping at once, saves a wakeup on the round trip (as
 * Linux's busy polling does). Bounded, and only after work, so an idle
 * daemon sleeps. */
static int busy_wait(struct daemon *d, struct epoll_event *evs, int max)
{
    static const struct timespec zero;
    if (!d->worked)
        return 0;
    d->worked = false;
    uint64_t start = daemon_now();
    int n;
    do
        n = epoll_pwait2(d->epfd, evs, max, &zero, NULL);
    while (n == 0 && daemon_now() - start < BUSY_WAIT_US);
    return n < 0 ? 0 : n;
}

int daemon_run(struct daemon *d)
{
    struct epoll_event evs[64];
    for (;;) {
        uint64_t now = daemon_now();
        stack_timers(d->stack, now);
        relay_service(d);
        if (d->impaired)
            impair_flush(&d->impair);
        if (d->stop) {
            relay_abort_all(d);
            stack_flush(d->stack);
            /* the device before the control connection that asked: once
             * that ends, `tuntcp down` deletes the device, which the
             * kernel refuses (EBUSY) while a queue is still attached,
             * and exit closes descriptors in no order we choose */
            tun_close(&d->tun);
            daemon_log(d, LOG_INFO, "stopped");
            return 0;
        }
        if (idle_long_enough(d, now)) {
            daemon_log(d, LOG_INFO, "nothing left to serve: exiting");
            return 0;
        }
        uint64_t deadline = stack_next_deadline(d->stack);
        if (d->idle_since && (!deadline || d->idle_since + IDLE_EXIT_US < deadline))
            deadline = d->idle_since + IDLE_EXIT_US;
        struct timespec ts, *timeout = NULL;
        if (deadline) {
            uint64_t wait = deadline > now ? deadline - now : 0;
            ts = (struct timespec){ (time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000 };
            timeout = &ts;
        }
        /* what the socket calls emitted, before sleeping */
        stack_flush(d->stack);
        int n = busy_wait(d, evs, 64);
        if (n == 0)
            n = epoll_pwait2(d->epfd, evs, 64, timeout, NULL);
        if (n < 0 && errno != EINTR) {
            daemon_log(d, LOG_ERROR, "epoll: %s", strerror(errno));
            return 1;
        }
        /* a fresh reading per event: one may send what the next answers */
        for (int i = 0; i < n; i++)
            dispatch(d, &evs[i], daemon_now());
        d->worked = n > 0;
    }
}
