/* Moving a socket to the stack at the same fd number. socket() gives an
 * ordinary kernel socket; when bind or connect takes it into the TUN
 * subnet, the program's end of a stack socket replaces it (dup3) with the
 * flags, timeouts, SO_RCVLOWAT and epoll registrations the program gave
 * the old one.
 * The kernel keys an epoll registration by fd and file, so those made
 * before the move are recorded here (epoll_ctl) and made again after. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fd_bits.h"
#include "preload.h"
#include "stack.h"

#define MAX_FDS PRELOAD_MAX_FDS

struct ep_rec {
    int epfd;
    struct epoll_event ev;
    struct ep_rec *next;
};

static struct fd_bits inet_fds;
static struct ep_rec *recs[MAX_FDS];   /* guarded by rec_lock */
static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static int lingers[MAX_FDS];
/* Buffer sizes, TCP_MAXSEG and TCP_CONGESTION set on a kernel socket
 * before it moves (0: not set): the kernel socket cannot tell a value set
 * from its default (nor has the stack's default algorithm). */
enum { PRESET_RCVBUF, PRESET_SNDBUF, PRESET_MAXSEG, PRESET_CONGESTION, PRESETS };
static int presets[MAX_FDS][PRESETS];
static const int preset_opts[PRESETS] = { STACK_OPT_RCVBUF, STACK_OPT_SNDBUF, STACK_OPT_MAXSEG,
                                          STACK_OPT_CONGESTION };
/* The first option set on it before it moves that the stack refuses. */
struct refusal {
    int level, name, err;   /* err 0: none */
};
static struct refusal refusals[MAX_FDS];

static bool tracked(int fd)
{
    return fd_bit(&inet_fds, fd);
}

static struct ep_rec *take_recs(int fd)
{
    pthread_mutex_lock(&rec_lock);
    struct ep_rec *list = recs[fd];
    recs[fd] = NULL;
    pthread_mutex_unlock(&rec_lock);
    return list;
}

static void free_recs(struct ep_rec *r)
{
    while (r) {
        struct ep_rec *next = r->next;
        free(r);
        r = next;
    }
}

static void set_tracked(int fd, bool on)
{
    fd_bit_set(&inet_fds, fd, on);
}

void inet_mark(int fd)
{
    if (fd < 0 || fd >= MAX_FDS)
        return;
    free_recs(take_recs(fd));   /* left from an fd closed behind our back */
    lingers[fd] = 0;
    memset(presets[fd], 0, sizeof presets[fd]);
    refusals[fd].err = 0;
    set_tracked(fd, true);
}

void inet_forget(int fd)
{
    if (!tracked(fd))
        return;
    set_tracked(fd, false);
    free_recs(take_recs(fd));
}

void linger_hint(int fd, int seconds)
{
    if (fd >= 0 && fd < MAX_FDS)
        lingers[fd] = seconds;
}

void preset_record(int fd, int stack_opt, int value)
{
    if (!tracked(fd) || value <= 0)
        return;
    for (int i = 0; i < PRESETS; i++)
        if (preset_opts[i] == stack_opt)
            presets[fd][i] = value;
}

void preset_carry(int fd, struct ctl_req *req)
{
    if (!tracked(fd))
        return;
    for (int i = 0; i < PRESETS && req->nopts < CTL_MAX_OPTS; i++)
        if (presets[fd][i])
            req->opts[req->nopts++] = (struct ctl_opt){ preset_opts[i], presets[fd][i] };
}

void refusal_record(int fd, int level, int name, int err)
{
    if (!tracked(fd))
        return;
    struct refusal *r = &refusals[fd];
    if (err && !r->err)
        *r = (struct refusal){ level, name, err };
    else if (!err && r->level == level && r->name == name)
        r->err = 0;   /* set again to a value the stack takes */
}

int refusal_of(int fd, int *level, int *name)
{
    if (!tracked(fd))
        return 0;
    *level = refusals[fd].level;
    *name = refusals[fd].name;
    return refusals[fd].err;
}

int linger_of(int fd)
{
    return fd >= 0 && fd < MAX_FDS ? lingers[fd] : 0;
}

int linger_take(int fd)
{
    if (fd < 0 || fd >= MAX_FDS)
        return 0;
    int s = lingers[fd];
    lingers[fd] = 0;
    return s;
}

EXPORT int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    int rc = REAL(epoll_ctl)(epfd, op, fd, ev);
    if (rc < 0 || !tracked(fd))
        return rc;
    pthread_mutex_lock(&rec_lock);
    struct ep_rec **pp = &recs[fd];
    while (*pp && (*pp)->epfd != epfd)
        pp = &(*pp)->next;
    if (op == EPOLL_CTL_DEL && *pp) {
        struct ep_rec *gone = *pp;
        *pp = gone->next;
        free(gone);
    } else if (op != EPOLL_CTL_DEL) {
        if (!*pp && (*pp = calloc(1, sizeof **pp)))
            (*pp)->epfd = epfd;
        if (*pp)
            (*pp)->ev = *ev;
    }
    pthread_mutex_unlock(&rec_lock);
    return rc;
}

/* An option the kernel honours on the fd, whichever socket it is. */
static void copy_kernel_option(int from, int to, int name)
{
    union {
        struct timeval tv;
        int i;
    } v;
    socklen_t len = sizeof v;
    if (REAL(getsockopt)(from, SOL_SOCKET, name, &v, &len) == 0)
        REAL(setsockopt)(to, SOL_SOCKET, name, &v, len);
}

int swap_in(int fd, int newfd, bool keep_tracking)
{
    int fl = REAL(fcntl)(fd, F_GETFL), fdfl = REAL(fcntl)(fd, F_GETFD);
    if (fl < 0 || fdfl < 0) {
        int e = errno;
        REAL(close)(newfd);
        return -e;
    }
    copy_kernel_option(fd, newfd, SO_RCVTIMEO);
    copy_kernel_option(fd, newfd, SO_SNDTIMEO);
    copy_kernel_option(fd, newfd, SO_RCVLOWAT);
    REAL(fcntl)(newfd, F_SETFL, fl & O_NONBLOCK);
    /* Registrations still on the old file (a MOD proves it) leave with it
     * explicitly: the old file may live on in a dup or another process. */
    struct ep_rec *list = fd < MAX_FDS ? take_recs(fd) : NULL, **pp = &list;
    while (*pp) {
        struct ep_rec *r = *pp;
        if (REAL(epoll_ctl)(r->epfd, EPOLL_CTL_MOD, fd, &r->ev) == 0 &&
            REAL(epoll_ctl)(r->epfd, EPOLL_CTL_DEL, fd, NULL) == 0) {
            pp = &r->next;
        } else {
            *pp = r->next;
            free(r);
        }
    }
    int rc = dup3(newfd, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0);
    int e = errno;
    REAL(close)(newfd);
    for (struct ep_rec *r = list; r; r = r->next)
        REAL(epoll_ctl)(r->epfd, EPOLL_CTL_ADD, fd, &r->ev);
    if (fd < MAX_FDS) {
        set_tracked(fd, keep_tracking);
        if (keep_tracking) {
            pthread_mutex_lock(&rec_lock);
            recs[fd] = list;
            pthread_mutex_unlock(&rec_lock);
            list = NULL;
        }
    }
    free_recs(list);
    conn_fd_mark(fd, rc >= 0 && !keep_tracking);   /* a connection */
    preload_log(LOG_DEBUG, "fd %d: moved to the stack (%s)", fd, rc < 0 ? strerror(e) : "ok");
    return rc < 0 ? -e : 0;
}
