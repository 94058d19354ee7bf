/* The tcp layer alone: two connections back to back on a virtual clock. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_pair.h"
#include "test.h"

#define SEC 1000000ull

struct transfer {
    int from;
    const uint8_t *src;
    uint8_t *dst;
    size_t len, sent, got;
    bool close_after;
};

static bool transfer_step(struct tcp_pair *p, void *ctx)
{
    struct transfer *t = ctx;
    struct tcp_conn *tx = &p->conn[t->from], *rx = &p->conn[!t->from];
    while (t->sent < t->len) {
        ssize_t n = tcp_send(tx, t->src + t->sent, t->len - t->sent, p->now);
        if (n <= 0)
            break;
        t->sent += n;
    }
    if (t->sent == t->len && t->close_after && !tx->fin_queued)
        tcp_close(tx, p->now);
    for (;;) {
        ssize_t n = tcp_recv(rx, t->dst + t->got, t->len - t->got + 1, false, p->now);
        if (n <= 0)
            break;
        t->got += n;
    }
    return t->got >= t->len && (!t->close_after || rx->fin_received);
}

static uint8_t *pattern(size_t len, unsigned seed)
{
    uint8_t *b = malloc(len);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        b[i] = (uint8_t)x;
    }
    return b;
}

static bool both_established(struct tcp_pair *p, void *ctx)
{
    (void)ctx;
    return p->conn[0].state == TCP_ESTABLISHED && p->conn[1].state == TCP_ESTABLISHED;
}

TEST(tcp_rfc9293_three_way_handshake_with_options)
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    pair_connect(&p);
    CHECK(pair_run(&p, both_established, NULL, SEC));
    CHECK(p.conn[0].ts_on && p.conn[1].ts_on);
    CHECK(p.conn[0].ws_on && p.conn[1].ws_on);
    CHECK_EQ(p.conn[0].snd_mss, 1460 - 12);
    CHECK_EQ(p.conn[1].rcv_nxt, p.conn[0].iss + 1);
    CHECK_EQ(p.conn[0].rcv_nxt, p.conn[1].iss + 1);
    CHECK_EQ(p.sent[0], 2); /* SYN, ACK */
    CHECK_EQ(p.sent[1], 1); /* SYN-ACK */
    pair_free(&p);
}

/* Moves len bytes from p->conn[from] to the other, which then closes;
 * checks that they arrived. */
static void transfer(struct tcp_pair *p, uint64_t seed, size_t len, int from)
{
    pair_connect(p);
    struct transfer t = { .from = from, .src = pattern(len, (unsigned)seed), .len = len, .close_after = true };
    t.dst = malloc(len + 1);
    bool ok = pair_run(p, transfer_step, &t, 600 * SEC);
    test_context("seed %llu: sent %zu got %zu states %s/%s", (unsigned long long)seed,
                 t.sent, t.got, tcp_state_name(p->conn[0].state), tcp_state_name(p->conn[1].state));
    size_t diff = 0;
    while (diff < len && t.src[diff] == t.dst[diff])
        diff++;
    free((void *)t.src);
    free(t.dst);
    CHECK(ok);
    CHECK_MSG(diff == len, "seed %llu: received data differs at byte %zu",
              (unsigned long long)seed, diff);
}

static void run_transfer(uint64_t seed, size_t len, int from, bool (*filter)(struct tcp_pair *, int, const struct tcp_segment *))
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    p.filter = filter;
    p.filter_ctx = &seed;
    transfer(&p, seed, len, from);
    pair_free(&p);
}

TEST(tcp_transfer_1mb_each_direction_perfect_link)
{
    run_transfer(1, 1 << 20, 0, NULL);
    run_transfer(2, 1 << 20, 1, NULL);
}

/* Buffer memory comes as data needs it (tcp_mem.c): a bulk transfer's
 * buffers grow to their full size (the sender's with its scoreboard's
 * records), and none is held once the data is delivered and the stream
 * closed. */
TEST(linux_tcp_mem_a_bulk_transfer_grows_the_buffers_to_full_size_and_frees_them_when_done)
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    transfer(&p, 1, 1 << 20, 0);
    const struct tcp_stats *tx = &p.host[0].host.stats, *rx = &p.host[1].host.stats;
    CHECK_EQ(tx->buffer_peak_bytes, p.cfg.sndbuf + TCP_SB_BYTES);
    CHECK_EQ(rx->buffer_peak_bytes, p.cfg.rcvbuf);
    CHECK_EQ(tx->buffer_bytes + rx->buffer_bytes, 0);
    pair_free(&p);
}

static uint64_t rng_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull;
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static bool lossy(struct tcp_pair *p, int from, const struct tcp_segment *seg)
{
    (void)from; (void)seg;
    return rng_next(p->filter_ctx) % 100 >= 10;
}

TEST(tcp_transfer_1mb_with_10pct_loss)
{
    for (uint64_t seed = 1; seed <= 5; seed++)
        run_transfer(seed, 1 << 20, (int)(seed & 1), lossy);
}

static bool all_closed(struct tcp_pair *p, void *ctx)
{
    (void)ctx;
    return p->conn[0].state == TCP_CLOSED && p->conn[1].state == TCP_CLOSED;
}

TEST(tcp_rfc9293_active_close_passes_time_wait)
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    pair_connect(&p);
    tcp_close(&p.conn[0], p.now);
    CHECK_EQ(p.conn[0].state, TCP_FIN_WAIT_1);
    pair_deliver(&p);
    CHECK_EQ(p.conn[0].state, TCP_FIN_WAIT_2);
    CHECK_EQ(p.conn[1].state, TCP_CLOSE_WAIT);
    CHECK(tcp_poll(&p.conn[1]) & POLLRDHUP);
    tcp_close(&p.conn[1], p.now);
    CHECK_EQ(p.conn[1].state, TCP_LAST_ACK);
    pair_deliver(&p);
    CHECK_EQ(p.conn[0].state, TCP_TIME_WAIT);
    CHECK_EQ(p.conn[1].state, TCP_CLOSED);
    uint64_t start = p.now;
    CHECK(pair_run(&p, all_closed, NULL, 1000 * SEC));
    CHECK_EQ(p.now - start, 2 * p.cfg.msl_us);
    pair_free(&p);
}

TEST(tcp_rfc9293_simultaneous_close_goes_through_closing)
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    pair_connect(&p);
    tcp_close(&p.conn[0], p.now);
    tcp_close(&p.conn[1], p.now);
    pair_deliver(&p);
    CHECK_EQ(p.conn[0].state, TCP_TIME_WAIT);
    CHECK_EQ(p.conn[1].state, TCP_TIME_WAIT);
    CHECK(pair_run(&p, all_closed, NULL, 1000 * SEC));
    pair_free(&p);
}

TEST(tcp_rfc9293_simultaneous_open)
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    tcp_open_active(&p.conn[0], 1000, p.now);
    tcp_open_active(&p.conn[1], 5000, p.now);
    pair_deliver(&p);
    CHECK(pair_run(&p, both_established, NULL, 10 * SEC));
    CHECK_EQ(p.conn[0].snd_una, 1001);
    CHECK_EQ(p.conn[1].snd_una, 5001);
    pair_free(&p);
}

static bool fill_send_buffer_of_side_0(struct tcp_pair *p, void *ctx)
{
    static const uint8_t junk[16384];
    (void)ctx;
    while (tcp_send(&p->conn[0], junk, sizeof junk, p->now) > 0)
        ;
    return false;
}

TEST(tcp_rfc9293_3_10_7_4_reverse_data_flows_while_a_zero_window_is_probed)
{
    struct tcp_pair p;
    pair_init(&p, NULL);
    pair_connect(&p);
    /* Side 1 never reads: side 0 fills its window and probes it. */
    pair_run(&p, fill_send_buffer_of_side_0, NULL, 5 * SEC);
    CHECK(p.conn[0].persist);
    /* the probe octet, or what the last window, rounded up to its scale
     * (1 << 7 with a buffer that may grow to 6 MiB), let through */
    CHECK(p.conn[0].snd_max - p.conn[0].snd_una < 128);
    /* Side 1 sends 1 MB back: side 0's ACKs must pass side 1's
     * acceptability test (20 KB of it arrived in these 10 s when they
     * carried the sequence number after the probe octet). */
    size_t len = 1 << 20;
    struct transfer t = { .from = 1, .src = pattern(len, 3), .len = len };
    t.dst = malloc(len + 1);
    bool ok = pair_run(&p, transfer_step, &t, 10 * SEC);
    test_context("got %zu of %zu", t.got, len);
    free((void *)t.src);
    free(t.dst);
    pair_free(&p);
    CHECK(ok);
}
