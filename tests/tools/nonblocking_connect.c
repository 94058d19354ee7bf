/* Nonblocking connect, waited for with poll, select, epoll or io_uring
 * (IORING_OP_POLL_ADD through raw syscalls):
 *   nonblocking_connect poll|select|epoll|io_uring HOLE PEER CLOSED_PORT OPEN_PORT
 * - to HOLE (an address nothing answers): EINPROGRESS, and the socket is
 *   not ready for 300 ms; SO_ERROR 0, getpeername ENOTCONN meanwhile;
 * - to PEER:CLOSED_PORT (nothing listens): writable once the reset came
 *   (Linux also reports the error and the hang-up then), SO_ERROR
 *   ECONNREFUSED once, then 0;
 * - to PEER:OPEN_PORT (the program's own kernel listener, made with raw
 *   syscalls no interposer sees): writable, SO_ERROR 0, connect 0 once
 *   (Linux reports the completed connection to the first call), EISCONN
 *   after, getpeername the peer.
 * The waiter asks for IN, OUT and RDHUP; what it reports is printed, one
 * line per step, the same lines on kernel TCP. Exits 1 on a setup failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/io_uring.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tool.h"

#define WANTED (POLLIN | POLLOUT | POLLRDHUP)

static const char *waiter;

static const char *err_name(int e)
{
    return e ? strerrorname_np(e) : "0";
}

/* poll bits by name; "nothing" when none */
static const char *bits(unsigned ev)
{
    static char buf[64];
    static const struct { unsigned bit; const char *name; } names[] = {
        { POLLIN, "IN" }, { POLLOUT, "OUT" }, { POLLERR, "ERR" }, { POLLHUP, "HUP" },
        { POLLRDHUP, "RDHUP" }, { POLLPRI, "PRI" },
    };
    buf[0] = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (ev & names[i].bit)
            snprintf(buf + strlen(buf), sizeof buf - strlen(buf), "%s%s", buf[0] ? " " : "",
                     names[i].name);
    return buf[0] ? buf : "nothing";
}

/* ---- the waiters: what fd is ready for, within ms (0: nothing) ---- */

static unsigned wait_poll(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = WANTED };
    return poll(&p, 1, ms) == 1 ? p.revents : 0;
}

/* select's sets, as poll bits: read as IN, write as OUT, except as PRI */
static unsigned wait_select(int fd, int ms)
{
    fd_set r, w, x;
    FD_ZERO(&r);
    FD_ZERO(&w);
    FD_ZERO(&x);
    FD_SET(fd, &r);
    FD_SET(fd, &w);
    FD_SET(fd, &x);
    struct timeval tv = { ms / 1000, ms % 1000 * 1000 };
    if (select(fd + 1, &r, &w, &x, &tv) <= 0)
        return 0;
    return (FD_ISSET(fd, &r) ? POLLIN : 0) | (FD_ISSET(fd, &w) ? POLLOUT : 0) |
           (FD_ISSET(fd, &x) ? POLLPRI : 0);
}

static unsigned wait_epoll(int fd, int ms)
{
    int ep = epoll_create1(0);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP }, got;
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll");
    int n = epoll_wait(ep, &got, 1, ms);
    close(ep);
    return n == 1 ? got.events : 0;
}

/* One IORING_OP_POLL_ADD on a ring of its own, waited for with a timeout
 * (IORING_ENTER_EXT_ARG); the ring's close cancels it if it is pending. */
static bool uring_missing;

static unsigned wait_io_uring(int fd, int ms)
{
    struct io_uring_params p = { 0 };
    int ring = (int)syscall(__NR_io_uring_setup, 4, &p);
    if (ring < 0) {
        uring_missing = true;   /* disabled (kernel.io_uring_disabled) or absent */
        return 0;
    }
    size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(__u32);
    size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
    size_t sqe_len = p.sq_entries * sizeof(struct io_uring_sqe);
    char *sq = mmap(NULL, sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
                    IORING_OFF_SQ_RING);
    char *cq = mmap(NULL, cq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring,
                    IORING_OFF_CQ_RING);
    struct io_uring_sqe *sqes = mmap(NULL, sqe_len, PROT_READ | PROT_WRITE,
                                     MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
    if (sq == MAP_FAILED || cq == MAP_FAILED || sqes == MAP_FAILED)
        die("io_uring mmap");
    unsigned tail = *(unsigned *)(sq + p.sq_off.tail);
    unsigned idx = tail & *(unsigned *)(sq + p.sq_off.ring_mask);
    memset(&sqes[idx], 0, sizeof sqes[idx]);
    sqes[idx].opcode = IORING_OP_POLL_ADD;
    sqes[idx].fd = fd;
    sqes[idx].poll32_events = WANTED;
    sqes[idx].user_data = 1;
    ((__u32 *)(sq + p.sq_off.array))[idx] = idx;
    __atomic_store_n((unsigned *)(sq + p.sq_off.tail), tail + 1, __ATOMIC_RELEASE);
    struct __kernel_timespec ts = { ms / 1000, ms % 1000 * 1000000L };
    struct io_uring_getevents_arg arg = { .ts = (__u64)(uintptr_t)&ts };
    long rc = syscall(__NR_io_uring_enter, ring, 1, 1,
                      IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof arg);
    if (rc < 0 && errno != ETIME && errno != EINTR)
        die("io_uring_enter");
    unsigned head = __atomic_load_n((unsigned *)(cq + p.cq_off.head), __ATOMIC_ACQUIRE);
    unsigned ctail = __atomic_load_n((unsigned *)(cq + p.cq_off.tail), __ATOMIC_ACQUIRE);
    unsigned ev = 0;
    if (head != ctail) {
        struct io_uring_cqe *cqe = (struct io_uring_cqe *)(cq + p.cq_off.cqes) +
                                   (head & *(unsigned *)(cq + p.cq_off.ring_mask));
        ev = cqe->res > 0 ? (unsigned)cqe->res : 0;
    }
    munmap(sq, sq_len);
    munmap(cq, cq_len);
    munmap(sqes, sqe_len);
    close(ring);
    return ev;
}

static unsigned wait_ready(int fd, int ms)
{
    if (!strcmp(waiter, "poll"))
        return wait_poll(fd, ms);
    if (!strcmp(waiter, "select"))
        return wait_select(fd, ms);
    if (!strcmp(waiter, "epoll"))
        return wait_epoll(fd, ms);
    return wait_io_uring(fd, ms);
}

/* ---- the connections ---- */

static int start(const char *what, const struct sockaddr_in *to)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s < 0)
        die("socket");
    int rc = connect(s, (const struct sockaddr *)to, sizeof *to);
    printf("%s: connect: %s\n", what, rc == 0 ? "0" : err_name(errno));
    return s;
}

static int so_error(int s)
{
    int e = -1;
    socklen_t len = sizeof e;
    return getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &len) < 0 ? errno : e;
}

static const char *peer_of(int s)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    if (getpeername(s, (struct sockaddr *)&sa, &len) < 0)
        return err_name(errno);
    return inet_ntoa(sa.sin_addr);
}

static void again(const char *what, int s, const struct sockaddr_in *to)
{
    int rc = connect(s, (const struct sockaddr *)to, sizeof *to);
    printf("%s: connect again: %s\n", what, rc == 0 ? "0" : err_name(errno));
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    signal(SIGPIPE, SIG_IGN);
    if (argc != 6) {
        fprintf(stderr, "usage: %s poll|select|epoll|io_uring HOLE PEER CLOSED_PORT OPEN_PORT\n",
                argv[0]);
        return 2;
    }
    waiter = argv[1];
    struct sockaddr_in hole = address(argv[2], atoi(argv[5]));
    struct sockaddr_in closed = address(argv[3], atoi(argv[4]));
    struct sockaddr_in open = address(argv[3], atoi(argv[5]));

    int one = 1, l = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
    if (l < 0 || syscall(SYS_setsockopt, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        syscall(SYS_bind, l, &open, sizeof open) < 0 || syscall(SYS_listen, l, 8) < 0)
        die("kernel listener");

    int s = start("black hole", &hole);
    unsigned ev = wait_ready(s, 300);
    if (uring_missing) {
        printf("io_uring: not available here\n");
        return 0;
    }
    printf("black hole: ready within 300 ms: %s\n", bits(ev));
    printf("black hole: SO_ERROR: %s\n", err_name(so_error(s)));
    printf("black hole: getpeername: %s\n", peer_of(s));
    again("black hole", s, &hole);
    close(s);

    s = start("closed port", &closed);
    ev = wait_ready(s, 10000);
    printf("closed port: writable: %s\n", ev & POLLOUT ? "yes" : "no");
    printf("closed port: ready: %s\n", bits(ev));
    printf("closed port: SO_ERROR: %s\n", err_name(so_error(s)));
    printf("closed port: SO_ERROR after: %s\n", err_name(so_error(s)));
    close(s);

    s = start("listening port", &open);
    printf("listening port: ready: %s\n", bits(wait_ready(s, 10000)));
    printf("listening port: SO_ERROR: %s\n", err_name(so_error(s)));
    again("listening port", s, &open);
    again("listening port", s, &open);
    printf("listening port: getpeername: %s\n", peer_of(s));
    close(s);
    return 0;
}
