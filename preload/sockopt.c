/* getsockopt/setsockopt and the socket ioctls on stack sockets: the TCP
 * options reach the connection in the daemon, with Linux's values and
 * errors (an option the stack lacks is ENOPROTOOPT, never a silent
 * success); timeouts and the receive low-water mark are also the kernel's
 * to honour on the fd itself, which is where blocking happens. */
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "preload.h"
#include "stack.h"

/* Linux keeps twice the value asked for SO_RCVBUF/SO_SNDBUF, for its
 * bookkeeping; the stack sizes its buffers with the value asked. */
#define BUF_FACTOR 2

static int put_opt(void *val, socklen_t *len, const void *src, socklen_t size)
{
    if (!val || !len)
        return -EFAULT;
    socklen_t n = *len < size ? *len : size;
    memcpy(val, src, n);
    *len = n;
    return 0;
}

/* The stack option behind a (level, name), or -1. */
static int stack_option(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return STACK_OPT_REUSEADDR;
        case SO_REUSEPORT: return STACK_OPT_REUSEPORT;
        case SO_KEEPALIVE: return STACK_OPT_KEEPALIVE;
        case SO_SNDBUF: return STACK_OPT_SNDBUF;
        case SO_RCVBUF: return STACK_OPT_RCVBUF;
        case SO_RCVLOWAT: return STACK_OPT_RCVLOWAT;
        case SO_LINGER: return CTL_OPT_LINGER;
        case SO_BINDTODEVICE: return STACK_OPT_BOUND_DEVICE;
        case SO_PRIORITY: return STACK_OPT_PRIORITY;
        }
    } else if (level == IPPROTO_IP) {
        switch (name) {
        case IP_TOS: return STACK_OPT_TOS;
        case IP_TTL: return STACK_OPT_TTL;
        }
    } else if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return STACK_OPT_NODELAY;
        case TCP_MAXSEG: return STACK_OPT_MAXSEG;
        case TCP_CORK: return STACK_OPT_CORK;
        case TCP_USER_TIMEOUT: return STACK_OPT_USER_TIMEOUT;
        case TCP_QUICKACK: return STACK_OPT_QUICKACK;
        case TCP_KEEPIDLE: return STACK_OPT_KEEPIDLE;
        case TCP_KEEPINTVL: return STACK_OPT_KEEPINTVL;
        case TCP_KEEPCNT: return STACK_OPT_KEEPCNT;
        case TCP_DEFER_ACCEPT: return STACK_OPT_DEFER_ACCEPT;
        case TCP_CONGESTION: return STACK_OPT_CONGESTION;
        }
    }
    return -1;
}

static bool is_timeout(int level, int name)
{
    return level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO);
}

/* TCP_CONGESTION: an algorithm by Linux's name ("cubic", "reno"), which
 * travels to the stack as its number (enum tcp_cc_algorithm). */
#define CA_NAME_MAX 16   /* Linux: TCP_CA_NAME_MAX */

static int congestion_by_name(const void *val, socklen_t len, int *algorithm)
{
    char name[CA_NAME_MAX] = "";
    if (len > 0 && !val)
        return -EFAULT;
    memcpy(name, val, len < sizeof name - 1 ? len : sizeof name - 1);
    *algorithm = tcp_cc_algorithm_by_name(name);
    /* Linux (tcp_set_congestion_control): ENOENT for an algorithm it lacks */
    return *algorithm ? 0 : -ENOENT;
}

/* SO_BINDTODEVICE: a device name, "" unbinds. The stack has one device:
 * another name is one it has not (Linux: ENODEV for an unknown device).
 * *bound: whether it binds. */
static int bound_device(const char *ours, const void *val, socklen_t len, int *bound)
{
    char dev[IFNAMSIZ] = "";
    if (len > 0 && !val)
        return -EFAULT;
    memcpy(dev, val, len < sizeof dev - 1 ? len : sizeof dev - 1);
    if (dev[0] && strcmp(dev, ours))
        return -ENODEV;
    *bound = dev[0] != 0;
    return 0;
}

static int set_opt(const struct sockname *n, int fd, int level, int name, const void *val,
                   socklen_t len)
{
    int opt = stack_option(level, name), v;
    if (opt < 0)
        return -ENOPROTOOPT;
    if (opt == CTL_OPT_LINGER) {
        struct linger lg;
        if (!val || len < (socklen_t)sizeof lg)
            return -EINVAL;
        memcpy(&lg, val, sizeof lg);
        v = lg.l_onoff ? lg.l_linger : -1;   /* off: the daemon keeps the timeout */
        linger_hint(fd, lg.l_onoff ? lg.l_linger : 0);
    } else if (opt == STACK_OPT_BOUND_DEVICE) {
        int rc = bound_device(n->dev, val, len, &v);
        if (rc < 0)
            return rc;
    } else if (opt == STACK_OPT_CONGESTION) {
        int rc = congestion_by_name(val, len, &v);
        if (rc < 0)
            return rc;
    } else {
        if (!val || len < (socklen_t)sizeof(int))
            return -EINVAL;
        memcpy(&v, val, sizeof v);
    }
    /* SO_RCVLOWAT is the kernel's to honour on the fd too. SO_PRIORITY
     * outside 0..6 needs CAP_NET_ADMIN (or CAP_NET_RAW): the kernel
     * checks the caller, on the fd itself, as for a socket of its own. */
    if ((opt == STACK_OPT_RCVLOWAT || opt == STACK_OPT_PRIORITY) &&
        REAL(setsockopt)(fd, level, name, val, len) < 0)
        return -errno;
    struct ctl_req req = { .nopts = 1, .opts[0] = { opt, v } };
    struct ctl_rep rep;
    /* a switch takes any value: servers set these on every connection */
    if (opt == STACK_OPT_NODELAY || opt == STACK_OPT_KEEPALIVE || opt == STACK_OPT_REUSEADDR ||
        opt == STACK_OPT_CORK || opt == STACK_OPT_QUICKACK)
        return ctl_post(n, fd, CTL_SETOPT, &req);
    return ctl_ask(n, fd, CTL_SETOPT, &req, &rep);
}

/* An option the kernel took on fd, a socket that may yet move to the
 * stack: what the socket cannot tell at the move is noted (swap.c); the
 * rest is read back from it then (sockets.c). An option the stack would
 * refuse after the move makes the move fail. */
static void note_before_move(int fd, int level, int name, const void *val, socklen_t len)
{
    int opt = stack_option(level, name), v;
    if (is_timeout(level, name)) {
        return;   /* the kernel's on either side */
    } else if (opt < 0) {
        refusal_record(fd, level, name, ENOPROTOOPT);
    } else if (opt == CTL_OPT_LINGER) {
        if (len >= (socklen_t)sizeof(struct linger))
            linger_hint(fd, ((const struct linger *)val)->l_onoff ? ((const struct linger *)val)->l_linger : 0);
    } else if (opt == STACK_OPT_BOUND_DEVICE) {
        refusal_record(fd, level, name, -bound_device(preload_config()->dev, val, len, &v));
    } else if (opt == STACK_OPT_CONGESTION) {
        int rc = congestion_by_name(val, len, &v);
        if (rc < 0)
            refusal_record(fd, level, name, -rc);
        else
            preset_record(fd, opt, v);
    } else if (len >= (socklen_t)sizeof(int)) {
        preset_record(fd, opt, *(const int *)val);
    }
}

EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
    struct sockname n;
    if (is_timeout(level, name) || !stack_socket_of(fd, &n)) {
        int rc = REAL(setsockopt)(fd, level, name, val, len);
        if (rc == 0)
            note_before_move(fd, level, name, val, len);
        return rc;
    }
    return (int)errno_result(set_opt(&n, fd, level, name, val, len));
}

/* The names of options a program may set before bind or connect, for
 * the line that says why the move failed. */
static const char *option_name(int level, int name)
{
#define OPT(l, o) { l, o, #o }
    static const struct { int level, name; const char *text; } names[] = {
        OPT(SOL_SOCKET, SO_REUSEPORT), OPT(SOL_SOCKET, SO_OOBINLINE),
        OPT(SOL_SOCKET, SO_BINDTODEVICE), OPT(SOL_SOCKET, SO_MARK),
        OPT(SOL_SOCKET, SO_TIMESTAMP), OPT(SOL_SOCKET, SO_TIMESTAMPNS),
        OPT(SOL_SOCKET, SO_TIMESTAMPING), OPT(SOL_SOCKET, SO_BUSY_POLL),
        OPT(SOL_SOCKET, SO_ZEROCOPY), OPT(SOL_SOCKET, SO_DONTROUTE),
        OPT(SOL_SOCKET, SO_INCOMING_CPU), OPT(SOL_SOCKET, SO_MAX_PACING_RATE),
        OPT(SOL_SOCKET, SO_ATTACH_FILTER), OPT(SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF),
        OPT(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT), OPT(IPPROTO_IP, IP_FREEBIND),
        OPT(IPPROTO_IP, IP_TRANSPARENT), OPT(IPPROTO_IP, IP_MTU_DISCOVER),
        OPT(IPPROTO_IP, IP_RECVERR), OPT(IPPROTO_IP, IP_OPTIONS),
        OPT(IPPROTO_TCP, TCP_CONGESTION), OPT(IPPROTO_TCP, TCP_FASTOPEN),
        OPT(IPPROTO_TCP, TCP_FASTOPEN_CONNECT), OPT(IPPROTO_TCP, TCP_SYNCNT),
        OPT(IPPROTO_TCP, TCP_WINDOW_CLAMP), OPT(IPPROTO_TCP, TCP_LINGER2),
        OPT(IPPROTO_TCP, TCP_NOTSENT_LOWAT), OPT(IPPROTO_TCP, TCP_MD5SIG),
        OPT(IPPROTO_TCP, TCP_THIN_LINEAR_TIMEOUTS), OPT(IPPROTO_TCP, TCP_SAVE_SYN),
        OPT(IPPROTO_TCP, TCP_TX_DELAY), OPT(IPPROTO_TCP, TCP_ULP),
    };
#undef OPT
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].level == level && names[i].name == name)
            return names[i].text;
    static __thread char other[48];
    snprintf(other, sizeof other, "option %d of level %d", name, level);
    return other;
}

int refusal_check(int fd, const char *call)
{
    int level, name, err = refusal_of(fd, &level, &name);
    if (err)
        fprintf(stderr, "tuntcp: fd %d: %s fails: %s, set before it, is one the stack "
                "refuses (%s)\n", fd, call, option_name(level, name), strerror(err));
    return -err;
}

static int status(const struct sockname *n, int fd, struct ctl_status *st)
{
    struct ctl_req req = { 0 };
    struct ctl_rep rep;
    int rc = ctl_ask(n, fd, CTL_STATUS, &req, &rep);
    *st = rep.status;
    return rc;
}

static int get_opt(const struct sockname *n, int fd, int level, int name, void *val, socklen_t *len)
{
    struct ctl_status st;
    int v = 0, rc;
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_TYPE: v = SOCK_STREAM; return put_opt(val, len, &v, sizeof v);
        case SO_DOMAIN: v = AF_INET; return put_opt(val, len, &v, sizeof v);
        case SO_PROTOCOL: v = IPPROTO_TCP; return put_opt(val, len, &v, sizeof v);
        case SO_ERROR:
            v = stack_take_error(n, fd);
            return put_opt(val, len, &v, sizeof v);
        case SO_ACCEPTCONN:
            if ((rc = status(n, fd, &st)) < 0)
                return rc;
            return put_opt(val, len, &st.listening, sizeof st.listening);
        }
    } else if (level == IPPROTO_TCP && (name == TCP_INFO || name == TCP_MAXSEG)) {
        if ((rc = status(n, fd, &st)) < 0)
            return rc;
        return name == TCP_INFO ? put_opt(val, len, &st.info, sizeof st.info)
                                : put_opt(val, len, &st.maxseg, sizeof st.maxseg);
    }
    int opt = stack_option(level, name);
    if (opt < 0)
        return -ENOPROTOOPT;
    struct ctl_req req = { .nopts = 1, .opts[0] = { opt, 0 } };
    struct ctl_rep rep;
    if ((rc = ctl_ask(n, fd, CTL_GETOPT, &req, &rep)) < 0)
        return rc;
    v = rep.value;
    if (opt == CTL_OPT_LINGER) {
        struct linger lg = { .l_onoff = v >= 0, .l_linger = v >= 0 ? v : -1 - v };
        return put_opt(val, len, &lg, sizeof lg);
    }
    if (opt == STACK_OPT_BOUND_DEVICE) {   /* the name, "" when unbound */
        const char *dev = v ? n->dev : "";
        return put_opt(val, len, dev, (socklen_t)strlen(dev) + (v ? 1 : 0));
    }
    if (opt == STACK_OPT_CONGESTION) {   /* Linux: the name's whole field */
        char ca[CA_NAME_MAX] = "";
        snprintf(ca, sizeof ca, "%s", tcp_cc_algorithm_name(v) ?: "");
        return put_opt(val, len, ca, sizeof ca);
    }
    if (opt == STACK_OPT_SNDBUF || opt == STACK_OPT_RCVBUF)
        v *= BUF_FACTOR;
    return put_opt(val, len, &v, sizeof v);
}

EXPORT int getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
    struct sockname n;
    if (is_timeout(level, name) || !stack_socket_of(fd, &n))
        return REAL(getsockopt)(fd, level, name, val, len);
    return (int)errno_result(get_opt(&n, fd, level, name, val, len));
}

/* FIONREAD (SIOCINQ) on a connection is the kernel's: what is readable on
 * the fd. SIOCOUTQ counts the bytes not yet acknowledged. Linux: both are
 * EINVAL on a listening socket, 0 on one never connected. */
EXPORT int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    struct sockname n;
    if ((request != FIONREAD && request != SIOCOUTQ) || !stack_socket_of(fd, &n) ||
        (request == FIONREAD && n.kind == SOCKNAME_CONN))
        return REAL(ioctl)(fd, request, arg);
    if (!arg)
        return (int)errno_result(-EFAULT);
    struct ctl_status st;
    int rc = status(&n, fd, &st);
    if (rc < 0)
        return (int)errno_result(rc);
    if (st.listening)
        return (int)errno_result(-EINVAL);
    *(int *)arg = request == SIOCOUTQ ? (int)st.outq : 0;
    return 0;
}
