/* Writes on a connection that failed, with SIGPIPE counted by a handler:
 *   write_after_failure refused PEER CLOSED_PORT
 *   write_after_failure reset   PEER PORT
 * refused: a nonblocking connect to a port nothing listens on, waited for
 * with poll; reset: a connection whose peer (the program's own kernel
 * listener, made with raw syscalls no interposer sees) closes with
 * SO_LINGER 0. Then two writes. Linux: the first write reports the error
 * (ECONNREFUSED, ECONNRESET) without SIGPIPE, which a program at the
 * default action would die of; the next is EPIPE with SIGPIPE. Prints one
 * line per write, the same lines on kernel TCP. */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tool.h"

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    sigpipes++;
}

static void try_write(int s, const char *what)
{
    int before = sigpipes;
    ssize_t n = write(s, "x", 1);
    printf("%s: %s, SIGPIPE: %s\n", what, n >= 0 ? "written" : strerrorname_np(errno),
           sigpipes > before ? "yes" : "no");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc != 4) {
        fprintf(stderr, "usage: %s refused|reset PEER PORT\n", argv[0]);
        return 2;
    }
    struct sigaction sa = { .sa_handler = on_sigpipe };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    struct sockaddr_in to = address(argv[2], atoi(argv[3]));
    int s;
    if (!strcmp(argv[1], "refused")) {
        s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        if (s < 0 || (connect(s, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS))
            die("connect");
        struct pollfd p = { .fd = s, .events = POLLOUT };
        if (poll(&p, 1, 10000) != 1)
            die("poll");
    } else {
        int one = 1, l = (int)syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
        if (l < 0 || syscall(SYS_setsockopt, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
            syscall(SYS_bind, l, &to, sizeof to) < 0 || syscall(SYS_listen, l, 1) < 0)
            die("kernel listener");
        s = socket(AF_INET, SOCK_STREAM, 0);
        if (s < 0 || connect(s, (struct sockaddr *)&to, sizeof to) < 0)
            die("connect");
        int a = (int)syscall(SYS_accept4, l, NULL, NULL, 0);
        struct linger lg = { 1, 0 };
        if (a < 0 || syscall(SYS_setsockopt, a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
            die("accept");
        syscall(SYS_close, a);
        /* the reset has come once the connection reads as ended */
        struct pollfd p = { .fd = s, .events = POLLIN };
        if (poll(&p, 1, 10000) != 1 || !(p.revents & POLLHUP))
            die("waiting for the reset");
    }
    try_write(s, "first write");
    try_write(s, "second write");
    return 0;
}
