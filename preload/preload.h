/* Shared by the interposer's files. Every stack socket is a real kernel
 * fd (an AF_UNIX socket whose other end the device's daemon holds), so
 * the kernel serves everything on it; the interposer only steps in where
 * TCP needs the stack: making sockets, addresses, options, errors. */
#ifndef TUNTCP_PRELOAD_H
#define TUNTCP_PRELOAD_H

#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "ctl.h"
#include "fdpass.h"
#include "sockname.h"

#define EXPORT __attribute__((visibility("default")))

/* fds at or above this are not tracked (still served, see swap.c) */
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

/* preload.c */
const struct tuntcp_config *preload_config(void);
bool preload_in_subnet(uint32_t addr);
/* A line on stderr if TUNTCP_LOG is at `level` or more. */
void preload_log(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Sets errno from a negative result and returns -1, else the result. */
ssize_t errno_result(ssize_t r);
/* Whether fd is a stack socket, and which: read from the name of the
 * daemon's end (one getpeername), so it holds in any process. */
bool stack_socket_of(int fd, struct sockname *n);
/* The error a stack connection ended with (positive errno, 0 if none),
 * taken as SO_ERROR takes it. */
int stack_take_error(const struct sockname *n, int fd);

/* ctl_client.c: requests to a device's daemon, started on first need
 * for our own device. Errors are -errno; a daemon that cannot start has
 * said why on stderr. */
/* One request and its reply on this thread's connection. `held`, if not
 * -1, is the stack socket the request is about, sent along as proof that
 * this process holds it; *fd gets the fd the reply carried, or -1. */
int ctl_call(const char *dev, struct ctl_req *req, int held, struct ctl_rep *rep, int *fd);
/* The same on control connection c. A process refused (EACCES) shows a
 * stack socket it was given, if any, and asks again. */
int ctl_exchange(int c, const char *dev, struct ctl_req *req, int held, struct ctl_rep *rep,
                 int *fd);
/* A connection of its own, for a reply that may take long (a blocking
 * connect or close): closed by the caller. */
int ctl_open(const char *dev);
int ctl_send(int c, struct ctl_req *req, int held);
/* -EINTR if a signal interrupted the wait (the kernel restarts it for
 * handlers with SA_RESTART), -EAGAIN when SO_RCVTIMEO passed. */
int ctl_recv(int c, struct ctl_rep *rep, int *fd);
/* A request about the stack socket n at fd that cannot fail: sent, no
 * reply waited for (the daemon serves a connection's requests in order). */
int ctl_post(const struct sockname *n, int fd, uint32_t op, struct ctl_req *req);
/* A request about the stack socket n at fd, to its daemon: the result. */
int ctl_ask(const struct sockname *n, int fd, uint32_t op, struct ctl_req *req,
            struct ctl_rep *rep);

/* sockopt.c: -errno if an option set on fd before `call` (bind or
 * connect) moved it to the stack is one the stack refuses; says so on
 * stderr. */
int refusal_check(int fd, const char *call);

/* write.c: the stack connections this process knows, whose writes
 * report the connection's error as Linux does (on = false: forget it). */
void conn_fd_mark(int fd, bool on);

/* swap.c: AF_INET stream sockets of the kernel's that may still move to
 * the stack, and the epoll registrations made on them. */
void inet_mark(int fd);
void inet_forget(int fd);
/* Puts newfd at fd's number (closing newfd): fd's O_NONBLOCK, FD_CLOEXEC,
 * timeouts, SO_RCVLOWAT and epoll registrations carry over. `tracked`: fd
 * may move again (a bound socket that may yet connect). */
int swap_in(int fd, int newfd, bool tracked);
/* SO_RCVBUF, SO_SNDBUF and TCP_MAXSEG (stack options) set on a kernel
 * socket that may move, and their addition to the request that moves it. */
void preset_record(int fd, int stack_opt, int value);
void preset_carry(int fd, struct ctl_req *req);
/* The first option set on such a socket that the stack refuses (err, a
 * positive errno; 0 clears it if it was this option), and which it was:
 * err or 0. */
void refusal_record(int fd, int level, int name, int err);
int refusal_of(int fd, int *level, int *name);
/* SO_LINGER with a timeout, as this process set it: close waits. */
void linger_hint(int fd, int seconds);
int linger_of(int fd);
int linger_take(int fd);

#endif
