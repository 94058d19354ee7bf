/* The relay between the daemon's end of each stack socket and its TCP
 * connection or listener. Bytes move as the other side has room, so the
 * kernel's socket buffers and the TCP windows give the back-pressure:
 * data a program writes is taken only as the send buffer has space, data
 * that arrives is written only as the program's end has room (the rest
 * stays in the receive buffer and shrinks the window). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"
#include "fdpass.h"

static struct rsock **bucket(struct daemon *d, uint64_t id)
{
    return &d->ids[id % ID_BUCKETS];
}

struct rsock *rsock_find(struct daemon *d, uint64_t id)
{
    struct rsock *r = *bucket(d, id);
    while (r && r->id != id)
        r = r->id_next;
    return r;
}

void rsock_mark(struct daemon *d, struct rsock *r)
{
    if (!r->dirty) {
        r->dirty = true;
        r->dirty_next = d->dirty;
        d->dirty = r;
    }
}

/* ---- errors for later ---- */

static void tomb_put(struct daemon *d, uint64_t id, int err)
{
    d->tombs[d->tomb_next++ % TOMBSTONES] = (typeof(d->tombs[0])){ .id = id, .err = err };
}

static int tomb_index(const struct daemon *d, uint64_t id)
{
    for (int i = 0; i < TOMBSTONES; i++)
        if (d->tombs[i].id == id)
            return i;
    return -1;
}

bool tomb_has(const struct daemon *d, uint64_t id)
{
    return tomb_index(d, id) >= 0;
}

int tomb_take(struct daemon *d, uint64_t id)
{
    int i = tomb_index(d, id);
    if (i < 0)
        return 0;
    int err = d->tombs[i].err;
    d->tombs[i].err = 0;   /* reported once, as SO_ERROR; known as gone */
    return err;
}

/* ---- pairs ---- */

/* What our end of a connection may hold on its way to the program (as
 * SO_SNDBUF, capped by net.core.wmem_max): more than the default lets one
 * wakeup of the program take more, as a TCP socket's receive queue does. */
#define RELAY_SNDBUF (1 << 20)

/* Our end of a new pair for r, named after the socket; the program's end
 * in *theirs. */
static int make_pair(struct daemon *d, struct rsock *r, int *theirs)
{
    struct sockname n = { .nonce = d->nonce, .id = r->id, .kind = r->kind };
    snprintf(n.dev, sizeof n.dev, "%s", d->cfg.dev);
    const struct tcp_conn *c = stack_sock_conn(d->stack, r->k);
    if (c) {
        n.laddr = c->ep.laddr, n.lport = c->ep.lport;
        n.raddr = c->ep.raddr, n.rport = c->ep.rport;
    } else {
        stack_getsockname(d->stack, r->k, &n.laddr, &n.lport);
    }
    int type = r->kind == SOCKNAME_CONN ? SOCK_STREAM : SOCK_SEQPACKET;
    int sv[2];
    if (socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    struct sockaddr_un sa;
    socklen_t len = sockname_address(&n, &sa);
    int err = 0;
    if (r->kind == SOCKNAME_CONN) {
        int size = RELAY_SNDBUF;
        setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    }
    if (bind(sv[1], (struct sockaddr *)&sa, len) < 0 ||
        fcntl(sv[1], F_SETFL, O_NONBLOCK) < 0 ||
        /* a listener takes nothing from the program: writes are EPIPE */
        (r->kind == SOCKNAME_BOUND && shutdown(sv[1], SHUT_RD) < 0) ||
        daemon_watch(d, sv[1], EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, &r->w) < 0)
        err = -errno;
    if (err) {
        close(sv[0]);
        close(sv[1]);
        return err;
    }
    r->fd = sv[1];
    r->writable = true;
    *theirs = sv[0];
    return 0;
}

/* While connecting, the program's end must not be writable (Linux: a
 * socket becomes writable once connected or failed): before it is handed
 * over, its send buffer is filled with bytes that we throw away once the
 * connection is established. We keep no fd of the program's end, so its
 * close (exit, kill) reaches us as a hang-up and ends the handshake. */
static void fill_until_connected(struct rsock *r, int theirs)
{
    static const char junk[65536];
    ssize_t n;
    while ((n = send(theirs, junk, sizeof junk, MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
        r->filler += (uint32_t)n;
    r->connecting = true;
    r->connect_told = false;
}

static void drain_filler(struct daemon *d, struct rsock *r)
{
    while (r->filler) {
        ssize_t n = read(r->fd, d->scratch, r->filler < sizeof d->scratch ? r->filler : sizeof d->scratch);
        if (n <= 0)
            break;
        r->filler -= (uint32_t)n;
    }
    r->connecting = false;
}

struct rsock *rsock_new(struct daemon *d, struct sock *k, char kind, int *theirs)
{
    struct rsock *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    *r = (struct rsock){ .w = { WATCH_RSOCK }, .id = ++d->next_id, .kind = kind, .k = k,
                         .fd = -1, .linger = -1, .connect_told = true };
    int err = make_pair(d, r, theirs);
    if (err) {
        free(r);
        errno = -err;
        return NULL;
    }
    if (kind == SOCKNAME_CONN && stack_sock_state(d->stack, k) == TCP_SYN_SENT)
        fill_until_connected(r, *theirs);
    stack_sock_set_user(k, r);
    r->id_next = *bucket(d, r->id);
    *bucket(d, r->id) = r;
    d->nrsocks++;
    return r;
}

int rsock_reconnect(struct daemon *d, struct rsock *r, int *theirs)
{
    daemon_unwatch(d, r->fd);
    close(r->fd);
    r->kind = SOCKNAME_CONN;
    int err = make_pair(d, r, theirs);
    if (err == 0)
        fill_until_connected(r, *theirs);
    return err;
}

static void unlink_id(struct daemon *d, struct rsock *r)
{
    struct rsock **pp = bucket(d, r->id);
    while (*pp != r)
        pp = &(*pp)->id_next;
    *pp = r->id_next;
}

/* Lets go of the socket pair; the stack socket is closed, reset, or
 * (NULL) already handed back. The rsock is freed at the end of the
 * service round (it may still be on the dirty list). */
enum release_how { RELEASE_CLOSE, RELEASE_ABORT };

static void rsock_release(struct daemon *d, struct rsock *r, enum release_how how)
{
    uint64_t now = daemon_now();
    if (r->k) {
        stack_sock_set_user(r->k, NULL);
        (how == RELEASE_ABORT ? stack_abort : stack_close)(d->stack, r->k, now);
        r->k = NULL;
    }
    if (r->pending) {
        close(r->pending_fd);
        rsock_release(d, r->pending, RELEASE_ABORT);   /* Linux: never accepted, reset */
        r->pending = NULL;
    }
    if (r->fd >= 0) {
        daemon_unwatch(d, r->fd);
        close(r->fd);
        r->fd = -1;
    }
    if (r->waiter) {
        client_answer(d, r->waiter, 0);
        r->waiter = NULL;
    }
    unlink_id(d, r);
    d->nrsocks--;
    r->gone = true;
    rsock_mark(d, r);   /* freed by relay_service */
}

/* The connection ended abnormally (reset, timeout, refused): the program
 * sees end of stream, and its next read, write or SO_ERROR the error.
 * - A connect that failed: our end closes with the filler unread, so the
 *   kernel gives the program's end an error (ECONNRESET, which the
 *   interposer turns into ours): every waiter sees it hung up, in error
 *   and writable at once, as Linux shows a refused connect.
 * - Else our end is emptied first: closing it with bytes unread would
 *   give the program the kernel's ECONNRESET besides ours. */
static void rsock_fail(struct daemon *d, struct rsock *r, int err)
{
    if (r->waiter) {
        client_answer(d, r->waiter, -err);   /* the blocking connect takes it */
        r->waiter = NULL;
    } else if (!r->hup) {
        tomb_put(d, r->id, err);
    }
    if (!r->connecting) {
        shutdown(r->fd, SHUT_RD);
        while (read(r->fd, d->scratch, sizeof d->scratch) > 0)
            ;
    }
    rsock_release(d, r, RELEASE_CLOSE);
}

/* ---- connections ---- */

/* TCP -> program: what is in order, once SO_RCVLOWAT is met (or the
 * stream ends); then the peer's FIN as end of stream, or the error. */
static void deliver(struct daemon *d, struct rsock *r)
{
    struct stack *s = d->stack;
    const struct tcp_conn *c = stack_sock_conn(s, r->k);
    int lowat = 1;
    stack_getopt(s, r->k, STACK_OPT_RCVLOWAT, &lowat);
    bool ending = c->fin_received || tcp_is_closed(c);
    struct iovec iov[2];
    uint32_t n;
    while (!r->shut && r->writable && (n = stack_recv_view(s, r->k, iov)) &&
           (n >= (uint32_t)lowat || ending)) {
        ssize_t w = writev(r->fd, iov, iov[1].iov_len ? 2 : 1);
        if (w > 0) {
            stack_recv_consume(s, r->k, (uint32_t)w, daemon_now());
        } else if (w < 0 && errno == EAGAIN) {
            r->writable = false;
        } else {
            /* EPIPE: the program shut down reading (SHUT_RD), or is gone
             * (then the close decides): what comes is dropped, as Linux */
            if (!r->hup)
                stack_recv_consume(s, r->k, n, daemon_now());
            break;
        }
    }
    if (r->shut || stack_recv_view(s, r->k, iov) || !ending)
        return;
    if (c->error) {
        rsock_fail(d, r, stack_sock_error(s, r->k));
        return;
    }
    shutdown(r->fd, SHUT_WR);
    r->shut = true;
}

/* Program -> TCP: as much as the send buffer takes; end of stream is our
 * FIN. ECONNRESET: the program closed its end with data unread, which
 * Linux answers with a reset. */
static bool take(struct daemon *d, struct rsock *r)
{
    struct stack *s = d->stack;
    while (r->readable && !r->eof) {
        struct iovec iov[2];
        uint32_t space = stack_send_view(s, r->k, iov);
        if (!space)
            break;
        /* straight into the send buffer */
        ssize_t n = readv(r->fd, iov, iov[1].iov_len ? 2 : 1);
        if (n > 0) {
            stack_send_commit(s, r->k, (uint32_t)n, daemon_now());
            /* A short read emptied the stream: saves the read that would
             * say EAGAIN. Edge-triggered epoll reports every later write
             * of the program, but its end of stream only once: that
             * report (rdhup) keeps us reading until the 0. */
            if ((uint32_t)n < space && !r->rdhup)
                r->readable = false;
        } else if (n == 0) {
            /* shutdown(SHUT_WR), or closed (which the epoll report may
             * not say yet): no FIN before the reset of SO_LINGER 0 */
            struct pollfd p = { .fd = r->fd };
            r->eof = true;
            r->hup |= poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
            if (!r->hup || r->linger != 0)
                stack_shutdown(s, r->k, SHUT_WR, daemon_now());
        } else if (errno == EAGAIN) {
            r->readable = false;
        } else {
            return false;
        }
    }
    return true;
}

static bool fin_acked(enum tcp_state st)
{
    return st == TCP_FIN_WAIT_2 || st == TCP_TIME_WAIT || st == TCP_CLOSED;
}

static void service_conn(struct daemon *d, struct rsock *r)
{
    struct stack *s = d->stack;
    if (r->connecting) {
        if (r->hup) {   /* closed by every process holding it: no connection */
            rsock_release(d, r, RELEASE_CLOSE);
            return;
        }
        int res = stack_connect_result(s, r->k);
        if (res == -EAGAIN)
            return;
        if (res < 0) {
            rsock_fail(d, r, -res);
            return;
        }
        drain_filler(d, r);
        if (r->waiter) {
            client_answer(d, r->waiter, 0);
            r->waiter = NULL;
            r->connect_told = true;
        }
    }
    deliver(d, r);
    if (r->gone)
        return;
    if (!take(d, r)) {
        rsock_release(d, r, RELEASE_ABORT);
        return;
    }
    if (!r->hup || !r->eof)
        return;
    /* Closed in every process, and all it wrote is taken. */
    if (r->linger == 0) {
        rsock_release(d, r, RELEASE_ABORT);
    } else if (r->waiter && r->linger > 0 && !fin_acked(stack_sock_state(s, r->k))) {
        return;   /* a close waits for the ACK of our FIN (SO_LINGER) */
    } else {
        rsock_release(d, r, RELEASE_CLOSE);
    }
}

/* ---- listeners ---- */

/* Hands each connection the stack accepted to the program, as one message
 * with its fd; a full queue keeps the next one back until there is room. */
static void service_bound(struct daemon *d, struct rsock *r)
{
    struct stack *s = d->stack;
    if (r->hup) {
        rsock_release(d, r, RELEASE_CLOSE);   /* a listener resets its queue */
        return;
    }
    for (;;) {
        if (!r->pending) {
            struct sock *c;
            if (stack_accept(s, r->k, &c) < 0)
                return;
            r->pending = rsock_new(d, c, SOCKNAME_CONN, &r->pending_fd);
            if (!r->pending) {
                daemon_log(d, LOG_WARN, "cannot hand over a connection: %s", strerror(errno));
                stack_abort(s, c, daemon_now());
                continue;
            }
            r->pending->linger = r->linger;   /* Linux: inherited (sk_clone_lock) */
        }
        if (!r->writable)
            return;
        const struct tcp_conn *c = stack_sock_conn(s, r->pending->k);
        struct ctl_accepted acc;
        memset(&acc, 0, sizeof acc);   /* no daemon memory in the padding */
        acc.raddr = c->ep.raddr;
        acc.rport = c->ep.rport;
        if (fdpass_send(r->fd, &acc, sizeof acc, r->pending_fd, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
            if (errno == EAGAIN)
                r->writable = false;
            return;   /* else the program is gone: its hang-up follows */
        }
        close(r->pending_fd);
        rsock_mark(d, r->pending);
        r->pending = NULL;
    }
}

void rsock_event(struct daemon *d, struct rsock *r, uint32_t events)
{
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        r->readable = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        r->rdhup = true;
    if (events & EPOLLOUT)
        r->writable = true;
    if (events & EPOLLHUP)
        r->hup = true;
    rsock_mark(d, r);
}

void relay_service(struct daemon *d)
{
    while (d->dirty) {
        struct rsock *r = d->dirty;
        d->dirty = r->dirty_next;
        r->dirty = false;
        if (r->gone) {
            free(r);
            continue;
        }
        if (r->kind == SOCKNAME_CONN)
            service_conn(d, r);
        else
            service_bound(d, r);
    }
}

void relay_abort_all(struct daemon *d)
{
    for (unsigned i = 0; i < ID_BUCKETS; i++)
        while (d->ids[i])
            rsock_release(d, d->ids[i], RELEASE_ABORT);
    relay_service(d);
}
