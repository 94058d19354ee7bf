/* Socket calls: which sockets the stack serves, and the calls on them.
 * A socket starts as a kernel socket; bind or connect into the TUN subnet
 * puts a stack socket behind the same fd number. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h>   /* option names; netinet/tcp.h clashes with tcp.h's states */
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

/* An AF_INET stream socket of the kernel's, which could still move. */
static bool kernel_tcp_socket(int fd)
{
    int type, domain;
    socklen_t l1 = sizeof type, l2 = sizeof domain;
    return REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &l1) == 0 &&
           REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &l2) == 0 &&
           type == SOCK_STREAM && domain == AF_INET;
}

static int kernel_int_opt(int fd, int level, int name)
{
    int v = 0;
    socklen_t l = sizeof v;
    REAL(getsockopt)(fd, level, name, &v, &l);
    return v;
}

static uint64_t kernel_timeo(int fd, int name)
{
    struct timeval tv = { 0 };
    socklen_t l = sizeof tv;
    REAL(getsockopt)(fd, SOL_SOCKET, name, &tv, &l);
    return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* Moves a kernel socket to the stack at the same fd, carrying over
 * O_NONBLOCK and the options set so far. */
static int take_over(int fd, struct psock **out)
{
    struct runtime *r = preload_runtime();
    if (!r)
        return -errno;
    bool nonblock = fcntl(fd, F_GETFL) & O_NONBLOCK;
    uint64_t rcvtimeo = kernel_timeo(fd, SO_RCVTIMEO), sndtimeo = kernel_timeo(fd, SO_SNDTIMEO);
    struct linger lg = { 0 };
    socklen_t ll = sizeof lg;
    REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &ll);
    struct stack *s = runtime_stack(r);
    uint64_t now = runtime_now();
    runtime_lock(r);
    struct sock *k;
    int rc = stack_socket(s, &k);
    if (rc == 0) {
        stack_setopt(s, k, STACK_OPT_REUSEADDR, kernel_int_opt(fd, SOL_SOCKET, SO_REUSEADDR), now);
        stack_setopt(s, k, STACK_OPT_KEEPALIVE, kernel_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE), now);
        stack_setopt(s, k, STACK_OPT_NODELAY, kernel_int_opt(fd, IPPROTO_TCP, TCP_NODELAY), now);
        rc = psock_install(fd, k, true, out);
        if (rc < 0)
            stack_close(s, k, now);
    }
    runtime_unlock(r);
    preload_log(LOG_DEBUG, "fd %d: moved to the stack (%s)", fd, rc == 0 ? "ok" : strerror(-rc));
    if (rc == 0) {
        (*out)->nonblock = nonblock;
        (*out)->rcvtimeo_us = rcvtimeo;
        (*out)->sndtimeo_us = sndtimeo;
        (*out)->linger_on = lg.l_onoff;
        (*out)->linger_s = lg.l_linger;
    }
    return rc;
}

static bool inet_addr_of(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port)
{
    if (!sa || len < (socklen_t)sizeof(struct sockaddr_in) || sa->sa_family != AF_INET)
        return false;
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof sin);
    *addr = ntohl(sin.sin_addr.s_addr);
    *port = ntohs(sin.sin_port);
    return true;
}

/* (host-order address and port in a sockaddr_in, to pass them on) */
static ssize_t bind_op(struct stack *s, struct psock *ps, void *arg)
{
    const struct sockaddr_in *sin = arg;
    return stack_bind(s, ps->k, sin->sin_addr.s_addr, sin->sin_port);
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t addr;
    uint16_t port;
    struct psock *ps = psock_get(fd);
    if (!ps) {
        bool ours = inet_addr_of(sa, len, &addr, &port) &&
                    (preload_in_subnet(addr) || (addr == 0 && preload_bind_any())) &&
                    kernel_tcp_socket(fd);
        if (!ours)
            return REAL(bind)(fd, sa, len);
        int rc = take_over(fd, &ps);
        if (rc < 0)
            return (int)errno_result(rc);
    } else if (!inet_addr_of(sa, len, &addr, &port)) {
        return (int)errno_result(sa && len >= sizeof(sa_family_t) && sa->sa_family != AF_INET
                                     ? -EAFNOSUPPORT : -EINVAL);
    }
    struct sockaddr_in sin = { .sin_addr.s_addr = addr, .sin_port = port };
    return (int)errno_result(psock_run(ps, bind_op, &sin, true, 0));
}

static ssize_t listen_op(struct stack *s, struct psock *ps, void *arg)
{
    return stack_listen(s, ps->k, *(int *)arg);
}

EXPORT int listen(int fd, int backlog)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(listen)(fd, backlog);
    return (int)errno_result(psock_run(ps, listen_op, &backlog, true, 0));
}

static void fill_addr(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port)
{
    if (!sa || !len)
        return;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(addr) };
    memcpy(sa, &sin, *len < sizeof sin ? *len : sizeof sin);
    *len = sizeof sin;
}

static ssize_t accept_op(struct stack *s, struct psock *ps, void *arg)
{
    return stack_accept(s, ps->k, arg);
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(accept4)(fd, sa, len, flags);
    if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return (int)errno_result(-EINVAL);
    struct sock *k;
    ssize_t rc = psock_run(ps, accept_op, &k, ps->nonblock, ps->rcvtimeo_us);
    if (rc < 0)
        return (int)errno_result(rc);
    struct runtime *r = preload_runtime();
    struct psock *child;
    runtime_lock(r);
    int nfd = psock_new_fd(k, flags & SOCK_CLOEXEC ? O_CLOEXEC : 0, &child);
    uint32_t addr = 0;
    uint16_t port = 0;
    if (nfd < 0)
        stack_close(runtime_stack(r), k, runtime_now());
    else
        stack_getpeername(runtime_stack(r), k, &addr, &port);
    runtime_unlock(r);
    if (nfd < 0)
        return (int)errno_result(nfd);
    child->nonblock = flags & SOCK_NONBLOCK;
    fill_addr(sa, len, addr, port);
    return nfd;
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    return psock_get(fd) ? accept4(fd, sa, len, 0) : REAL(accept)(fd, sa, len);
}

static ssize_t connect_wait_op(struct stack *s, struct psock *ps, void *arg)
{
    (void)arg;
    return stack_connect_result(s, ps->k);
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t addr;
    uint16_t port;
    struct psock *ps = psock_get(fd);
    if (!ps) {
        struct sockaddr_in local;
        socklen_t ll = sizeof local;
        bool ours = inet_addr_of(sa, len, &addr, &port) && preload_in_subnet(addr) &&
                    kernel_tcp_socket(fd) &&
                    REAL(getsockname)(fd, (struct sockaddr *)&local, &ll) == 0 &&
                    local.sin_port == 0;   /* not bound elsewhere */
        if (!ours)
            return REAL(connect)(fd, sa, len);
        int rc = take_over(fd, &ps);
        if (rc < 0)
            return (int)errno_result(rc);
    } else if (!inet_addr_of(sa, len, &addr, &port)) {
        return (int)errno_result(-EAFNOSUPPORT);
    }
    struct runtime *r = preload_runtime();
    runtime_lock(r);
    int rc = stack_connect(runtime_stack(r), ps->k, addr, port, runtime_now());
    runtime_unlock(r);
    if (rc != -EINPROGRESS || ps->nonblock)
        return (int)errno_result(rc);
    /* Linux: a blocking connect waits for the handshake (SO_SNDTIMEO) */
    ssize_t res = psock_run(ps, connect_wait_op, NULL, false, ps->sndtimeo_us);
    return (int)errno_result(res == -EAGAIN ? -EINPROGRESS : res);
}

static ssize_t shutdown_op(struct stack *s, struct psock *ps, void *arg)
{
    return stack_shutdown(s, ps->k, *(int *)arg, runtime_now());
}

EXPORT int shutdown(int fd, int how)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(shutdown)(fd, how);
    return (int)errno_result(psock_run(ps, shutdown_op, &how, true, 0));
}

/* Drops fd from ps; true if it was the socket's last fd. */
static bool psock_last_fd(struct psock *ps, int fd)
{
    struct runtime *r = preload_runtime();
    runtime_lock(r);
    bool last = psock_drop_fd(ps, fd);
    runtime_unlock(r);
    return last;
}

/* SO_LINGER: done once our data and FIN are acknowledged. */
static ssize_t lingered_op(struct stack *s, struct psock *ps, void *arg)
{
    (void)arg;
    enum tcp_state st = stack_sock_state(s, ps->k);
    return st == TCP_FIN_WAIT_2 || st == TCP_TIME_WAIT || st == TCP_CLOSED ? 0 : -EAGAIN;
}

EXPORT int close(int fd)
{
    struct psock *ps = psock_get(fd);
    if (ps && !psock_last_fd(ps, fd))
        ps = NULL;   /* a dup remains: the socket stays open */
    if (ps) {
        struct runtime *r = preload_runtime();
        bool reset = psock_resets_on_close(ps);
        if (ps->linger_on && !reset && !ps->nonblock) {
            /* Linux: a blocking close with SO_LINGER waits (up to the
             * linger time) for the data and the FIN to be acknowledged */
            int how = SHUT_WR;
            if (psock_run(ps, shutdown_op, &how, true, 0) == 0)
                psock_run(ps, lingered_op, NULL, false, (uint64_t)ps->linger_s * 1000000u);
        }
        runtime_lock(r);
        psock_release(ps, reset);
        runtime_unlock(r);
    }
    epoll_instance_closed(fd);
    return REAL(close)(fd);
}


static int name_call(int fd, struct sockaddr *sa, socklen_t *len, bool peer)
{
    struct psock *ps = psock_get(fd);
    struct runtime *r = preload_runtime();
    uint32_t addr;
    uint16_t port;
    runtime_lock(r);
    int rc = (peer ? stack_getpeername : stack_getsockname)(runtime_stack(r), ps->k, &addr, &port);
    runtime_unlock(r);
    if (rc == 0)
        fill_addr(sa, len, addr, port);
    return (int)errno_result(rc);
}

EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    return psock_get(fd) ? name_call(fd, sa, len, false) : REAL(getsockname)(fd, sa, len);
}

EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    return psock_get(fd) ? name_call(fd, sa, len, true) : REAL(getpeername)(fd, sa, len);
}
