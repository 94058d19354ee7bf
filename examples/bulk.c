/* Bulk transfer, the benchmark's throughput workload.
 *   bulk recv ADDR PORT         accept one connection, read to the end,
 *                               print bytes, seconds and Gbit/s
 *   bulk send ADDR PORT BYTES   connect, send BYTES, close */
#include <arpa/inet.h>
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
    fprintf(stderr, "usage: bulk recv ADDR PORT | bulk send ADDR PORT BYTES\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 4)
        return usage();
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[3])) };
    if (inet_pton(AF_INET, argv[2], &sin.sin_addr) != 1)
        return usage();
    static char buf[1 << 18];
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (!strcmp(argv[1], "recv")) {
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(s, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(s, 1) < 0) {
            perror("bulk: listen");
            return 1;
        }
        fprintf(stderr, "bulk: listening\n");
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            perror("bulk: accept");
            return 1;
        }
        double start = now_s();
        unsigned long long total = 0;
        ssize_t n;
        while ((n = read(c, buf, sizeof buf)) > 0)
            total += (unsigned long long)n;
        double secs = now_s() - start;
        printf("%llu bytes %.3f s %.2f Gbit/s\n", total, secs, (double)total * 8 / secs / 1e9);
        return n < 0;
    }
    if (!strcmp(argv[1], "send") && argc == 5) {
        unsigned long long want = strtoull(argv[4], NULL, 10), sent = 0;
        if (connect(s, (struct sockaddr *)&sin, sizeof sin) < 0) {
            perror("bulk: connect");
            return 1;
        }
        memset(buf, 'b', sizeof buf);
        while (sent < want) {
            size_t chunk = want - sent < sizeof buf ? (size_t)(want - sent) : sizeof buf;
            ssize_t n = write(s, buf, chunk);
            if (n <= 0) {
                perror("bulk: write");
                return 1;
            }
            sent += (unsigned long long)n;
        }
        return close(s) < 0;
    }
    return usage();
}
