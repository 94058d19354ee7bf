/* dup, dup2, dup3, F_DUPFD and close_range on stack sockets: a duplicate
 * refers to the same connection, which closes when its last fd does. An
 * fd that dup2 replaces is closed first, as the kernel does. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "preload.h"

/* After the kernel made newfd a duplicate of oldfd. */
static int register_dup(struct psock *ps, int newfd)
{
    if (ps && newfd >= 0) {
        struct runtime *r = preload_runtime();
        runtime_lock(r);
        psock_add_fd(ps, newfd);
        runtime_unlock(r);
    }
    return newfd;
}

EXPORT int dup(int oldfd)
{
    return register_dup(psock_get(oldfd), REAL(dup)(oldfd));
}

int preload_dupfd(int oldfd, int cmd, int minfd)
{
    return register_dup(psock_get(oldfd), REAL(fcntl)(oldfd, cmd, minfd));
}


EXPORT int dup3(int oldfd, int newfd, int flags)
{
    if (oldfd == newfd)
        return REAL(dup3)(oldfd, newfd, flags);   /* EINVAL, as the kernel */
    struct psock *ps = psock_get(oldfd);
    if (!ps && !psock_get(newfd))
        return REAL(dup3)(oldfd, newfd, flags);
    if (fcntl(oldfd, F_GETFD) < 0)
        return -1;   /* EBADF before anything is closed */
    if (psock_get(newfd) || preload_is_epoll(newfd))
        close(newfd);
    return register_dup(ps, REAL(dup3)(oldfd, newfd, flags));
}

EXPORT int dup2(int oldfd, int newfd)
{
    if (oldfd == newfd)
        return REAL(dup2)(oldfd, newfd);
    return dup3(oldfd, newfd, 0);
}

EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    /* the stack sockets and epoll instances in the range are closed our
     * way first; CLOSE_RANGE_CLOEXEC only marks, the kernel's job */
    if (!(flags & CLOSE_RANGE_CLOEXEC))
        for (unsigned fd = first; fd <= last && fd < PRELOAD_MAX_FDS; fd++)
            if (psock_get((int)fd) || preload_is_epoll((int)fd))
                close((int)fd);
    return REAL(close_range)(first, last, flags);
}
