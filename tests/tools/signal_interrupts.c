/* A signal against a blocked read, accept or connect, with a handler
 * installed with or without SA_RESTART, and what the socket does after.
 *   signal_interrupts read    restart|norestart PEER PORT
 *   signal_interrupts accept  restart|norestart LISTEN PORT
 *   signal_interrupts connect restart|norestart|retry PEER PORT
 * PEER is a kernel address of this namespace: the program's own kernel
 * listener there (made with raw syscalls, which no interposer sees) is the
 * other end. LISTEN is where the program's listener binds (the stack's
 * address under the preload, a kernel one without). SIGALRM comes every
 * 200 ms while the call blocks. With SA_RESTART the handler of the second
 * one makes the call able to complete (the peer sends, a client connects,
 * the listener makes room for the SYN it dropped), so the call completes
 * only if it was restarted; without, the first one ends the call with
 * EINTR, then the program makes it able to complete and tries again
 * (connect retry: a blocking connect again). Prints one line per step,
 * the same lines on kernel TCP; exits 1 on a setup failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#include "tool.h"

static volatile sig_atomic_t ticks;
static void (*on_second_tick)(void);
static struct sockaddr_in target;
static int peer_listener = -1, peer = -1, raw_client = -1;

static const char *result(long rc)
{
    static char buf[64];
    if (rc >= 0) {
        snprintf(buf, sizeof buf, "%ld", rc);
        return buf;
    }
    return strerrorname_np(errno) ? strerrorname_np(errno) : "?";
}

/* Kernel sockets behind the interposer's back. */
static int raw_socket(int flags)
{
    return (int)syscall(SYS_socket, AF_INET, SOCK_STREAM | flags, 0);
}

static int raw_listener(const struct sockaddr_in *sa, int backlog)
{
    int one = 1, l = raw_socket(0);
    if (l < 0 || syscall(SYS_setsockopt, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        syscall(SYS_bind, l, sa, sizeof *sa) < 0 || syscall(SYS_listen, l, backlog) < 0)
        die("kernel listener");
    return l;
}

static int raw_accept(int l)
{
    return (int)syscall(SYS_accept4, l, NULL, NULL, 0);
}

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    if (++ticks == 2 && on_second_tick)
        on_second_tick();
    errno = saved;
}

static void ticking(bool restart, bool on)
{
    if (on) {
        struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = restart ? SA_RESTART : 0 };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGALRM, &sa, NULL);
    }
    struct itimerval it = { .it_interval = { 0, on ? 200000 : 0 }, .it_value = { 0, on ? 200000 : 0 } };
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- read ---- */

static void peer_sends(void)
{
    syscall(SYS_write, peer, "go", 2);
}

static void try_read(int c, const char *what)
{
    char buf[16] = "";
    ssize_t n = read(c, buf, sizeof buf - 1);
    if (n > 0)
        printf("%s: '%.*s'\n", what, (int)n, buf);
    else
        printf("%s: %s\n", what, result(n));
}

static void test_read(bool restart)
{
    peer_listener = raw_listener(&target, 1);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0 || connect(c, (struct sockaddr *)&target, sizeof target) < 0)
        die("connect");
    if ((peer = raw_accept(peer_listener)) < 0)
        die("accept");
    on_second_tick = restart ? peer_sends : NULL;
    ticking(restart, true);
    try_read(c, "read");
    ticking(restart, false);
    if (!restart) {
        /* the connection is as it was: the next read gets what comes */
        peer_sends();
        try_read(c, "read after the interrupted one");
    }
}

/* ---- accept ---- */

static void client_connects(void)
{
    raw_client = raw_socket(SOCK_NONBLOCK);
    syscall(SYS_connect, raw_client, &target, sizeof target);
}

static void try_accept(int l, const char *what)
{
    struct sockaddr_in from;
    socklen_t len = sizeof from;
    int a = accept(l, (struct sockaddr *)&from, &len);
    if (a >= 0)
        printf("%s: a connection from %s\n", what, inet_ntoa(from.sin_addr));
    else
        printf("%s: %s\n", what, result(a));
}

static void test_accept(bool restart)
{
    int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
    if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(l, (struct sockaddr *)&target, sizeof target) < 0 || listen(l, 8) < 0)
        die("listener");
    on_second_tick = restart ? client_connects : NULL;
    ticking(restart, true);
    try_accept(l, "accept");
    ticking(restart, false);
    if (!restart) {
        client_connects();
        try_accept(l, "accept after the interrupted one");
    }
}

/* ---- connect ---- */

/* The listener's queue (backlog 0) holds one connection nobody accepted:
 * a full queue drops SYNs; taking that one out lets the next
 * retransmitted SYN through. */
static void listener_makes_room(void)
{
    peer = raw_accept(peer_listener);
}

static void try_connect(int c, const char *what)
{
    int rc = connect(c, (struct sockaddr *)&target, sizeof target);
    printf("%s: %s\n", what, result(rc));
}

static void exchange(int c)
{
    int a = raw_accept(peer_listener);
    char buf[8] = "";
    ssize_t n = -1;
    if (a >= 0 && write(c, "hello", 5) == 5)
        n = syscall(SYS_read, a, buf, sizeof buf);
    printf("data reaches the listener: %s\n", n == 5 && !memcmp(buf, "hello", 5) ? "yes" : "no");
}

/* retry: no SA_RESTART, and after EINTR a blocking connect again, as
 * TEMP_FAILURE_RETRY and retry loops do */
static void test_connect(bool restart, bool retry)
{
    peer_listener = raw_listener(&target, 0);
    int filler = raw_socket(0);
    if (filler < 0 || syscall(SYS_connect, filler, &target, sizeof target) < 0)
        die("filling the listener's queue");
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (c < 0)
        die("socket");
    on_second_tick = restart ? listener_makes_room : NULL;
    ticking(restart, true);
    try_connect(c, "connect");
    ticking(restart, false);
    if (restart) {
        printf("interrupted at least once: %s\n", ticks >= 2 ? "yes" : "no");
    } else if (retry) {
        /* Linux: it waits for the handshake under way */
        listener_makes_room();
        try_connect(c, "blocking connect again");
        try_connect(c, "connect once more");
    } else {
        /* the handshake goes on: a nonblocking connect says it is under
         * way, and the socket becomes writable once it is done */
        fcntl(c, F_SETFL, O_NONBLOCK);
        try_connect(c, "nonblocking connect again");
        struct pollfd p = { .fd = c, .events = POLLOUT };
        printf("writable while the SYN is dropped: %s\n", poll(&p, 1, 0) ? "yes" : "no");
        listener_makes_room();
        int n = poll(&p, 1, 10000);
        printf("writable once the listener took the SYN: %s\n",
               n == 1 && p.revents == POLLOUT ? "yes" : "no");
        fcntl(c, F_SETFL, 0);
    }
    int err = -1;
    socklen_t len = sizeof err;
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
    printf("SO_ERROR: %s\n", err ? strerrorname_np(err) : "0");
    exchange(c);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *mode = argc == 5 ? argv[2] : "";
    bool restart = !strcmp(mode, "restart"), retry = !strcmp(mode, "retry");
    if (!restart && !retry && strcmp(mode, "norestart")) {
        fprintf(stderr, "usage: %s read|accept|connect restart|norestart ADDR PORT\n"
                "       %s connect retry ADDR PORT\n", argv[0], argv[0]);
        return 2;
    }
    target = address(argv[3], atoi(argv[4]));
    if (!strcmp(argv[1], "read"))
        test_read(restart);
    else if (!strcmp(argv[1], "accept"))
        test_accept(restart);
    else if (!strcmp(argv[1], "connect"))
        test_connect(restart, retry);
    else
        return 2;
    return 0;
}
