/* The interposer's configuration, logging and the test for stack sockets. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

static struct tuntcp_config config;

/* The stack connections inherited across exec (an inetd-style server's
 * fds 0 and 1), for write.c. */
static void know_inherited_connections(void)
{
    DIR *dir = opendir("/proc/self/fd");
    if (!dir)
        return;
    struct dirent *e;
    while ((e = readdir(dir))) {
        struct sockname n;
        int fd = atoi(e->d_name);
        if (e->d_type == DT_LNK && fd != dirfd(dir) && stack_socket_of(fd, &n) &&
            n.kind == SOCKNAME_CONN)
            conn_fd_mark(fd, true);
    }
    closedir(dir);
}

/* Read the configuration as the program loads: a bad value stops it
 * before it runs. */
__attribute__((constructor)) static void preload_init(void)
{
    config_read(&config);
    know_inherited_connections();
}

const struct tuntcp_config *preload_config(void)
{
    return &config;
}

bool preload_in_subnet(uint32_t addr)
{
    return (addr & (~0u << (32 - config.prefix))) == config.net;
}

void preload_log(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    config_vlog(&config, "tuntcp", level, fmt, ap);
    va_end(ap);
}

ssize_t errno_result(ssize_t r)
{
    if (r < 0) {
        errno = (int)-r;
        return -1;
    }
    return r;
}

bool stack_socket_of(int fd, struct sockname *n)
{
    struct sockaddr_un sa;
    socklen_t len = sizeof sa;
    int e = errno;
    bool ours = REAL(getpeername)(fd, (struct sockaddr *)&sa, &len) == 0 &&
                sockname_parse(&sa, len, n);
    errno = e;
    return ours;
}

int stack_take_error(const struct sockname *n, int fd)
{
    /* the kernel's, of a failed connect (see relay.c), goes with ours */
    int kernel_err;
    socklen_t len = sizeof kernel_err;
    REAL(getsockopt)(fd, SOL_SOCKET, SO_ERROR, &kernel_err, &len);
    struct ctl_req req = { .flags = CTL_TAKE_ERROR };
    struct ctl_rep rep;
    return ctl_ask(n, fd, CTL_STATUS, &req, &rep) < 0 ? 0 : rep.status.error;
}
