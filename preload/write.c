/* The write family on stack connections. The kernel serves the bytes; the
 * interposer corrects what a broken connection says. Linux reports a
 * connection's error (ECONNRESET, ECONNREFUSED, ETIMEDOUT) to the first
 * write after it, without SIGPIPE, and EPIPE with SIGPIPE only after that.
 * The program's end of a broken stack connection is hung up, so the
 * kernel would say EPIPE and raise SIGPIPE at once: on the connections
 * this process knows (made, accepted or inherited at exec here), writes
 * go out with MSG_NOSIGNAL, and an EPIPE asks the daemon for the error
 * first. A copy made with dup behaves as the kernel's unix socket does. */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "fd_bits.h"
#include "preload.h"

static struct fd_bits conns;

static bool known(int fd)
{
    return fd_bit(&conns, fd);
}

void conn_fd_mark(int fd, bool on)
{
    fd_bit_set(&conns, fd, on);
}

/* After a send with MSG_NOSIGNAL added; `flags` are the caller's. */
static ssize_t sent(int fd, ssize_t r, int flags)
{
    if (r >= 0 || errno != EPIPE)
        return r;
    struct sockname n;
    int err = stack_socket_of(fd, &n) ? stack_take_error(&n, fd) : 0;
    if (!err) {
        if (!(flags & MSG_NOSIGNAL))
            raise(SIGPIPE);
        err = EPIPE;
    }
    errno = err;
    return -1;
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    if (!known(fd))
        return REAL(send)(fd, buf, len, flags);
    return sent(fd, REAL(send)(fd, buf, len, flags | MSG_NOSIGNAL), flags);
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa,
                      socklen_t salen)
{
    if (!known(fd))
        return REAL(sendto)(fd, buf, len, flags, sa, salen);
    return sent(fd, REAL(sendto)(fd, buf, len, flags | MSG_NOSIGNAL, sa, salen), flags);
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    if (!known(fd))
        return REAL(sendmsg)(fd, msg, flags);
    return sent(fd, REAL(sendmsg)(fd, msg, flags | MSG_NOSIGNAL), flags);
}

/* write and writev: the fd number may have become a file since (closed
 * behind our back, by a raw syscall): then it is written as one. */
EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    if (known(fd)) {
        ssize_t r = REAL(send)(fd, buf, len, MSG_NOSIGNAL);
        if (!(r < 0 && errno == ENOTSOCK))
            return sent(fd, r, 0);
        conn_fd_mark(fd, false);
    }
    return REAL(write)(fd, buf, len);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    if (known(fd) && n >= 0) {
        struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
        ssize_t r = REAL(sendmsg)(fd, &m, MSG_NOSIGNAL);
        if (!(r < 0 && errno == ENOTSOCK))
            return sent(fd, r, 0);
        conn_fd_mark(fd, false);
    }
    return REAL(writev)(fd, iov, n);
}
