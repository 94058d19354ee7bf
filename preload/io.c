/* Data calls on stack sockets: the read and write families, with
 * Linux's blocking, flags, timeouts and SIGPIPE. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "preload.h"

struct xfer {
    void *buf;
    size_t len;
    int flags;
    int lowat;      /* recv: the socket's SO_RCVLOWAT, read with the lock held */
};

static ssize_t recv_op(struct stack *s, struct psock *ps, void *arg)
{
    struct xfer *x = arg;
    stack_getopt(s, ps->k, STACK_OPT_RCVLOWAT, &x->lowat);
    return stack_recv(s, ps->k, x->buf, x->len,
                      (x->flags & MSG_PEEK) ? STACK_MSG_PEEK : 0, runtime_now());
}

static ssize_t send_op(struct stack *s, struct psock *ps, void *arg)
{
    struct xfer *x = arg;
    return stack_send(s, ps->k, x->buf, x->len, runtime_now());
}

static ssize_t psock_recv(struct psock *ps, void *buf, size_t len, int flags)
{
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;   /* urgent data is delivered in line */
    bool nonblock = ps->nonblock || (flags & MSG_DONTWAIT);
    /* A blocking read waits for min(SO_RCVLOWAT, len) bytes, MSG_WAITALL
     * for len; either stops at end of stream or an error (Linux's
     * sock_rcvlowat target). */
    bool waits = !nonblock && !(flags & MSG_PEEK);
    size_t done = 0, target = 1;
    do {
        struct xfer x = { (char *)buf + done, len - done, flags, 1 };
        ssize_t r = psock_run(ps, recv_op, &x, nonblock, ps->rcvtimeo_us);
        if (r <= 0)
            return done ? (ssize_t)done : r;
        done += (size_t)r;
        if (waits)
            target = (flags & MSG_WAITALL) || (size_t)x.lowat > len ? len : (size_t)x.lowat;
    } while (done < target);
    return (ssize_t)done;
}

/* Linux: a blocking send returns once all of it is queued; a nonblocking
 * one queues what fits. EPIPE raises SIGPIPE unless MSG_NOSIGNAL. */
static ssize_t psock_send(struct psock *ps, const void *buf, size_t len, int flags)
{
    if (flags & MSG_OOB)
        return -EOPNOTSUPP;
    bool nonblock = ps->nonblock || (flags & MSG_DONTWAIT);
    size_t done = 0;
    do {
        struct xfer x = { (char *)buf + done, len - done, flags, 0 };
        ssize_t r = psock_run(ps, send_op, &x, nonblock, ps->sndtimeo_us);
        if (r < 0) {
            if (done)
                return (ssize_t)done;
            if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
                raise(SIGPIPE);
            return r;
        }
        done += (size_t)r;
    } while (!nonblock && done < len);
    return (ssize_t)done;
}

/* Vectored calls: one iovec after another, until one is not filled. A
 * read takes only what is ready after its first piece, so it never blocks
 * once it has data. */
static ssize_t psock_iov(struct psock *ps, const struct iovec *iov, int n, int flags,
                         bool reading)
{
    ssize_t total = 0;
    for (int i = 0; i < n; i++) {
        if (!iov[i].iov_len)
            continue;
        ssize_t r = reading ? psock_recv(ps, iov[i].iov_base, iov[i].iov_len,
                                         total ? flags | MSG_DONTWAIT : flags)
                            : psock_send(ps, iov[i].iov_base, iov[i].iov_len, flags);
        if (r < 0)
            return total ? total : r;
        total += r;
        if ((size_t)r < iov[i].iov_len)
            break;
    }
    return total;
}

EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    struct psock *ps = psock_get(fd);
    return ps ? errno_result(psock_recv(ps, buf, len, 0)) : REAL(read)(fd, buf, len);
}

EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    struct psock *ps = psock_get(fd);
    return ps ? errno_result(psock_send(ps, buf, len, 0)) : REAL(write)(fd, buf, len);
}

EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    struct psock *ps = psock_get(fd);
    return ps ? errno_result(psock_recv(ps, buf, len, flags)) : REAL(recv)(fd, buf, len, flags);
}

EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    struct psock *ps = psock_get(fd);
    return ps ? errno_result(psock_send(ps, buf, len, flags)) : REAL(send)(fd, buf, len, flags);
}

EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa,
                        socklen_t *salen)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(recvfrom)(fd, buf, len, flags, sa, salen);
    if (salen)
        *salen = 0;   /* Linux: no source address on a stream socket */
    return errno_result(psock_recv(ps, buf, len, flags));
}

EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags,
                      const struct sockaddr *sa, socklen_t salen)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(sendto)(fd, buf, len, flags, sa, salen);
    return errno_result(psock_send(ps, buf, len, flags));  /* address ignored, as Linux */
}

EXPORT ssize_t readv(int fd, const struct iovec *iov, int n)
{
    struct psock *ps = psock_get(fd);
    return ps ? errno_result(psock_iov(ps, iov, n, 0, true)) : REAL(readv)(fd, iov, n);
}

EXPORT ssize_t writev(int fd, const struct iovec *iov, int n)
{
    struct psock *ps = psock_get(fd);
    return ps ? errno_result(psock_iov(ps, iov, n, 0, false)) : REAL(writev)(fd, iov, n);
}

EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(recvmsg)(fd, msg, flags);
    msg->msg_namelen = 0;
    msg->msg_controllen = 0;
    msg->msg_flags = 0;
    return errno_result(psock_iov(ps, msg->msg_iov, (int)msg->msg_iovlen, flags, true));
}

EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    struct psock *ps = psock_get(fd);
    if (!ps)
        return REAL(sendmsg)(fd, msg, flags);
    return errno_result(psock_iov(ps, msg->msg_iov, (int)msg->msg_iovlen, flags, false));
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

/* sendfile to a stack socket: the file's bytes read here and sent as a
 * write would be (Linux: at most 0x7ffff000 bytes, the offset advanced by
 * what was sent, a blocking socket sending it all). */
static ssize_t psock_sendfile(struct psock *ps, int in_fd, off64_t *offset, size_t count)
{
    if (count > 0x7ffff000)
        count = 0x7ffff000;
    char buf[65536];
    size_t done = 0;
    while (done < count) {
        size_t want = count - done < sizeof buf ? count - done : sizeof buf;
        ssize_t n = offset ? pread64(in_fd, buf, want, *offset + (off64_t)done)
                           : REAL(read)(in_fd, buf, want);
        if (n <= 0) {
            if (n < 0 && !done)
                return -1;
            break;
        }
        ssize_t w = psock_send(ps, buf, (size_t)n, 0);
        if (w > 0)
            done += (size_t)w;
        if (w < n) {
            /* a nonblocking socket took less: without an offset the
             * file position must not run ahead of what was sent */
            if (!offset && w < n)
                lseek64(in_fd, (off64_t)(w > 0 ? w : 0) - n, SEEK_CUR);
            if (w < 0 && !done)
                return errno_result(w);
            break;
        }
    }
    if (offset)
        *offset += (off64_t)done;
    return (ssize_t)done;
}

EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    struct psock *ps = psock_get(out_fd);
    if (!ps)
        return REAL(sendfile)(out_fd, in_fd, offset, count);
    off64_t off = offset ? *offset : 0;
    ssize_t n = psock_sendfile(ps, in_fd, offset ? &off : NULL, count);
    if (offset)
        *offset = (off_t)off;
    return n;
}

/* what programs built with 64-bit file offsets call */
EXPORT ssize_t sendfile64(int out_fd, int in_fd, off64_t *offset, size_t count)
{
    struct psock *ps = psock_get(out_fd);
    return ps ? psock_sendfile(ps, in_fd, offset, count)
              : REAL(sendfile64)(out_fd, in_fd, offset, count);
}
