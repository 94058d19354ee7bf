/* Shared by the interposer's files: the real libc functions, the table
 * of stack sockets by fd, and waiting for readiness. */
#ifndef TUNTCP_PRELOAD_H
#define TUNTCP_PRELOAD_H

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime.h"

#define EXPORT __attribute__((visibility("default")))

/* fds at or above this are never stack sockets or tracked epolls */
#define PRELOAD_MAX_FDS 65536

/* The next definition of a libc function (the real one), resolved on first
 * use: calls may come before any constructor of ours has run. */
#define REAL(fn)                                                           \
    ({                                                                     \
        static __typeof__(&fn) real_;                                      \
        if (!real_)                                                        \
            real_ = (__typeof__(&fn))dlsym(RTLD_NEXT, #fn);                \
        real_;                                                             \
    })

/* A stack socket behind an fd. The fd itself is an eventfd that the stack
 * signals when the socket's readiness changes, so the fd number is a real
 * kernel fd (no collisions; the kernel can wait on it). */
struct psock {
    struct sock *k;
    pthread_cond_t changed;     /* broadcast when readiness changes */
    int fd;                     /* one of its fds, to signal the eventfd */
    unsigned refs;              /* fds referring to it (dup) */
    bool nonblock;
    uint64_t rcvtimeo_us, sndtimeo_us;  /* 0 = wait forever */
    bool linger_on;
    int linger_s;
    struct ep_item *ep_items;   /* the epoll sets it is in (epoll.c) */
    unsigned busy;              /* calls inside psock_run */
    bool closing, reset_on_close;  /* closed while busy: released after */
};

/* SO_LINGER with a zero timeout: closing resets the connection. */
static inline bool psock_resets_on_close(const struct psock *ps)
{
    return ps->linger_on && ps->linger_s <= 0;
}

/* The process's runtime, started on first need; NULL with errno set (and
 * the reason printed once on stderr) if it cannot start. */
struct runtime *preload_runtime(void);
/* The stack socket behind fd, or NULL for a kernel fd. */
struct psock *psock_get(int fd);
/* Puts a new stack socket behind fd (replacing what fd was with an
 * eventfd at the same number when replace is true). -errno or 0. */
int psock_install(int fd, struct sock *k, bool replace, struct psock **out);
/* A new fd for an accepted socket; -errno. */
int psock_new_fd(struct sock *k, int flags, struct psock **out);
/* Resets the fd's readiness signal, before looking at the socket. */
void psock_drain(struct psock *ps);
/* The socket's last fd is closed (runtime lock held): the stack socket is
 * closed (reset if `reset`) and ps freed, or, while another thread is
 * inside a call on it, once that call returns (the kernel too keeps a
 * file open until the calls on it are done). */
void psock_release(struct psock *ps, bool reset);
/* fd now refers to ps too (dup): runtime lock held. */
void psock_add_fd(struct psock *ps, int fd);
/* fd no longer refers to ps; true if it was the last (runtime lock held). */
bool psock_drop_fd(struct psock *ps, int fd);

/* Runs op under the runtime lock until it stops returning -EAGAIN, waiting
 * for a readiness change in between (unless nonblocking): the result of
 * op, or -EAGAIN when the timeout passed. Threads blocked on one socket
 * each wake on every change, so none can take another's wakeup. */
typedef ssize_t (*psock_op)(struct stack *s, struct psock *ps, void *arg);
ssize_t psock_run(struct psock *ps, psock_op op, void *arg, bool nonblock,
                  uint64_t timeout_us);
/* Sets errno from a negative result and returns -1, else the result. */
ssize_t errno_result(ssize_t r);

/* A line on stderr if TUNTCP_LOG is at `level` or more. */
void preload_log(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* epoll.c, with the runtime lock held: a socket's readiness changed; a
 * socket is closed (it leaves every epoll set). Without the lock: an fd
 * that may be an epoll instance is closed. */
void epoll_socket_changed(struct stack *s, struct psock *ps);
void epoll_socket_closed(struct psock *ps);
void epoll_instance_closed(int epfd);
/* In a forked child: the parent's epoll bookkeeping is not the child's. */
void epoll_forget_after_fork(void);
/* fd is an epoll instance that holds stack sockets. */
bool preload_is_epoll(int fd);
/* F_DUPFD / F_DUPFD_CLOEXEC, keeping a stack socket's new fd (dup.c). */
int preload_dupfd(int oldfd, int cmd, int minfd);

/* The stack's address configuration (host order). */
uint32_t preload_stack_addr(void);
bool preload_in_subnet(uint32_t addr);
bool preload_bind_any(void);

#endif
