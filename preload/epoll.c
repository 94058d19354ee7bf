/* epoll over sets that mix kernel fds and stack sockets. Kernel fds live
 * in the kernel's epoll instance as usual. Stack sockets are kept here:
 * each (epoll, socket) pair is an item; the stack's readiness callback puts
 * an item whose socket became ready on its epoll's ready list and signals
 * the epoll's wake eventfd, which sits in the kernel instance. epoll_wait
 * reports the ready list (level-triggered items stay while ready,
 * edge-triggered ones go once reported, EPOLLONESHOT disables) and
 * otherwise sleeps in the kernel on everything at once. All the state here
 * is guarded by the runtime lock, which the callback already holds. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "preload.h"

#define MAX_EPOLLS PRELOAD_MAX_FDS
/* data.u64 of the wake eventfd in the kernel instance */
#define WAKE_MARK 0x7475e7c9e90aa5e1ull
#define ALWAYS (EPOLLERR | EPOLLHUP)   /* reported even if not asked for */

struct pepoll;

struct ep_item {
    struct pepoll *ep;
    struct psock *ps;
    struct epoll_event ev;        /* events asked for, and the user's data */
    bool listed, disabled;
    struct ep_item *ready_next, *ready_prev;
    struct ep_item *sock_next;    /* the socket's items, one per epoll */
    struct ep_item *ep_next;      /* the epoll's items */
};

struct pepoll {
    int wake_fd;
    struct ep_item *items;
    struct ep_item *ready;        /* head of the ready list */
};

static struct pepoll *epolls[MAX_EPOLLS];

static void ready_add(struct ep_item *it)
{
    if (it->listed)
        return;
    it->listed = true;
    it->ready_prev = NULL;
    it->ready_next = it->ep->ready;
    if (it->ready_next)
        it->ready_next->ready_prev = it;
    it->ep->ready = it;
    eventfd_write(it->ep->wake_fd, 1);
}

static void ready_del(struct ep_item *it)
{
    if (!it->listed)
        return;
    it->listed = false;
    if (it->ready_prev)
        it->ready_prev->ready_next = it->ready_next;
    else
        it->ep->ready = it->ready_next;
    if (it->ready_next)
        it->ready_next->ready_prev = it->ready_prev;
}

static uint32_t item_mask(struct stack *s, const struct ep_item *it)
{
    /* stack_poll has no EPOLLET/EPOLLONESHOT bits: they never get through */
    return stack_poll(s, it->ps->k) & (it->ev.events | ALWAYS);
}

void epoll_socket_changed(struct stack *s, struct psock *ps)
{
    for (struct ep_item *it = ps->ep_items; it; it = it->sock_next)
        if (!it->disabled && item_mask(s, it))
            ready_add(it);
}

/* Unlinks an item from its socket's and its epoll's lists, and frees it. */
static void item_free(struct ep_item *it)
{
    ready_del(it);
    struct ep_item **pp;
    for (pp = &it->ps->ep_items; *pp != it; pp = &(*pp)->sock_next)
        ;
    *pp = it->sock_next;
    for (pp = &it->ep->items; *pp != it; pp = &(*pp)->ep_next)
        ;
    *pp = it->ep_next;
    free(it);
}

void epoll_socket_closed(struct psock *ps)
{
    while (ps->ep_items)
        item_free(ps->ep_items);
}

void epoll_forget_after_fork(void)
{
    /* the items name the parent's sockets; the kernel instances keep only
     * a wake eventfd nobody signals */
    memset(epolls, 0, sizeof epolls);
}

bool preload_is_epoll(int fd)
{
    return fd >= 0 && fd < MAX_EPOLLS && epolls[fd];
}

void epoll_instance_closed(int epfd)
{
    if (epfd < 0 || epfd >= MAX_EPOLLS || !epolls[epfd])
        return;
    struct runtime *r = preload_runtime();
    runtime_lock(r);
    struct pepoll *ep = epolls[epfd];
    epolls[epfd] = NULL;
    while (ep->items)
        item_free(ep->items);
    runtime_unlock(r);
    REAL(close)(ep->wake_fd);
    free(ep);
}

/* The epoll's own state, made when its first stack socket comes. */
static int pepoll_get(int epfd, struct pepoll **out)
{
    if (epfd < 0 || epfd >= MAX_EPOLLS)
        return -EBADF;
    if (epolls[epfd]) {
        *out = epolls[epfd];
        return 0;
    }
    struct pepoll *ep = calloc(1, sizeof *ep);
    if (!ep)
        return -ENOMEM;
    ep->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event wev = { .events = EPOLLIN, .data.u64 = WAKE_MARK };
    if (ep->wake_fd < 0 || REAL(epoll_ctl)(epfd, EPOLL_CTL_ADD, ep->wake_fd, &wev) < 0) {
        int e = errno;   /* e.g. EINVAL: epfd is no epoll instance */
        if (ep->wake_fd >= 0)
            REAL(close)(ep->wake_fd);
        free(ep);
        return -e;
    }
    epolls[epfd] = ep;
    *out = ep;
    return 0;
}

static struct ep_item *find_item(struct pepoll *ep, struct psock *ps)
{
    for (struct ep_item *it = ps->ep_items; it; it = it->sock_next)
        if (it->ep == ep)
            return it;
    return NULL;
}

/* epoll_ctl for a stack socket (runtime lock held). */
static int ctl_stack(struct stack *s, int epfd, int op, struct psock *ps, struct epoll_event *ev)
{
    if (op != EPOLL_CTL_DEL && !ev)
        return -EFAULT;
    struct pepoll *ep = NULL;
    int rc = pepoll_get(epfd, &ep);
    if (rc < 0)
        return rc;
    struct ep_item *it = find_item(ep, ps);
    switch (op) {
    case EPOLL_CTL_ADD:
        if (it)
            return -EEXIST;
        it = calloc(1, sizeof *it);
        if (!it)
            return -ENOMEM;
        it->ep = ep;
        it->ps = ps;
        it->sock_next = ps->ep_items;
        ps->ep_items = it;
        it->ep_next = ep->items;
        ep->items = it;
        break;
    case EPOLL_CTL_MOD:
        if (!it)
            return -ENOENT;
        ready_del(it);
        break;
    case EPOLL_CTL_DEL:
        if (!it)
            return -ENOENT;
        item_free(it);
        return 0;
    default:
        return -EINVAL;
    }
    it->ev = *ev;
    it->disabled = false;
    /* Linux checks readiness at once on ADD and MOD */
    if (item_mask(s, it))
        ready_add(it);
    return 0;
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(epoll_ctl)(epfd, op, fd, ev);
    struct runtime *r = preload_runtime();
    runtime_lock(r);
    int rc = ctl_stack(runtime_stack(r), epfd, op, ps, ev);
    runtime_unlock(r);
    return (int)errno_result(rc);
}

/* Reports ready stack sockets into out (runtime lock held). */
static int collect(struct stack *s, struct pepoll *ep, struct epoll_event *out, int max)
{
    int n = 0;
    struct ep_item *it = ep->ready, *next;
    for (; it && n < max; it = next) {
        next = it->ready_next;
        uint32_t mask = item_mask(s, it);
        if (!mask || it->disabled) {
            ready_del(it);
            continue;
        }
        out[n].events = mask;
        out[n].data = it->ev.data;
        n++;
        if (it->ev.events & (EPOLLET | EPOLLONESHOT))
            ready_del(it);
        if (it->ev.events & EPOLLONESHOT)
            it->disabled = true;
    }
    return n;
}

/* The kernel's events without our wake eventfd's; returns how many. */
static int strip_wake(struct epoll_event *ev, int n)
{
    int m = 0;
    for (int i = 0; i < n; i++)
        if (ev[i].data.u64 != WAKE_MARK)
            ev[m++] = ev[i];
    return m;
}

/* The kernel's wait, to the nanosecond where glibc has epoll_pwait2
 * (2.35), else in milliseconds rounded up. A negative timeout: forever. */
static int kernel_wait(int epfd, struct epoll_event *events, int max, int64_t ns,
                       const sigset_t *sigmask)
{
    struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
    if (REAL(epoll_pwait2))
        return REAL(epoll_pwait2)(epfd, events, max, ns < 0 ? NULL : &ts, sigmask);
    return REAL(epoll_pwait)(epfd, events, max, ns < 0 ? -1 : (int)((ns + 999999) / 1000000),
                             sigmask);
}

static int wait_common(int epfd, struct epoll_event *events, int max, int64_t timeout_ns,
                       const sigset_t *sigmask)
{
    struct pepoll *ep = epfd >= 0 && epfd < MAX_EPOLLS ? epolls[epfd] : NULL;
    if (!ep || max <= 0)
        return kernel_wait(epfd, events, max, timeout_ns, sigmask);
    struct runtime *r = preload_runtime();
    uint64_t end = timeout_ns > 0 ? runtime_now() + (uint64_t)timeout_ns / 1000u : 0;
    for (;;) {
        eventfd_t v;
        eventfd_read(ep->wake_fd, &v);   /* drain, then look */
        runtime_lock(r);
        int n = collect(runtime_stack(r), ep, events, max);
        runtime_unlock(r);
        /* the kernel's fds: at once if stack sockets are ready, else wait */
        int64_t wait_ns = timeout_ns;
        if (n)
            wait_ns = 0;
        else if (timeout_ns > 0) {
            uint64_t now = runtime_now();
            wait_ns = now >= end ? 0 : (int64_t)(end - now) * 1000;
        }
        int k = kernel_wait(epfd, events + n, max - n, wait_ns, sigmask);
        if (k < 0)
            return n ? n : -1;
        n += strip_wake(events + n, k);
        if (n || wait_ns == 0)
            return n;
        /* only our wake eventfd: a stack socket changed, look again */
    }
}

static int64_t ms_to_ns(int ms)
{
    return ms < 0 ? -1 : (int64_t)ms * 1000000;
}

EXPORT int epoll_wait(int epfd, struct epoll_event *events, int max, int timeout)
{
    return wait_common(epfd, events, max, ms_to_ns(timeout), NULL);
}

EXPORT int epoll_pwait(int epfd, struct epoll_event *events, int max, int timeout,
                       const sigset_t *sigmask)
{
    return wait_common(epfd, events, max, ms_to_ns(timeout), sigmask);
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event *events, int max,
                        const struct timespec *timeout, const sigset_t *sigmask)
{
    int64_t ns = timeout ? (int64_t)timeout->tv_sec * 1000000000 + timeout->tv_nsec : -1;
    return wait_common(epfd, events, max, ns, sigmask);
}
