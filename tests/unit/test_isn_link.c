/* RFC 6528 ISNs, SipHash-2-4, and the in-memory link's impairments. */
#include <errno.h>
#include <string.h>

#include "impair.h"
#include "isn.h"
#include "link_mem.h"
#include "test.h"

static const struct isn_key ref_key = { 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull };

TEST(siphash24_matches_the_reference_vectors)
{
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    /* SipHash paper, appendix A and the reference vectors.h */
    CHECK(siphash24(&ref_key, msg, 0) == 0x726fdb47dd0e0e31ull);
    CHECK(siphash24(&ref_key, msg, 15) == 0xa129ca6149be45e5ull);
}

TEST(rfc6528_isn_is_keyed_per_tuple_and_advances_every_4us)
{
    struct tcp_endpoints ep = { 0x0a000001, 0x0a000002, 1000, 80 };
    struct tcp_endpoints other = ep;
    other.rport = 81;
    struct isn_key key2 = ref_key;
    key2.k0 ^= 1;
    uint32_t isn = isn_generate(&ref_key, &ep, 1000000);
    CHECK_EQ(isn_generate(&ref_key, &ep, 1000000), isn);
    CHECK_EQ(isn_generate(&ref_key, &ep, 1000004), isn + 1);
    CHECK(isn_generate(&ref_key, &other, 1000000) != isn);
    CHECK(isn_generate(&key2, &ep, 1000000) != isn);
}

TEST(isn_key_random_fills_the_key)
{
    struct isn_key a = { 0 }, b = { 0 };
    CHECK_EQ(isn_key_random(&a), 0);
    CHECK_EQ(isn_key_random(&b), 0);
    CHECK(a.k0 != b.k0 || a.k1 != b.k1);
}

static ssize_t recv_one(struct link *l, uint8_t *buf)
{
    return l->recv(l, buf, 2000);
}

TEST(link_mem_delivers_in_order_after_the_delay)
{
    uint64_t now = 100;
    struct link_mem_impair imp = { .delay_us = 50 };
    struct link_mem *m = link_mem_new(1500, &imp, &now);
    struct link *a = link_mem_end(m, 0), *b = link_mem_end(m, 1);
    uint8_t buf[2000];
    CHECK_EQ(a->send(a, (const uint8_t *)"one", 3), 0);
    CHECK_EQ(a->send(a, (const uint8_t *)"two", 3), 0);
    CHECK_EQ(b->send(b, (const uint8_t *)"back", 4), 0);
    CHECK_EQ(link_mem_next_delivery(m), 150);
    CHECK_EQ(recv_one(b, buf), 0);               /* not yet */
    now = 150;
    CHECK_EQ(recv_one(b, buf), 3);
    CHECK(memcmp(buf, "one", 3) == 0);
    CHECK_EQ(recv_one(b, buf), 3);
    CHECK(memcmp(buf, "two", 3) == 0);
    CHECK_EQ(recv_one(b, buf), 0);
    CHECK_EQ(recv_one(a, buf), 4);
    CHECK_EQ(link_mem_next_delivery(m), 0);
    CHECK_EQ(a->send(a, buf, 1501), -EMSGSIZE);
    link_mem_free(m);
}

TEST(link_mem_impairments_are_counted_and_repeat_with_the_seed)
{
    uint64_t now = 1;
    struct link_mem_impair imp = {
        .loss = 0.2, .dup = 0.1, .reorder = 0.2, .corrupt = 0.1,
        .reorder_us = 100, .seed = 42,
    };
    struct link_mem_stats st[2];
    for (int run = 0; run < 2; run++) {
        struct link_mem *m = link_mem_new(1500, &imp, &now);
        struct link *a = link_mem_end(m, 0), *b = link_mem_end(m, 1);
        uint8_t pkt[100] = { 0 }, buf[2000];
        for (int i = 0; i < 1000; i++)
            a->send(a, pkt, sizeof pkt);
        now += 1000;
        unsigned flipped = 0;
        ssize_t n;
        while ((n = recv_one(b, buf)) > 0) {
            CHECK_EQ(n, 100);
            for (int i = 0; i < 100; i++)
                flipped += (unsigned)__builtin_popcount(buf[i]);
        }
        link_mem_stats(m, &st[run]);
        CHECK_EQ(flipped, st[run].corrupted);    /* one bit per corrupted copy */
        CHECK_EQ(st[run].delivered, st[run].sent - st[run].lost + st[run].duplicated);
        CHECK(st[run].lost > 100 && st[run].lost < 300);
        CHECK(st[run].duplicated > 0 && st[run].reordered > 0);
        link_mem_free(m);
    }
    CHECK(memcmp(&st[0], &st[1], sizeof st[0]) == 0);
}

TEST(link_mem_queue_limit_drops_the_excess)
{
    uint64_t now = 1;
    struct link_mem_impair imp = { .queue_limit = 3 };
    struct link_mem *m = link_mem_new(1500, &imp, &now);
    struct link *a = link_mem_end(m, 0);
    for (int i = 0; i < 5; i++)
        a->send(a, (const uint8_t *)"x", 1);
    struct link_mem_stats st;
    link_mem_stats(m, &st);
    CHECK_EQ(st.overflow, 2);
    link_mem_free(m);
}

/* impair.c over an in-memory link: what end 0 sends through the impairer
 * arrives at end 1; what end 1 sends arrives through the impairer. */
struct impaired {
    uint64_t now;
    struct link_mem *m;
    struct impair_link il;
};

static void impaired_init(struct impaired *t, double loss, double dup, double reorder)
{
    t->now = 1;
    t->m = link_mem_new(1500, NULL, &t->now);
    struct impair_config cfg = { .loss = loss, .dup = dup, .reorder = reorder, .seed = 3 };
    impair_init(&t->il, link_mem_end(t->m, 0), &cfg);
}

static void impaired_free(struct impaired *t)
{
    impair_free(&t->il);
    link_mem_free(t->m);
}

static void send_bytes(struct link *l, uint8_t first, int count)
{
    for (int i = 0; i < count; i++) {
        uint8_t b = (uint8_t)(first + i);
        l->send(l, &b, 1);
    }
}

TEST(impair_loss_drops_both_directions)
{
    struct impaired t;
    impaired_init(&t, 1.0, 0, 0);
    uint8_t buf[8];
    send_bytes(&t.il.link, 0, 5);
    CHECK_EQ(recv_one(link_mem_end(t.m, 1), buf), 0);
    send_bytes(link_mem_end(t.m, 1), 0, 5);
    CHECK_EQ(t.il.link.recv(&t.il.link, buf, sizeof buf), 0);
    impaired_free(&t);
}

TEST(impair_duplication_delivers_twice)
{
    struct impaired t;
    impaired_init(&t, 0, 1.0, 0);
    uint8_t buf[8];
    send_bytes(&t.il.link, 7, 1);
    CHECK_EQ(recv_one(link_mem_end(t.m, 1), buf), 1);
    CHECK_EQ(recv_one(link_mem_end(t.m, 1), buf), 1);
    CHECK_EQ(recv_one(link_mem_end(t.m, 1), buf), 0);
    send_bytes(link_mem_end(t.m, 1), 9, 1);
    CHECK_EQ(t.il.link.recv(&t.il.link, buf, sizeof buf), 1);
    CHECK_EQ(t.il.link.recv(&t.il.link, buf, sizeof buf), 1);
    CHECK_EQ(buf[0], 9);
    impaired_free(&t);
}

TEST(impair_reordering_swaps_with_the_next_packet_and_flush_sends_the_last)
{
    struct impaired t;
    impaired_init(&t, 0, 0, 1.0);
    uint8_t buf[8];
    struct link *far = link_mem_end(t.m, 1);
    send_bytes(&t.il.link, 1, 2);          /* 1 is held, 2 goes, then 1 */
    CHECK(recv_one(far, buf) == 1 && buf[0] == 2);
    CHECK(recv_one(far, buf) == 1 && buf[0] == 1);
    send_bytes(&t.il.link, 3, 1);          /* held: nothing follows */
    CHECK_EQ(recv_one(far, buf), 0);
    impair_flush(&t.il);
    CHECK(recv_one(far, buf) == 1 && buf[0] == 3);
    send_bytes(far, 4, 2);                 /* incoming: 5 before 4 */
    CHECK(t.il.link.recv(&t.il.link, buf, sizeof buf) == 1 && buf[0] == 5);
    CHECK(t.il.link.recv(&t.il.link, buf, sizeof buf) == 1 && buf[0] == 4);
    impaired_free(&t);
}
