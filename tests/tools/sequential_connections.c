/* Opens N connections to ADDR:PORT one after another: each connects,
 * sends one byte, reads it back, waits for the server to close first (end
 * of stream) and closes. Prints "N connections in S s (R/s)", or the first
 * one that failed and how, and exits 1.
 * usage: sequential_connections ADDR PORT N */
#include <time.h>
#include <unistd.h>

#include "tool.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void failed(long i, const char *step)
{
    printf("connection %ld: %s: %s\n", i, step, errno ? strerror(errno) : "unexpected data");
    exit(1);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sequential_connections ADDR PORT N\n");
        return 2;
    }
    struct sockaddr_in sa = address(argv[1], atoi(argv[2]));
    long n = atol(argv[3]);
    double start = seconds();
    for (long i = 0; i < n; i++) {
        char out = (char)('a' + i % 26), in = 0;
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0)
            failed(i, "socket");
        if (connect(c, (struct sockaddr *)&sa, sizeof sa) < 0)
            failed(i, "connect");
        if (write(c, &out, 1) != 1)
            failed(i, "write");
        errno = 0;
        if (read(c, &in, 1) != 1 || in != out)
            failed(i, "read the byte back");
        if (read(c, &in, 1) != 0)
            failed(i, "read the end of stream");
        close(c);
    }
    double t = seconds() - start;
    printf("%ld connections in %.2f s (%.0f/s)\n", n, t, t > 0 ? (double)n / t : 0.0);
    return 0;
}
