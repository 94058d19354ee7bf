/* The read family, served by the kernel, with two corrections where a
 * stack socket differs from a TCP socket:
 * - a connection that ended by a reset or a timeout reaches the program
 *   as end of stream with its end hung up (the daemon closed its own);
 *   Linux reports the error first, so the daemon is asked for it then.
 *   A connect that failed reaches it as the kernel's ECONNRESET, which
 *   becomes the daemon's error (ECONNREFUSED, ETIMEDOUT);
 * - an AF_UNIX socket names its sender; a TCP socket names nobody. */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload.h"

/* After a read: at end of stream or the kernel's ECONNRESET, the error
 * the connection ended with, if any. */
static ssize_t end_of_stream(int fd, ssize_t r, size_t len)
{
    if ((r != 0 || len == 0) && !(r < 0 && errno == ECONNRESET))
        return r;
    int e = errno;
    struct pollfd p = { .fd = fd };
    struct sockname n;
    if (poll(&p, 1, 0) != 1 || !(p.revents & POLLHUP) || !stack_socket_of(fd, &n) ||
        n.kind != SOCKNAME_CONN) {
        errno = e;
        return r;
    }
    int err = stack_take_error(&n, fd);
    if (!err) {
        errno = e;
        return r;
    }
    errno = err;
    return -1;
}

static void hide_sender(struct sockaddr *sa, socklen_t *len)
{
    struct sockname n;
    if (sa && len && *len >= sizeof(sa_family_t) && sa->sa_family == AF_UNIX &&
        sockname_parse((struct sockaddr_un *)sa, *len, &n))
        *len = 0;
}

static size_t iov_len(const struct iovec *iov, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += iov[i].iov_len;
    return total;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    return end_of_stream(fd, REAL(read)(fd, buf, len), len);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    return end_of_stream(fd, REAL(recv)(fd, buf, len, flags), len);
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
    return end_of_stream(fd, REAL(readv)(fd, iov, n), n > 0 ? iov_len(iov, (size_t)n) : 0);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
                        socklen_t *salen)
{
    ssize_t r = REAL(recvfrom)(fd, buf, len, flags, sa, salen);
    if (r >= 0)
        hide_sender(sa, salen);
    return end_of_stream(fd, r, len);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ssize_t r = REAL(recvmsg)(fd, msg, flags);
    if (r >= 0)
        hide_sender(msg->msg_name, &msg->msg_namelen);
    return end_of_stream(fd, r, iov_len(msg->msg_iov, msg->msg_iovlen));
}

/* glibc's _FORTIFY_SOURCE entry points: the size check, then the call. */
extern void __chk_fail(void) __attribute__((noreturn));
ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                       struct sockaddr *sa, socklen_t *salen);

EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    if (len > buflen)
        __chk_fail();
    return read(fd, buf, len);
}

EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    if (len > buflen)
        __chk_fail();
    return recv(fd, buf, len, flags);
}

EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                              struct sockaddr *sa, socklen_t *salen)
{
    if (len > buflen)
        __chk_fail();
    return recvfrom(fd, buf, len, flags, sa, salen);
}
