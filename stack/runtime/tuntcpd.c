/* tuntcpd: serves the TCP stack of one TUN device (see daemon.h).
 *
 *   tuntcpd [--persist] [--user USER]   start (configured by TUNTCP_*)
 *   tuntcpd --stop                      stop the device's daemon
 *   tuntcpd --stats                     print its counters and figures
 *   tuntcpd --check                     check TUNTCP_*, print the kernel
 *                                       side's address/prefix
 *
 * It exits 0 once it serves the device (in the background) or if another
 * daemon already does; else it says why on stderr and exits with the
 * errno value of the failure, which the interposer passes on. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon.h"

static void usage(void)
{
    fprintf(stderr, "usage: tuntcpd [--persist] [--user USER] | --stop | --stats | --check\n"
                    "(normally started by libtuntcp.so or `tuntcp up`; see README)\n");
    exit(2);
}

/* A control connection to the device's daemon, -1 if none runs. */
static int ctl_open(const char *dev)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    socklen_t len = ctl_address(dev, &sa);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, len) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* Asks the device's daemon to stop, and waits until it has. */
static int stop(const char *dev)
{
    int fd = ctl_open(dev);
    if (fd < 0)
        return 0;   /* none runs */
    struct ctl_req req = { .version = CTL_VERSION, .op = CTL_STOP };
    struct ctl_rep rep;
    if (send(fd, &req, sizeof req, MSG_NOSIGNAL) < 0)
        return 1;
    while (recv(fd, &rep, sizeof rep, 0) > 0)
        ;   /* the reply, then end of stream as it exits */
    return 0;
}

/* Prints what the device's daemon counts, "name value" a line. */
static int stats(const char *dev)
{
    int fd = ctl_open(dev);
    if (fd < 0) {
        fprintf(stderr, "tuntcp: no stack serves %s\n", dev);
        return 1;
    }
    struct ctl_req req = { .version = CTL_VERSION, .op = CTL_STATS };
    static char msg[CTL_STATS_MAX];
    struct ctl_rep rep;
    ssize_t n = -1;
    if (send(fd, &req, sizeof req, MSG_NOSIGNAL) == (ssize_t)sizeof req)
        n = recv(fd, msg, sizeof msg, 0);
    close(fd);
    if (n < (ssize_t)sizeof rep) {
        fprintf(stderr, "tuntcp: no answer from the stack of %s\n", dev);
        return 1;
    }
    memcpy(&rep, msg, sizeof rep);
    if (rep.result < 0) {
        fprintf(stderr, "tuntcp: stats of %s: %s\n", dev, strerror(-rep.result));
        return 1;
    }
    size_t len = (size_t)n - sizeof rep;
    if ((size_t)rep.result < len)
        len = (size_t)rep.result;
    fwrite(msg + sizeof rep, 1, len, stdout);
    return fflush(stdout) == 0 ? 0 : 1;
}

static int drop_privileges(const char *user, uid_t *uid)
{
    struct passwd *pw = getpwnam(user);
    char *end;
    unsigned long n = strtoul(user, &end, 10);
    if (!pw && !*end && end != user)
        pw = getpwuid((uid_t)n);
    if (!pw) {
        fprintf(stderr, "tuntcp: no such user: %s\n", user);
        return -1;
    }
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        fprintf(stderr, "tuntcp: cannot become %s: %s\n", user, strerror(errno));
        return -1;
    }
    *uid = pw->pw_uid;
    return 0;
}

/* Into the background, detached from the starter's session and from its
 * stdin and stdout (which may be pipes someone waits on to close); its
 * stderr stays only if a log was asked for. */
static void detach(const struct daemon *d)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("tuntcp: fork");
        exit(1);
    }
    if (pid > 0)
        _exit(0);
    setsid();
    if (chdir("/") < 0)
        exit(1);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(null, 0);
    dup2(null, 1);
    if (d->cfg.log == LOG_ERROR)
        dup2(null, 2);
    close(null);
}

/* fds 0-2 open, so that nothing we open lands on them (a program may
 * start us with its stderr closed on exec, as node does) and is then
 * replaced by detach() or written to as a log. */
static void standard_fds_open(void)
{
    int fd;
    do
        fd = open("/dev/null", O_RDWR);
    while (fd >= 0 && fd <= 2);
    if (fd > 2)
        close(fd);
}

int main(int argc, char **argv)
{
    standard_fds_open();
    bool persist = false, stopping = false, checking = false, showing = false;
    const char *user = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--persist"))
            persist = true;
        else if (!strcmp(argv[i], "--stop"))
            stopping = true;
        else if (!strcmp(argv[i], "--check"))
            checking = true;
        else if (!strcmp(argv[i], "--stats"))
            showing = true;
        else if (!strcmp(argv[i], "--user") && i + 1 < argc)
            user = argv[++i];
        else
            usage();
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    /* one per process, for its whole life */
    static struct daemon daemon;
    struct daemon *d = &daemon;
    config_read(&d->cfg);   /* exits with a one-line error on a bad value */
    if (checking) {
        uint32_t p = d->cfg.peer;
        printf("%u.%u.%u.%u/%u\n", p >> 24, (p >> 16) & 255, (p >> 8) & 255, p & 255,
               d->cfg.prefix);
        return 0;
    }
    if (stopping)
        return stop(d->cfg.dev);
    if (showing)
        return stats(d->cfg.dev);
    d->persist = persist;
    char err[512];
    int rc = daemon_open(d, err, sizeof err);
    if (rc == 1)
        return 0;   /* the device is served already */
    if (rc < 0) {
        fprintf(stderr, "%s\n", err);
        return -rc;
    }
    if (user && drop_privileges(user, &d->user) < 0)
        return EPERM;
    detach(d);
    char why[96] = "";
    if (d->tun.offload_refused)
        snprintf(why, sizeof why, " (the TUN device refused them: %s)",
                 strerror(d->tun.offload_refused));
    daemon_log(d, LOG_INFO, "stack %u.%u.%u.%u/%u on %s, MTU %u, offloads %s%s", d->cfg.addr >> 24,
               (d->cfg.addr >> 16) & 255, (d->cfg.addr >> 8) & 255, d->cfg.addr & 255,
               d->cfg.prefix, d->cfg.dev, d->cfg.mtu, d->tun.offload ? "on" : "off", why);
    return daemon_run(d);
}
