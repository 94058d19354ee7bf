/* Moves N MiB from one stack to another over the in-memory link, on the
 * real monotonic clock, and prints the throughput.
 * usage: bench_mem [MiB [MTU]] */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "link_mem.h"
#include "stack.h"

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_mem: %s\n", what);
    exit(1);
}

int main(int argc, char **argv)
{
    uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
    uint32_t mtu = argc > 2 ? (uint32_t)strtoul(argv[2], NULL, 10) : 1500;
    uint64_t total = mib << 20;
    uint64_t now = mono_us();

    struct link_mem *link = link_mem_new(mtu, NULL, &now);
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.tcp.sndbuf = cfg.tcp.rcvbuf = 4 << 20;
    cfg.addr = 0x0a000001;
    struct stack *a = stack_new(&cfg, link_mem_end(link, 0));
    cfg.addr = 0x0a000002;
    struct stack *b = stack_new(&cfg, link_mem_end(link, 1));
    if (!link || !a || !b)
        fail("cannot create the stacks");

    struct sock *lis, *srv = NULL, *cli;
    stack_socket(b, &lis);
    stack_bind(b, lis, 0x0a000002, 5001);
    stack_listen(b, lis, 1);
    stack_socket(a, &cli);
    stack_connect(a, cli, 0x0a000002, 5001, now);

    static uint8_t chunk[1 << 16], sink[1 << 16];
    memset(chunk, 0xa5, sizeof chunk);
    uint64_t sent = 0, received = 0, start = 0;
    while (received < total) {
        now = mono_us();
        stack_receive(b, now);
        stack_receive(a, now);
        if (!srv && stack_accept(b, lis, &srv) == 0)
            start = mono_us();
        while (srv && sent < total) {
            size_t n = total - sent < sizeof chunk ? total - sent : sizeof chunk;
            ssize_t k = stack_send(a, cli, chunk, n, now);
            if (k <= 0)
                break;
            sent += (uint64_t)k;
        }
        for (ssize_t k; srv && (k = stack_recv(b, srv, sink, sizeof sink, 0, now)) > 0;)
            received += (uint64_t)k;
        uint64_t da = stack_next_deadline(a), db = stack_next_deadline(b);
        if (da && da <= now)
            stack_timers(a, now);
        if (db && db <= now)
            stack_timers(b, now);
    }
    double secs = (double)(mono_us() - start) / 1e6;
    struct stack_stats st;
    stack_get_stats(a, &st);
    printf("bench_mem: %llu MiB, MTU %u: %.3f s, %.2f Gbit/s, %llu segments, %llu retransmitted\n",
           (unsigned long long)mib, mtu, secs, (double)total * 8 / secs / 1e9,
           (unsigned long long)st.tcp.data_segs_out,
           (unsigned long long)st.tcp.retrans_segs);
    stack_close(a, cli, now);
    stack_close(b, srv, now);
    stack_close(b, lis, now);
    stack_free(a);
    stack_free(b);
    link_mem_free(link);
    return 0;
}
