/* Small-message workloads for the benchmark.
 *   pingpong serve ADDR PORT          echo every byte back, connections one
 *                                     after another (a thread each)
 *   pingpong rr ADDR PORT SECONDS     one connection, 1-byte round trips:
 *                                     round trips/s, p50 and p99 in us
 *   pingpong crr ADDR PORT SECONDS    connect, 1 byte each way, close, again:
 *                                     connections/s */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in target;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void *echo(void *arg)
{
    int c = (int)(intptr_t)arg;
    char b[64];
    ssize_t n;
    while ((n = read(c, b, sizeof b)) > 0)
        if (write(c, b, (size_t)n) != n)
            break;
    close(c);
    return NULL;
}

static int serve(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(s, (struct sockaddr *)&target, sizeof target) < 0 || listen(s, 1024) < 0) {
        perror("pingpong: listen");
        return 1;
    }
    fprintf(stderr, "pingpong: listening\n");
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            continue;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        pthread_t t;
        if (pthread_create(&t, NULL, echo, (void *)(intptr_t)c) == 0)
            pthread_detach(t);
        else
            close(c);
    }
}

static int connect_target(void)
{
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, (struct sockaddr *)&target, sizeof target) < 0) {
        perror("pingpong: connect");
        exit(1);
    }
    return s;
}

static int round_trip(int s)
{
    char b = 'p';
    return write(s, &b, 1) == 1 && read(s, &b, 1) == 1 ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int rr(double seconds)
{
    int s = connect_target();
    size_t cap = 1 << 22, n = 0;
    double *lat = malloc(cap * sizeof *lat);
    double start = now_us(), end = start + seconds * 1e6, t = start;
    while (t < end && n < cap) {
        double t0 = t;
        if (round_trip(s) < 0) {
            perror("pingpong: round trip");
            return 1;
        }
        t = now_us();
        lat[n++] = t - t0;
    }
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("%.0f round trips/s p50 %.1f us p99 %.1f us\n", (double)n / ((t - start) / 1e6),
           lat[n / 2], lat[n * 99 / 100]);
    close(s);
    return 0;
}

static int crr(double seconds)
{
    double start = now_us(), end = start + seconds * 1e6, t = start;
    unsigned long n = 0;
    while (t < end) {
        int s = connect_target();
        if (round_trip(s) < 0) {
            perror("pingpong: round trip");
            return 1;
        }
        close(s);
        n++;
        t = now_us();
    }
    printf("%.0f connections/s\n", (double)n / ((t - start) / 1e6));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: pingpong serve|rr|crr ADDR PORT [SECONDS]\n");
        return 2;
    }
    target = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    if (inet_pton(AF_INET, argv[2], &target.sin_addr) != 1) {
        fprintf(stderr, "pingpong: bad address %s\n", argv[2]);
        return 2;
    }
    double secs = argc > 4 ? atof(argv[4]) : 5;
    if (!strcmp(argv[1], "serve"))
        return serve();
    if (!strcmp(argv[1], "rr"))
        return rr(secs);
    if (!strcmp(argv[1], "crr"))
        return crr(secs);
    fprintf(stderr, "pingpong: unknown mode %s\n", argv[1]);
    return 2;
}
