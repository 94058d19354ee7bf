/* fcntl and ioctl on stack sockets: O_NONBLOCK (F_GETFL/F_SETFL, FIONBIO)
 * is recorded for the socket, as the eventfd behind the fd stays
 * nonblocking (the interposer reads it); F_DUPFD keeps a stack socket;
 * FIONREAD/SIOCINQ and SIOCOUTQ come from the connection. Everything
 * else is the kernel's. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include "preload.h"

/* F_GETFL/F_SETFL answered for a stack socket, duplicates kept stack
 * sockets, the rest the kernel's (through `real`: fcntl or fcntl64). */
static int fcntl_common(int fd, int cmd, void *arg, int (*real)(int, int, ...))
{
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC)
        return preload_dupfd(fd, cmd, (int)(long)arg);
    struct psock *ps = psock_get(fd);
    if (ps && cmd == F_GETFL)
        return O_RDWR | (ps->nonblock ? O_NONBLOCK : 0);
    if (ps && cmd == F_SETFL) {
        ps->nonblock = (long)arg & O_NONBLOCK;
        return 0;
    }
    return real(fd, cmd, arg);
}

EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg, REAL(fcntl));
}

/* glibc's name for fcntl with 64-bit offsets */
int fcntl64(int fd, int cmd, ...);
EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    return fcntl_common(fd, cmd, arg, REAL(fcntl64));
}

EXPORT int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    struct psock *ps = psock_get(fd);
    if (!ps || (request != FIONBIO && request != FIONREAD && request != SIOCOUTQ))
        return REAL(ioctl)(fd, request, arg);
    if (!arg) {
        errno = EFAULT;
        return -1;
    }
    if (request == FIONBIO) {
        ps->nonblock = *(int *)arg != 0;
        return 0;
    }
    /* FIONREAD (SIOCINQ): bytes ready to read; SIOCOUTQ: bytes not yet
     * acknowledged. Linux: EINVAL on a listening socket. */
    struct runtime *r = preload_runtime();
    runtime_lock(r);
    struct stack *s = runtime_stack(r);
    const struct tcp_conn *c = stack_sock_conn(s, ps->k);
    bool listening = stack_sock_state(s, ps->k) == TCP_LISTEN;
    int v = !c ? 0 : request == FIONREAD ? (int)tcp_readable(c) : (int)c->sndbuf.len;
    runtime_unlock(r);
    if (listening) {
        errno = EINVAL;
        return -1;
    }
    *(int *)arg = v;
    return 0;
}
