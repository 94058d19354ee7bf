/* The seed scenario: listen, accept one connection, close it first.
 * usage: seed_server [ADDR [PORT]]   (default 172.16.0.2 9007) */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *addr = argc > 1 ? argv[1] : "172.16.0.2";
    int port = argc > 2 ? atoi(argv[2]) : 9007;
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
        fprintf(stderr, "seed_server: bad address %s\n", addr);
        return 2;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (s < 0 || bind(s, (struct sockaddr *)&sin, sizeof sin) < 0 || listen(s, 8) < 0) {
        perror("seed_server: listen");
        return 1;
    }
    printf("listening on %s:%d\n", addr, port);
    fflush(stdout);
    int c = accept(s, NULL, NULL);
    if (c < 0) {
        perror("seed_server: accept");
        return 1;
    }
    printf("accepted a connection; closing it\n");
    close(c);
    close(s);
    return 0;
}
