/* A server for sequential_connections: each connection it accepts, one at
 * a time, gets its first byte back, and then the server closes it first
 * (so its side holds TIME-WAIT). Says "listening" once it is.
 * usage: one_byte_server ADDR PORT */
#include <unistd.h>

#include "tool.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: one_byte_server ADDR PORT\n");
        return 2;
    }
    struct sockaddr_in sa = address(argv[1], atoi(argv[2]));
    int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 128) < 0)
        die("listen");
    printf("listening\n");
    fflush(stdout);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            die("accept");
        char b;
        if (read(c, &b, 1) == 1 && write(c, &b, 1) != 1)
            printf("write: %s\n", strerror(errno));
        close(c);
    }
}
