/* An echo client: sends its standard input, half-closes, and writes what
 * comes back to standard output. usage: echo_client ADDR PORT */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *sender(void *arg)
{
    int s = (int)(intptr_t)arg;
    char buf[65536];
    ssize_t n;
    while ((n = read(0, buf, sizeof buf)) > 0)
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(s, buf + off, (size_t)(n - off));
            if (w <= 0) {
                perror("echo_client: write");
                exit(1);
            }
            off += w;
        }
    shutdown(s, SHUT_WR);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: echo_client ADDR PORT\n");
        return 2;
    }
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2])) };
    if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1) {
        fprintf(stderr, "echo_client: bad address %s\n", argv[1]);
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof sin) < 0) {
        perror("echo_client: connect");
        return 1;
    }
    pthread_t t;
    pthread_create(&t, NULL, sender, (void *)(intptr_t)s);
    char buf[65536];
    ssize_t n;
    while ((n = read(s, buf, sizeof buf)) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return 1;
    if (n < 0) {
        perror("echo_client: read");
        return 1;
    }
    pthread_join(t, NULL);
    return 0;
}
