/* O_NONBLOCK on a stack socket: fcntl(F_GETFL/F_SETFL) and
 * ioctl(FIONBIO) record it for the socket; the eventfd behind the fd stays
 * nonblocking (the interposer reads it). Everything else is the kernel's. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
    if (ps && request == FIONBIO) {
        if (!arg) {
            errno = EFAULT;
            return -1;
        }
        ps->nonblock = *(int *)arg != 0;
        return 0;
    }
    return REAL(ioctl)(fd, request, arg);
}
