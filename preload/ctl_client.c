/* The interposer's side of the control protocol (ctl.h). Each thread keeps
 * one connection to its daemon, so that requests need no lock; a forked
 * child, or a program that closed our fd (daemons often close every fd),
 * gets a new one. The first process that needs its device's stack starts
 * the daemon, tuntcpd, from beside libtuntcp.so. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload.h"

extern char **environ;

struct ctl_conn {
    int fd;
    pid_t pid;
    dev_t st_dev;
    ino_t st_ino;
    char dev[16];
};

static pthread_key_t conn_key;
static pthread_once_t conn_once = PTHREAD_ONCE_INIT;

static void conn_free(void *p)
{
    struct ctl_conn *c = p;
    if (c->pid == getpid())
        REAL(close)(c->fd);
    free(c);
}

static void conn_key_init(void)
{
    pthread_key_create(&conn_key, conn_free);
}

/* Our connection still, in this process and at this fd number? */
static bool conn_valid(const struct ctl_conn *c)
{
    struct stat st;
    return c->fd >= 0 && c->pid == getpid() && fstat(c->fd, &st) == 0 &&
           st.st_ino == c->st_ino && st.st_dev == c->st_dev;
}

/* ---- starting the daemon ---- */

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static int start_errno;   /* the daemon could not start: said once */

static int daemon_path(char *out, size_t len)
{
    Dl_info info;
    if (!dladdr((void *)daemon_path, &info) || !info.dli_fname)
        return -ENOENT;
    char lib[PATH_MAX];
    snprintf(lib, sizeof lib, "%s", info.dli_fname);
    snprintf(out, len, "%s/tuntcpd", dirname(lib));
    return 0;
}

/* Runs tuntcpd with our TUNTCP_* settings, in a session of its own and
 * with none of our fds but stderr; it returns once it serves the device
 * (or failed, having said why), and runs on in the background. */
static int spawn_daemon(void)
{
    char path[PATH_MAX];
    if (daemon_path(path, sizeof path) < 0)
        return -ENOENT;
    char *env[32];
    unsigned n = 0;
    for (char **e = environ; *e && n < 31; e++)
        if (!strncmp(*e, "TUNTCP_", 7))
            env[n++] = *e;
    env[n] = NULL;
    char *argv[] = { "tuntcpd", NULL };
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t fa;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR, 0);
    /* our stderr is its stderr (for its errors), even if close-on-exec */
    if (fcntl(2, F_GETFD) >= 0)
        posix_spawn_file_actions_adddup2(&fa, 2, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, &attr, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        fprintf(stderr, "tuntcp: cannot start %s: %s\n", path, strerror(rc));
        return -rc;
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return 0;   /* reaped by the program's own SIGCHLD handler */
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    return WIFEXITED(status) ? -WEXITSTATUS(status) : -ENETDOWN;
}

static int connect_ctl(const char *dev)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct sockaddr_un sa;
    socklen_t len = ctl_address(dev, &sa);
    if (REAL(connect)(fd, (struct sockaddr *)&sa, len) == 0)
        return fd;
    int e = errno;
    REAL(close)(fd);
    return -e;
}

/* The daemon must serve the network this process was configured for. */
static int check_hello(int fd)
{
    static bool checked;
    if (checked)
        return 0;
    const struct tuntcp_config *cfg = preload_config();
    struct ctl_req req = { .version = CTL_VERSION, .op = CTL_HELLO };
    struct ctl_rep rep;
    int rc = ctl_send(fd, &req, -1);
    if (rc == 0)
        rc = ctl_recv(fd, &rep, NULL);
    if (rc < 0)
        return rc;
    const struct ctl_hello *h = &rep.hello;
    if (h->addr != cfg->addr || h->net != cfg->net || h->prefix != cfg->prefix ||
        h->mtu != cfg->mtu) {
        fprintf(stderr, "tuntcp: %s is served as %u.%u.%u.%u/%u with MTU %u, not as configured "
                "here (TUNTCP_NET, TUNTCP_ADDR, TUNTCP_MTU): use the same settings, or "
                "another device (TUNTCP_DEV)\n", cfg->dev, h->addr >> 24, (h->addr >> 16) & 255,
                (h->addr >> 8) & 255, h->addr & 255, h->prefix, h->mtu);
        return -ENETDOWN;
    }
    checked = true;
    preload_log(LOG_INFO, "stack %u.%u.%u.%u/%u on %s, MTU %u (tuntcpd pid %d)", cfg->addr >> 24,
                (cfg->addr >> 16) & 255, (cfg->addr >> 8) & 255, cfg->addr & 255, cfg->prefix,
                cfg->dev, cfg->mtu, h->pid);
    return 0;
}

/* A connection to the device's daemon, started if none runs; -errno. */
static int open_once(const char *dev)
{
    const struct tuntcp_config *cfg = preload_config();
    bool ours = !strcmp(dev, cfg->dev);
    int fd = connect_ctl(dev);
    if (fd == -ECONNREFUSED && ours) {
        /* no daemon yet: start one (once at a time in this process) */
        pthread_mutex_lock(&start_lock);
        fd = connect_ctl(dev);
        if (fd == -ECONNREFUSED && !start_errno) {
            int rc = spawn_daemon();
            fd = rc < 0 ? rc : connect_ctl(dev);
            if (fd < 0)
                start_errno = -fd;
        } else if (fd < 0 && start_errno) {
            fd = -start_errno;
        }
        pthread_mutex_unlock(&start_lock);
    }
    if (fd >= 0 && ours) {
        int rc = check_hello(fd);
        if (rc < 0) {
            REAL(close)(fd);
            return rc;
        }
    }
    return fd;
}

int ctl_open(const char *dev)
{
    /* A daemon that ends (a second after its last socket) may still take
     * a connection and then close it unanswered: that daemon is gone, and
     * the next attempt starts a new one. Bounded: a daemon that keeps
     * closing is an error. */
    int fd = -ECONNRESET;
    for (int attempt = 0; attempt < 5 && (fd == -ECONNRESET || fd == -EPIPE); attempt++)
        fd = open_once(dev);
    return fd;
}

int ctl_send(int c, struct ctl_req *req, int held)
{
    req->version = CTL_VERSION;
    while (fdpass_send(c, req, sizeof *req, held, MSG_NOSIGNAL) < 0)
        if (errno != EINTR)
            return -errno;
    return 0;
}

int ctl_recv(int c, struct ctl_rep *rep, int *fd)
{
    struct iovec iov = { rep, sizeof *rep };
    union fdpass_cmsg u;
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                        .msg_controllen = sizeof u.buf };
    if (fd)
        *fd = -1;
    ssize_t n = REAL(recvmsg)(c, &m, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    int got = fdpass_received(&m);
    if (fd)
        *fd = got;
    else if (got >= 0)
        REAL(close)(got);
    if (n != sizeof *rep) {
        if (got >= 0 && fd) {
            REAL(close)(got);
            *fd = -1;
        }
        return n == 0 ? -ECONNRESET : -EBADMSG;   /* the daemon went away */
    }
    return 0;
}

static struct ctl_conn *thread_conn(const char *dev, int *err)
{
    pthread_once(&conn_once, conn_key_init);
    struct ctl_conn *c = pthread_getspecific(conn_key);
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c) {
            *err = -ENOMEM;
            return NULL;
        }
        c->fd = -1;
        pthread_setspecific(conn_key, c);
    }
    if (conn_valid(c) && !strcmp(c->dev, dev))
        return c;
    if (conn_valid(c))
        REAL(close)(c->fd);   /* another device's */
    c->fd = ctl_open(dev);
    struct stat st;
    if (c->fd < 0 || fstat(c->fd, &st) < 0) {
        *err = c->fd < 0 ? c->fd : -errno;
        c->fd = -1;
        return NULL;
    }
    c->pid = getpid();
    c->st_dev = st.st_dev;
    c->st_ino = st.st_ino;
    snprintf(c->dev, sizeof c->dev, "%s", dev);
    return c;
}

/* Making a socket is for the users who may use the device. */
static void say_not_allowed(const char *dev)
{
    static bool said;
    if (!said)
        fprintf(stderr, "tuntcp: user %u may not make sockets on the stack of %s (root, the "
                "user given to `tuntcp up --user`, and processes given a socket of that stack "
                "may)\n", (unsigned)geteuid(), dev);
    said = true;
}

/* A process that was given a socket of the stack (a server's worker that
 * dropped privileges after its master bound) may make sockets of its own:
 * it shows the daemon one, on control connection c. 0 if accepted. */
static int vouch(int c, const char *dev)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return -EACCES;
    int rc = -EACCES;
    struct dirent *e;
    while (rc < 0 && (e = readdir(dir))) {
        int fd = atoi(e->d_name);
        struct sockname n;
        struct ctl_req req = { .op = CTL_STATUS };
        struct ctl_rep rep;
        if (e->d_name[0] == '.' || fd == dirfd(dir) || !stack_socket_of(fd, &n) ||
            strcmp(n.dev, dev))
            continue;
        req.id = n.id;
        req.nonce = n.nonce;
        if (ctl_send(c, &req, fd) == 0 && ctl_recv(c, &rep, NULL) == 0 && rep.result == 0)
            rc = 0;
    }
    closedir(dir);
    return rc;
}

int ctl_exchange(int c, const char *dev, struct ctl_req *req, int held, struct ctl_rep *rep,
                 int *fd)
{
    int rc = ctl_send(c, req, held);
    while (rc == 0 && (rc = ctl_recv(c, rep, fd)) == -EINTR)
        ;
    if (rc == 0 && rep->result == -EACCES && held < 0) {
        if (vouch(c, dev) == 0)
            return ctl_exchange(c, dev, req, held, rep, fd);
        say_not_allowed(dev);
    }
    return rc;
}

int ctl_call(const char *dev, struct ctl_req *req, int held, struct ctl_rep *rep, int *fd)
{
    int err = 0;
    struct ctl_conn *c = thread_conn(dev, &err);
    if (!c)
        return err;
    int rc = ctl_exchange(c->fd, dev, req, held, rep, fd);
    if (rc < 0) {
        REAL(close)(c->fd);
        c->fd = -1;
    }
    return rc;
}

int ctl_post(const struct sockname *n, int fd, uint32_t op, struct ctl_req *req)
{
    int err = 0;
    struct ctl_conn *c = thread_conn(n->dev, &err);
    if (!c)
        return err;
    req->op = op;
    req->flags |= CTL_NOREPLY;
    req->id = n->id;
    req->nonce = n->nonce;
    int rc = ctl_send(c->fd, req, fd);
    if (rc < 0) {
        REAL(close)(c->fd);
        c->fd = -1;
    }
    return rc;
}

int ctl_ask(const struct sockname *n, int fd, uint32_t op, struct ctl_req *req,
            struct ctl_rep *rep)
{
    req->op = op;
    req->id = n->id;
    req->nonce = n->nonce;
    int rc = ctl_call(n->dev, req, fd, rep, NULL);
    return rc < 0 ? rc : rep->result;
}
