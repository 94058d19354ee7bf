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

EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    if (!has_stack_fd(fds, n))
        return REAL(poll)(fds, n, timeout);
    struct pollfd *k = malloc(n * sizeof *k);
    short *revents = malloc(n * sizeof *revents);
    if (!k || !revents) {
        free(k);
        free(revents);
        errno = ENOMEM;
        return -1;
    }
    uint64_t end = timeout > 0 ? runtime_now() + (uint64_t)timeout * 1000u : 0;
    int result;
    for (;;) {
        int ready = stack_revents(fds, n, revents);
        for (nfds_t i = 0; i < n; i++) {
            k[i] = fds[i];
            if (psock_get(fds[i].fd))
                k[i].events = POLLIN;   /* its eventfd: a change to look at */
        }
        int wait = timeout;
        if (ready)
            wait = 0;
        else if (timeout > 0) {
            uint64_t now = runtime_now();
            wait = now >= end ? 0 : (int)((end - now + 999) / 1000);
        }
        int rc = REAL(poll)(k, n, wait);
        if (rc < 0) {
            result = -1;
            break;
        }
        result = 0;
        for (nfds_t i = 0; i < n; i++) {
            fds[i].revents = psock_get(fds[i].fd) ? revents[i] : k[i].revents;
            result += fds[i].revents != 0;
        }
        if (result || wait == 0)
            break;
        /* an eventfd woke us: look at the stack sockets again */
    }
    free(k);
    free(revents);
    return result;
}

EXPORT int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
    bool ours = false;
    for (int fd = 0; fd < nfds && !ours; fd++)
        ours = psock_get(fd) && ((rd && FD_ISSET(fd, rd)) || (wr && FD_ISSET(fd, wr)) ||
                                 (ex && FD_ISSET(fd, ex)));
    if (!ours)
        return REAL(select)(nfds, rd, wr, ex, tv);
    if (tv && (tv->tv_sec < 0 || tv->tv_usec < 0 || tv->tv_usec >= 1000000)) {
        errno = EINVAL;
        return -1;
    }
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
    int ms = tv ? (int)(tv->tv_sec * 1000 + (tv->tv_usec + 999) / 1000) : -1;
    int rc = poll(p, n, ms);
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
