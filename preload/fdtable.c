/* The process's runtime and its table of stack sockets by fd. */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "preload.h"

#define MAX_FDS PRELOAD_MAX_FDS
#define EXIT_LINGER_US (5 * 1000000ull)   /* what exit gives unsent data */
#define EXIT_PEER_FIN_US (1000000ull)     /* and a peer yet to close */

static struct preload_config config;
static struct psock *table[MAX_FDS];
static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static struct runtime *rt;
static int start_errno;

/* fork: the lock is taken around it, so that the child never inherits it
 * held by a thread it does not have. The stack thread does not exist in
 * the child, so the parent's stack sockets cannot be the child's: each
 * becomes an unconnected kernel TCP socket at the same fd (reads
 * ENOTCONN, writes EPIPE, close as usual), and a socket the child makes
 * starts a stack of its own. The parent goes on serving them. */
static void fork_prepare(void)
{
    if (rt)
        runtime_lock(rt);
}

static void fork_parent(void)
{
    if (rt)
        runtime_unlock(rt);
}

static void fork_child(void)
{
    if (!rt)
        return;
    runtime_release_after_fork(rt);
    rt = NULL;
    epoll_forget_after_fork();
    for (int fd = 0; fd < MAX_FDS; fd++) {
        if (!table[fd])
            continue;
        __atomic_store_n(&table[fd], NULL, __ATOMIC_RELEASE);
        int k = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (k >= 0) {
            dup3(k, fd, (REAL(fcntl)(fd, F_GETFD) & FD_CLOEXEC) ? O_CLOEXEC : 0);
            REAL(close)(k);
        }
    }
}

/* Read the configuration as the program loads: a bad value stops it
 * before it runs (nothing else happens at load time). */
__attribute__((constructor)) static void preload_init(void)
{
    config_read(&config);
    pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void preload_log(enum log_level level, const char *fmt, ...)
{
    if (level > config.log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tuntcp[%d]: %s\n", (int)getpid(), line);
}

uint32_t preload_stack_addr(void)
{
    return config.addr;
}

bool preload_in_subnet(uint32_t addr)
{
    return (addr & (~0u << (32 - config.prefix))) == config.net;
}

bool preload_bind_any(void)
{
    return config.bind_any;
}

/* The stack's readiness callback: wake whoever waits on the fd. */
static void notify(void *ctx, struct sock *k)
{
    (void)ctx;
    struct psock *ps = stack_sock_user(k);
    /* eventfd_write, not write: write is ours in this process. A full
     * counter fails, and means the fd is signalled already. */
    if (ps) {
        pthread_cond_broadcast(&ps->changed);
        if (ps->fd >= 0)
            eventfd_write(ps->fd, 1);
        epoll_socket_changed(runtime_stack(rt), ps);
    }
}

/* At exit, connections still owed data or a FIN get a bounded linger. */
static void drain_at_exit(void)
{
    struct runtime *r = rt;
    if (!r)
        return;
    runtime_lock(r);
    for (int fd = 0; fd < MAX_FDS; fd++) {
        struct psock *ps = table[fd];
        __atomic_store_n(&table[fd], NULL, __ATOMIC_RELEASE);
        if (!ps || ps->fd != fd)
            continue;   /* none, or a dup: the socket is closed once */
        /* SO_LINGER with a zero timeout resets, as close would */
        (psock_resets_on_close(ps) ? stack_abort : stack_close)(runtime_stack(r), ps->k,
                                                                runtime_now());
    }
    runtime_unlock(r);
    /* First what we owe: data and our FIN. Then a short wait for peers
     * to close too, so that their FIN is answered rather than lost. */
    runtime_drain(r, EXIT_LINGER_US, false);
    runtime_drain(r, EXIT_PEER_FIN_US, true);
}

struct runtime *preload_runtime(void)
{
    /* once started, no lock: every stack socket call comes here */
    struct runtime *started = __atomic_load_n(&rt, __ATOMIC_ACQUIRE);
    if (started)
        return started;
    pthread_mutex_lock(&start_lock);
    if (!rt && !start_errno) {
        struct runtime_config rc = {
            .tun = { .dev = config.dev, .peer_addr = config.peer,
                     .prefix_len = config.prefix, .mtu = config.mtu },
            .addr = config.addr,
            .log = config.log,
            .pcap = config.pcap[0] ? config.pcap : NULL,
            .impaired = config.impaired,
            .impair = config.impair,
        };
        char err[512];
        struct runtime *made = runtime_start(&rc, err, sizeof err);
        if (made) {
            /* published once ready: the fast path above takes it as is */
            stack_set_notify(runtime_stack(made), notify, NULL);
            __atomic_store_n(&rt, made, __ATOMIC_RELEASE);
            atexit(drain_at_exit);
            preload_log(LOG_INFO, "stack %u.%u.%u.%u/%u on %s, MTU %u", config.addr >> 24,
                        (config.addr >> 16) & 255, (config.addr >> 8) & 255, config.addr & 255,
                        config.prefix, config.dev, config.mtu);
        } else {
            start_errno = errno ? errno : ENETDOWN;
            fprintf(stderr, "%s\n", err);
        }
    }
    struct runtime *r = rt;
    int e = start_errno;
    pthread_mutex_unlock(&start_lock);
    if (!r)
        errno = e;
    return r;
}

struct psock *psock_get(int fd)
{
    return fd >= 0 && fd < MAX_FDS ? __atomic_load_n(&table[fd], __ATOMIC_ACQUIRE) : NULL;
}

static int install_at(int fd, struct sock *k, struct psock **out)
{
    if (fd >= MAX_FDS)
        return -EMFILE;
    struct psock *ps = calloc(1, sizeof *ps);
    if (!ps)
        return -ENOMEM;
    ps->k = k;
    ps->fd = fd;
    ps->refs = 1;
    runtime_cond_init(&ps->changed);
    stack_sock_set_user(k, ps);
    __atomic_store_n(&table[fd], ps, __ATOMIC_RELEASE);
    *out = ps;
    return 0;
}

int psock_install(int fd, struct sock *k, bool replace, struct psock **out)
{
    if (replace) {
        /* the kernel socket becomes an eventfd with the same number and
         * the same close-on-exec flag */
        int cloexec = fcntl(fd, F_GETFD);
        int efd = eventfd(0, EFD_NONBLOCK);
        if (efd < 0)
            return -errno;
        int rc = dup3(efd, fd, cloexec > 0 && (cloexec & FD_CLOEXEC) ? O_CLOEXEC : 0);
        int e = errno;
        REAL(close)(efd);
        if (rc < 0)
            return -e;
    }
    return install_at(fd, k, out);
}

int psock_new_fd(struct sock *k, int flags, struct psock **out)
{
    int fd = eventfd(0, EFD_NONBLOCK | ((flags & O_CLOEXEC) ? EFD_CLOEXEC : 0));
    if (fd < 0)
        return -errno;
    int rc = install_at(fd, k, out);
    if (rc < 0)
        REAL(close)(fd);
    return rc < 0 ? rc : fd;
}

static void release_now(struct psock *ps)
{
    struct stack *s = runtime_stack(rt);
    stack_sock_set_user(ps->k, NULL);
    (ps->reset_on_close ? stack_abort : stack_close)(s, ps->k, runtime_now());
    pthread_cond_destroy(&ps->changed);
    free(ps);
}

void psock_release(struct psock *ps, bool reset)
{
    epoll_socket_closed(ps);
    ps->reset_on_close = reset;
    if (ps->busy) {
        ps->closing = true;
        ps->fd = -1;   /* the fd number is free again: no more signals */
        return;
    }
    release_now(ps);
}

void psock_add_fd(struct psock *ps, int fd)
{
    if (fd < 0 || fd >= MAX_FDS)
        return;
    ps->refs++;
    __atomic_store_n(&table[fd], ps, __ATOMIC_RELEASE);
}

bool psock_drop_fd(struct psock *ps, int fd)
{
    __atomic_store_n(&table[fd], NULL, __ATOMIC_RELEASE);
    if (ps->refs == 1)
        return true;
    ps->refs--;
    if (ps->fd == fd) {
        /* signal through one of the fds that remain (dups share the
         * eventfd) */
        for (int i = 0; i < MAX_FDS; i++)
            if (table[i] == ps) {
                ps->fd = i;
                break;
            }
    }
    return false;
}

void psock_drain(struct psock *ps)
{
    eventfd_t v;
    eventfd_read(ps->fd, &v);   /* nonblocking: one read resets it */
}

ssize_t psock_run(struct psock *ps, psock_op op, void *arg, bool nonblock,
                  uint64_t timeout_us)
{
    struct runtime *r = rt;
    uint64_t end = timeout_us ? runtime_now() + timeout_us : 0;
    runtime_lock(r);
    ps->busy++;
    ssize_t res;
    while ((res = op(runtime_stack(r), ps, arg)) == -EAGAIN && !nonblock) {
        if (!runtime_wait(r, &ps->changed, end) && end && runtime_now() >= end)
            break;
    }
    if (--ps->busy == 0 && ps->closing)
        release_now(ps);
    runtime_unlock(r);
    return res;
}

ssize_t errno_result(ssize_t r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}
