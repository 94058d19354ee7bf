/* Socket calls: which sockets the stack serves, and the calls that need
 * it. A socket starts as a kernel socket; bind or connect into the TUN
 * subnet puts a stack socket at the same fd number (swap.c). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd_bits.h"
#include "preload.h"
#include "stack.h"

EXPORT int socket(int domain, int type, int protocol)
{
    int fd = REAL(socket)(domain, type, protocol);
    if (fd >= 0 && domain == AF_INET && (type & 0xf) == SOCK_STREAM)
        inet_mark(fd);
    return fd;
}

static int kernel_int_opt(int fd, int level, int name)
{
    int v = 0;
    socklen_t l = sizeof v;
    REAL(getsockopt)(fd, level, name, &v, &l);
    return v;
}

/* An AF_INET stream socket of the kernel's, not bound yet: it may move. */
static bool movable(int fd)
{
    struct sockaddr_in local;
    socklen_t len = sizeof local;
    return kernel_int_opt(fd, SOL_SOCKET, SO_TYPE) == SOCK_STREAM &&
           kernel_int_opt(fd, SOL_SOCKET, SO_DOMAIN) == AF_INET &&
           REAL(getsockname)(fd, (struct sockaddr *)&local, &len) == 0 && local.sin_port == 0;
}

static void add_opt(struct ctl_req *req, int opt, int value)
{
    if (req->nopts < CTL_MAX_OPTS)
        req->opts[req->nopts++] = (struct ctl_opt){ opt, value };
}

/* The options a program set on the kernel socket, for the stack's; or
 * -errno if one is an option the stack refuses (`call` fails). */
static int carry_options(int fd, struct ctl_req *req, const char *call)
{
    int rc = refusal_check(fd, call);
    if (rc < 0)
        return rc;
    /* in this order: a new IP_TOS sets SO_PRIORITY, as on Linux */
    static const struct { int level, name, opt; } map[] = {
        { SOL_SOCKET, SO_REUSEADDR, STACK_OPT_REUSEADDR },
        { SOL_SOCKET, SO_REUSEPORT, STACK_OPT_REUSEPORT },
        { SOL_SOCKET, SO_KEEPALIVE, STACK_OPT_KEEPALIVE },
        { SOL_SOCKET, SO_RCVLOWAT, STACK_OPT_RCVLOWAT },
        { IPPROTO_TCP, TCP_NODELAY, STACK_OPT_NODELAY },
        { IPPROTO_TCP, TCP_KEEPIDLE, STACK_OPT_KEEPIDLE },
        { IPPROTO_TCP, TCP_KEEPINTVL, STACK_OPT_KEEPINTVL },
        { IPPROTO_TCP, TCP_KEEPCNT, STACK_OPT_KEEPCNT },
        { IPPROTO_TCP, TCP_CORK, STACK_OPT_CORK },
        { IPPROTO_TCP, TCP_USER_TIMEOUT, STACK_OPT_USER_TIMEOUT },
        { IPPROTO_IP, IP_TOS, STACK_OPT_TOS },
        { IPPROTO_IP, IP_TTL, STACK_OPT_TTL },
        { SOL_SOCKET, SO_PRIORITY, STACK_OPT_PRIORITY },
        { IPPROTO_TCP, TCP_DEFER_ACCEPT, STACK_OPT_DEFER_ACCEPT },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        add_opt(req, map[i].opt, kernel_int_opt(fd, map[i].level, map[i].name));
    struct linger lg = { 0 };
    socklen_t len = sizeof lg;
    REAL(getsockopt)(fd, SOL_SOCKET, SO_LINGER, &lg, &len);
    add_opt(req, CTL_OPT_LINGER, lg.l_onoff ? lg.l_linger : -1 - lg.l_linger);
    linger_hint(fd, lg.l_onoff ? lg.l_linger : 0);
    /* bound to a device: the stack's (another one is refused above) */
    char dev[IFNAMSIZ] = "";
    len = sizeof dev;
    REAL(getsockopt)(fd, SOL_SOCKET, SO_BINDTODEVICE, dev, &len);
    add_opt(req, STACK_OPT_BOUND_DEVICE, dev[0] != 0);
    preset_carry(fd, req);
    return 0;
}

static bool inet_addr_of(const struct sockaddr *sa, socklen_t len, uint32_t *addr, uint16_t *port)
{
    if (!sa || len < (socklen_t)sizeof(struct sockaddr_in) || sa->sa_family != AF_INET)
        return false;
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof sin);
    *addr = ntohl(sin.sin_addr.s_addr);
    *port = ntohs(sin.sin_port);
    return true;
}

static void fill_addr(struct sockaddr *sa, socklen_t *len, uint32_t addr, uint16_t port)
{
    if (!sa || !len)
        return;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port),
                               .sin_addr.s_addr = htonl(addr) };
    memcpy(sa, &sin, *len < sizeof sin ? *len : sizeof sin);
    *len = sizeof sin;
}

/* A request that answers with the program's end of a stack socket, which
 * then takes fd's place. */
static int call_and_swap(int fd, const char *dev, struct ctl_req *req, bool tracked)
{
    struct ctl_rep rep;
    int nfd;
    int rc = ctl_call(dev, req, req->id ? fd : -1, &rep, &nfd);
    if (rc < 0)
        return rc;
    if (nfd >= 0 && (rc = swap_in(fd, nfd, tracked)) < 0)
        return rc;
    return rep.result;
}

EXPORT int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
    const struct tuntcp_config *cfg = preload_config();
    uint32_t addr;
    uint16_t port;
    bool inet = inet_addr_of(sa, len, &addr, &port);
    if (inet && (preload_in_subnet(addr) || (addr == 0 && cfg->bind_any)) && movable(fd)) {
        struct ctl_req req = { .op = CTL_BIND, .addr = addr, .port = port };
        int rc = carry_options(fd, &req, "bind");
        return (int)errno_result(rc < 0 ? rc : call_and_swap(fd, cfg->dev, &req, true));
    }
    struct sockname n;
    if (stack_socket_of(fd, &n))   /* Linux: bound already */
        return (int)errno_result(sa && len >= sizeof(sa_family_t) && sa->sa_family != AF_INET
                                     ? -EAFNOSUPPORT : -EINVAL);
    return REAL(bind)(fd, sa, len);
}

/* Stack listeners this process knows to listen: accept blocks on them
 * without asking (Linux refuses accept at once on a socket that does
 * not listen). */
static struct fd_bits listening;

EXPORT int listen(int fd, int backlog)
{
    struct sockname n;
    if (!stack_socket_of(fd, &n))
        return REAL(listen)(fd, backlog);
    struct ctl_req req = { .value = backlog };
    struct ctl_rep rep;
    int rc = ctl_ask(&n, fd, CTL_LISTEN, &req, &rep);
    fd_bit_set(&listening, fd, rc == 0);
    return (int)errno_result(rc);
}

/* Linux: a blocking connect waits for the handshake, SO_SNDTIMEO at most
 * (then EINPROGRESS); a signal interrupts it (EINTR, the handshake going
 * on) unless its handler restarts calls. The wait is a read on a control
 * connection of its own, so the kernel gives it exactly those rules. */
static int connect_blocking(int fd, const char *dev, struct ctl_req *req)
{
    int c = ctl_open(dev);
    if (c < 0)
        return c;
    req->flags = CTL_WAIT;
    struct ctl_rep rep;
    int nfd, rc = ctl_exchange(c, dev, req, req->id ? fd : -1, &rep, &nfd);
    if (rc == 0 && nfd >= 0)
        rc = swap_in(fd, nfd, false);
    if (rc == 0 && rep.result == -EINPROGRESS) {
        struct timeval tv;
        socklen_t len = sizeof tv;
        if (REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, &len) == 0)
            REAL(setsockopt)(c, SOL_SOCKET, SO_RCVTIMEO, &tv, len);
        rc = ctl_recv(c, &rep, NULL);
        if (rc == -EAGAIN)
            rc = -EINPROGRESS;
    }
    REAL(close)(c);
    return rc < 0 ? rc : rep.result;
}

EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    uint32_t addr = 0;
    uint16_t port = 0;
    bool inet = inet_addr_of(sa, len, &addr, &port);
    struct sockname n;
    struct ctl_req req = { .op = CTL_CONNECT, .addr = addr, .port = port };
    const char *dev = preload_config()->dev;
    if (stack_socket_of(fd, &n)) {
        if (!inet)
            return (int)errno_result(-EAFNOSUPPORT);
        req.id = n.id;
        req.nonce = n.nonce;
        dev = n.dev;
    } else if (inet && preload_in_subnet(addr) && movable(fd)) {
        int rc = carry_options(fd, &req, "connect");
        if (rc < 0)
            return (int)errno_result(rc);
    } else {
        return REAL(connect)(fd, sa, len);
    }
    if (REAL(fcntl)(fd, F_GETFL) & O_NONBLOCK)
        return (int)errno_result(call_and_swap(fd, dev, &req, false));
    return (int)errno_result(connect_blocking(fd, dev, &req));
}

EXPORT int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    struct sockname n;
    if (!stack_socket_of(fd, &n))
        return REAL(accept4)(fd, sa, len, flags);
    if (n.kind != SOCKNAME_BOUND || (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)))
        return (int)errno_result(-EINVAL);
    struct ctl_accepted acc;
    struct iovec iov = { &acc, sizeof acc };
    union fdpass_cmsg u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
    int mflags = flags & SOCK_CLOEXEC ? MSG_CMSG_CLOEXEC : 0;
    ssize_t got = REAL(recvmsg)(fd, &m, mflags | MSG_DONTWAIT);
    if (got < 0 && errno == EAGAIN && !(REAL(fcntl)(fd, F_GETFL) & O_NONBLOCK)) {
        /* about to block: Linux refuses at once if it is not listening */
        struct ctl_req req = { 0 };
        struct ctl_rep rep;
        if (!fd_bit(&listening, fd)) {
            if (ctl_ask(&n, fd, CTL_STATUS, &req, &rep) >= 0 && !rep.status.listening)
                return (int)errno_result(-EINVAL);
            fd_bit_set(&listening, fd, true);
        }
        got = REAL(recvmsg)(fd, &m, mflags);
    }
    if (got < 0)
        return -1;
    int nfd = fdpass_received(&m);
    if (got != sizeof acc || nfd < 0)
        return (int)errno_result(got == 0 ? -EINVAL : -EMFILE);
    if (flags & SOCK_NONBLOCK)
        REAL(fcntl)(nfd, F_SETFL, O_NONBLOCK);
    fill_addr(sa, len, acc.raddr, acc.rport);
    conn_fd_mark(nfd, true);
    linger_hint(nfd, linger_of(fd));   /* Linux: the listener's SO_LINGER */
    return nfd;
}

EXPORT int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
    return accept4(fd, sa, len, 0);
}

EXPORT int shutdown(int fd, int how)
{
    struct sockname n;
    if (!stack_socket_of(fd, &n) || n.kind == SOCKNAME_CONN)
        return REAL(shutdown)(fd, how);   /* a connection's is the kernel's */
    struct ctl_req req = { .value = how };
    struct ctl_rep rep;
    fd_bit_set(&listening, fd, false);
    return (int)errno_result(ctl_ask(&n, fd, CTL_SHUTDOWN, &req, &rep));
}

/* SO_LINGER with a timeout: a blocking close returns once the peer has
 * acknowledged our data and FIN, or the time is up. */
static void linger_close(int fd, int seconds)
{
    struct sockname n;
    if (!stack_socket_of(fd, &n) || n.kind != SOCKNAME_CONN ||
        (REAL(fcntl)(fd, F_GETFL) & O_NONBLOCK))
        return;
    int c = ctl_open(n.dev);
    if (c < 0)
        return;
    struct ctl_req req = { .op = CTL_LINGER, .id = n.id, .nonce = n.nonce };
    struct ctl_rep rep;
    if (ctl_send(c, &req, fd) == 0 && ctl_recv(c, &rep, NULL) == 0 && rep.result == 1) {
        struct timeval tv = { .tv_sec = seconds };
        REAL(setsockopt)(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        REAL(close)(fd);
        ctl_recv(c, &rep, NULL);
        fd = -1;
    }
    REAL(close)(c);
    if (fd >= 0)
        REAL(close)(fd);
}

EXPORT int close(int fd)
{
    inet_forget(fd);
    conn_fd_mark(fd, false);
    fd_bit_set(&listening, fd, false);
    int linger = linger_take(fd);
    if (linger > 0) {
        linger_close(fd, linger);
        return 0;
    }
    return REAL(close)(fd);
}

EXPORT int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct sockname n;
    if (!stack_socket_of(fd, &n))
        return REAL(getsockname)(fd, sa, len);
    fill_addr(sa, len, n.laddr, n.lport);
    return 0;
}

/* Connected: its end is writable and not hung up; else the daemon says
 * (still connecting, or over: ENOTCONN as Linux). */
static bool connected(const struct sockname *n, int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLOUT };
    if (poll(&p, 1, 0) == 1 && p.revents == POLLOUT)
        return true;
    struct ctl_req req = { 0 };
    struct ctl_rep rep;
    return ctl_ask(n, fd, CTL_STATUS, &req, &rep) >= 0 && rep.status.state != TCP_SYN_SENT &&
           rep.status.state != TCP_CLOSED;
}

EXPORT int getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
    struct sockname n;
    if (!stack_socket_of(fd, &n))
        return REAL(getpeername)(fd, sa, len);
    if (n.kind != SOCKNAME_CONN || !connected(&n, fd))
        return (int)errno_result(-ENOTCONN);
    fill_addr(sa, len, n.raddr, n.rport);
    return 0;
}
