/* Bulk transfer bounded in time, for the lossy benchmark (examples/bulk
 * sends a fixed size, which at 5 % loss can take minutes):
 *   timed_bulk recv ADDR PORT SECS [CC]   accept one connection, read for SECS
 *                                    seconds from the accept (or to the
 *                                    end), print bytes, seconds and Gbit/s
 *                                    of what the application read, close
 *   timed_bulk send ADDR PORT SECS [CC]   connect, write until the receiver
 *                                    closes or SECS seconds have passed
 * CC sets the congestion control with TCP_CONGESTION (kernel TCP: a new
 * namespace may only default to the allowed ones, which here lack cubic;
 * root may set any per socket).
 * The receiver's count is the goodput. It ends with a reset, which ends
 * the sender. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
    fprintf(stderr, "usage: timed_bulk recv|send ADDR PORT SECS [CC]\n");
    return 2;
}

/* Milliseconds until `end`, at least 1 while time is left. */
static int left_ms(double end)
{
    double left = end - now_s();
    return left <= 0 ? 0 : (int)(left * 1000) + 1;
}

/* Waits until `fd` has one of `events`: 1; 0 once `end` has come; -1 on
 * an error (said on stderr). */
static int ready_before(int fd, short events, double end)
{
    int ms;
    while ((ms = left_ms(end)) > 0) {
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, ms);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR) {
            perror("timed_bulk: poll");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6)
        return usage();
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    double secs = atof(argv[4]);
    if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1 || secs <= 0)
        return usage();
    static char buf[1 << 18];
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (argc == 6 && setsockopt(s, IPPROTO_TCP, TCP_CONGESTION, argv[5], strlen(argv[5])) < 0) {
        perror("timed_bulk: TCP_CONGESTION");
        return 1;
    }
    if (!strcmp(argv[1], "recv")) {
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(s, 1) < 0) {
            perror("timed_bulk: listen");
            return 1;
        }
        fprintf(stderr, "timed_bulk: listening\n");
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            perror("timed_bulk: accept");
            return 1;
        }
        double start = now_s(), end = start + secs;
        unsigned long long total = 0;
        int r;
        while ((r = ready_before(c, POLLIN, end)) > 0) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                if (n < 0)
                    perror("timed_bulk: read");
                break;
            }
            total += (unsigned long long)n;
        }
        if (r < 0)
            return 1;
        double took = now_s() - start;
        printf("%llu bytes %.3f s %.4f Gbit/s\n", total, took, (double)total * 8 / took / 1e9);
        fflush(stdout);
        /* an abortive close (SO_LINGER 0, a reset): what is still on the
         * way is of no interest, and the sender learns it at once */
        struct linger lg = { .l_onoff = 1, .l_linger = 0 };
        setsockopt(c, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(c);
        return 0;
    }
    if (!strcmp(argv[1], "send")) {
        if (connect(s, (struct sockaddr *)&sin, sizeof sin) < 0) {
            perror("timed_bulk: connect");
            return 1;
        }
        /* a write must not outlast the deadline */
        fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK);
        memset(buf, 'b', sizeof buf);
        double end = now_s() + secs;
        int r;
        while ((r = ready_before(s, POLLOUT, end)) > 0) {
            ssize_t n = write(s, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n < 0)   /* the receiver has closed: the end */
                return errno == ECONNRESET || errno == EPIPE ? 0 : (perror("timed_bulk: write"), 1);
        }
        return r < 0;
    }
    return usage();
}
