/* poll and select over sets that mix kernel fds and stack sockets. A
 * stack socket's readiness comes from the stack; the wait happens in the
 * kernel, on the kernel fds and on the stack sockets' eventfds, which the
 * stack signals when a socket's readiness changes: no busy polling. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "preload.h"

#define STACK_EVENTS (POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP)

static bool has_stack_fd(const struct pollfd *fds, nfds_t n)
{
    for (nfds_t i = 0; i < n; i++)
        if (psock_get(fds[i].fd))
            return true;
    return false;
}

/* The stack sockets' revents; how many are ready. Their eventfds are
 * drained first, so a change after this look wakes the wait. */
static int stack_revents(struct pollfd *fds, nfds_t n, short *revents)
{
    struct runtime *r = preload_runtime();
    int ready = 0;
    for (nfds_t i = 0; i < n; i++) {
        struct psock *ps = psock_get(fds[i].fd);
        if (ps)
            psock_drain(ps);
    }
    runtime_lock(r);
    for (nfds_t i = 0; i < n; i++) {
        struct psock *ps = psock_get(fds[i].fd);
        revents[i] = 0;
        if (!ps)
            continue;
        unsigned m = stack_poll(runtime_stack(r), ps->k);
        revents[i] = (short)(m & ((unsigned)fds[i].events | POLLERR | POLLHUP) & STACK_EVENTS);
        ready += revents[i] != 0;
    }
    runtime_unlock(r);
    return ready;
}

/* poll and ppoll: a negative timeout waits forever. */
static int poll_common(struct pollfd *fds, nfds_t n, int64_t timeout_ns, const sigset_t *sigmask)
{
    struct timespec ts;
    if (!has_stack_fd(fds, n)) {
        ts = (struct timespec){ (time_t)(timeout_ns / 1000000000), (long)(timeout_ns % 1000000000) };
        return REAL(ppoll)(fds, n, timeout_ns < 0 ? NULL : &ts, sigmask);
    }
    struct pollfd *k = malloc(n * sizeof *k);
    short *revents = malloc(n * sizeof *revents);
    if (!k || !revents) {
        free(k);
        free(revents);
        errno = ENOMEM;
        return -1;
    }
    uint64_t end = timeout_ns > 0 ? runtime_now() + (uint64_t)timeout_ns / 1000u : 0;
    int result;
    for (;;) {
        int ready = stack_revents(fds, n, revents);
        for (nfds_t i = 0; i < n; i++) {
            k[i] = fds[i];
            if (psock_get(fds[i].fd))
                k[i].events = POLLIN;   /* its eventfd: a change to look at */
        }
        int64_t wait_ns = timeout_ns;
        if (ready)
            wait_ns = 0;
        else if (timeout_ns > 0) {
            uint64_t now = runtime_now();
            wait_ns = now >= end ? 0 : (int64_t)(end - now) * 1000;
        }
        ts = (struct timespec){ (time_t)(wait_ns / 1000000000), (long)(wait_ns % 1000000000) };
        if (REAL(ppoll)(k, n, wait_ns < 0 ? NULL : &ts, sigmask) < 0) {
            result = -1;
            break;
        }
        result = 0;
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = psock_get(fds[i].fd) ? revents[i] : k[i].revents;
            result += fds[i].revents != 0;
        }
        if (result || wait_ns == 0)
            break;
        /* an eventfd woke us: look at the stack sockets again */
    }
    free(k);
    free(revents);
    return result;
}

static int64_t ts_to_ns(const struct timespec *ts)
{
    return ts ? (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec : -1;
}

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    return poll_common(fds, n, timeout < 0 ? -1 : (int64_t)timeout * 1000000, NULL);
}

EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                 const sigset_t *sigmask)
{
    return poll_common(fds, n, ts_to_ns(timeout), sigmask);
}

/* glibc's _FORTIFY_SOURCE checks: the array must hold n entries */
extern void __chk_fail(void) __attribute__((noreturn));
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                const sigset_t *sigmask, size_t fdslen);

EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        __chk_fail();
    return poll(fds, n, timeout);
}

EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *timeout,
                       const sigset_t *sigmask, size_t fdslen)
{
    if (fdslen / sizeof *fds < n)
        __chk_fail();
    return ppoll(fds, n, timeout, sigmask);
}

static bool sets_have_stack_fd(int nfds, fd_set *rd, fd_set *wr, fd_set *ex)
{
    for (int fd = 0; fd < nfds; fd++)
        if (psock_get(fd) && ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) ||
                              (ex && FD_ISSET(fd, ex))))
            return true;
    return false;
}

/* select and pselect over poll_common; `tv` (select's) gets the time not
 * slept written back, as Linux does. */
static int select_common(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, int64_t timeout_ns,
                         const sigset_t *sigmask, struct timeval *tv)
{
    struct pollfd *p = malloc((size_t)nfds * sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    nfds_t n = 0;
    for (int fd = 0; fd < nfds; fd++) {
        short ev = (short)((rd && FD_ISSET(fd, rd) ? POLLIN : 0) |
                           (wr && FD_ISSET(fd, wr) ? POLLOUT : 0) |
                           (ex && FD_ISSET(fd, ex) ? POLLPRI : 0));
        if (ev)
            p[n++] = (struct pollfd){ .fd = fd, .events = ev };
    }
    uint64_t start = runtime_now();
    int rc = poll_common(p, n, timeout_ns, sigmask);
    if (rc >= 0) {
        /* Linux's mapping (fs/select.c POLLIN_SET, POLLOUT_SET, POLLEX_SET) */
        rc = 0;
        if (rd)
            FD_ZERO(rd);
        if (wr)
            FD_ZERO(wr);
        if (ex)
            FD_ZERO(ex);
        for (nfds_t i = 0; i < n; i++) {
            short re = p[i].revents;
            if (rd && (p[i].events & POLLIN) && (re & (POLLIN | POLLHUP | POLLERR))) {
                FD_SET(p[i].fd, rd);
                rc++;
            }
            if (wr && (p[i].events & POLLOUT) && (re & (POLLOUT | POLLERR))) {
                FD_SET(p[i].fd, wr);
                rc++;
            }
            if (ex && (p[i].events & POLLPRI) && (re & POLLPRI)) {
                FD_SET(p[i].fd, ex);
                rc++;
            }
        }
        if (tv) {
            /* Linux: the time not slept is written back */
            uint64_t spent = runtime_now() - start, left_us = (uint64_t)tv->tv_sec * 1000000u + (uint64_t)tv->tv_usec;
            left_us = spent >= left_us ? 0 : left_us - spent;
            tv->tv_sec = (time_t)(left_us / 1000000u);
            tv->tv_usec = (suseconds_t)(left_us % 1000000u);
        }
    }
    free(p);
    return rc;
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    if (!sets_have_stack_fd(nfds, rd, wr, ex))
        return REAL(select)(nfds, rd, wr, ex, tv);
    if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)) {
        errno = EINVAL;
        return -1;
    }
    int64_t ns = tv ? (int64_t)tv->tv_sec * 1000000000 + (int64_t)tv->tv_usec * 1000 : -1;
    return select_common(nfds, rd, wr, ex, ns, NULL, tv);
}

EXPORT int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
                   const sigset_t *sigmask)
{
    if (!sets_have_stack_fd(nfds, rd, wr, ex))
        return REAL(pselect)(nfds, rd, wr, ex, ts, sigmask);
    return select_common(nfds, rd, wr, ex, ts_to_ns(ts), sigmask, NULL);
}
