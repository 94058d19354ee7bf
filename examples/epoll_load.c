/* Load for an echo server: N connections at once, each sending a 32-byte
 * request and waiting for its echo, again and again, for SECONDS; prints
 * requests per second. usage: epoll_load ADDR PORT N SECONDS */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define REQ 32

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: epoll_load ADDR PORT N SECONDS\n");
        return 2;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    inet_pton(AF_INET, argv[1], &sin.sin_addr);
    int n = atoi(argv[3]);
    double secs = atof(argv[4]);
    int ep = epoll_create1(0);
    int *got = calloc((size_t)n + 1024, sizeof *got);
    char req[REQ], buf[4096];
    memset(req, 'r', sizeof req);
    for (int i = 0; i < n; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&sin, sizeof sin) < 0) {
            perror("epoll_load: connect");
            return 1;
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.fd = s };
        epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
        if (write(s, req, REQ) != REQ)
            return 1;
    }
    unsigned long done = 0;
    double start = now_s(), end = start + secs;
    struct epoll_event events[256];
    while (now_s() < end) {
        int k = epoll_wait(ep, events, 256, 100);
        for (int i = 0; i < k; i++) {
            int fd = events[i].data.fd;
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) {
                fprintf(stderr, "epoll_load: connection lost\n");
                return 1;
            }
            got[fd] += (int)r;
            while (got[fd] >= REQ) {   /* a whole response: the next request */
                got[fd] -= REQ;
                done++;
                if (write(fd, req, REQ) != REQ)
                    return 1;
            }
        }
    }
    printf("%.0f requests/s over %d connections\n", (double)done / (now_s() - start), n);
    return 0;
}
