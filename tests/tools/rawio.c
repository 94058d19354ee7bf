/* What no interposer sees, on a stack socket against a kernel echo server
 * at ADDR PORT: raw read/write/close syscalls, stdio on the socket,
 * sendfile and splice, and an fd number reused after a raw close.
 * Prints "ok ..." or "FAIL ..." per check; exits 1 if any failed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static int failed;

static void check(const char *what, int ok)
{
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    failed |= !ok;
}

/* Reads exactly len bytes with the raw syscall. */
static int read_all(int fd, char *buf, size_t len)
{
    for (size_t got = 0; got < len;) {
        long n = syscall(SYS_read, fd, buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

static int connect_to(const char *addr, int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, addr, &sin.sin_addr);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sin, sizeof sin) < 0) {
        perror("rawio: connect");
        exit(1);
    }
    return s;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: rawio ADDR PORT\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int s = connect_to(argv[1], atoi(argv[2]));
    char buf[1 << 17];

    check("syscall(SYS_write)", syscall(SYS_write, s, "raw\n", 4) == 4);
    check("syscall(SYS_read) reads the echo", read_all(s, buf, 4) == 0 && !memcmp(buf, "raw\n", 4));

    FILE *f = fdopen(dup(s), "r+");
    check("fprintf and fgets on fdopen()", f && fprintf(f, "stdio line\n") > 0 && fflush(f) == 0 &&
                                                fgets(buf, sizeof buf, f) &&
                                                !strcmp(buf, "stdio line\n"));
    fclose(f);

    char path[] = "/tmp/rawio-XXXXXX";
    int file = mkstemp(path);
    unlink(path);
    static char data[100000];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (char)(i * 7 + 3);
    check("file written", write(file, data, sizeof data) == (ssize_t)sizeof data);
    off_t off = 0;
    ssize_t sent = 0;
    while (sent < (ssize_t)sizeof data) {
        ssize_t n = sendfile(s, file, &off, sizeof data - (size_t)sent);
        if (n <= 0)
            break;
        sent += n;
    }
    check("sendfile sends the file", sent == (ssize_t)sizeof data);
    check("... and it comes back whole", read_all(s, buf, sizeof data) == 0 &&
                                             !memcmp(buf, data, sizeof data));

    int p[2];
    check("pipe", pipe(p) == 0);
    check("splice from a pipe into the socket",
          write(p[1], "spliced\n", 8) == 8 && splice(p[0], NULL, s, NULL, 8, 0) == 8);
    check("splice from the socket into a pipe",
          splice(s, NULL, p[1], NULL, 8, 0) == 8 && read(p[0], buf, 8) == 8 &&
              !memcmp(buf, "spliced\n", 8));

    /* libuv closes with the raw syscall: the number is then a file's */
    check("syscall(SYS_close)", syscall(SYS_close, s) == 0);
    int again = open("/proc/self/comm", O_RDONLY);
    ssize_t n = read(again, buf, sizeof buf);
    check("the fd number reused by a file reads the file",
          again == s && n > 0 && !memcmp(buf, "rawio", 5));
    socklen_t len = sizeof buf;
    check("... and is no socket", getsockname(again, (struct sockaddr *)buf, &len) < 0 &&
                                      errno == ENOTSOCK);
    return failed;
}
