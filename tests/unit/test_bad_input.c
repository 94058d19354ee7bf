/* Hostile input: every malformed packet is dropped and counted by reason,
 * or answered exactly as the RFCs say; nothing crashes, leaks, or breaks
 * the connections that are there. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "probe.h"
#include "rng.h"
#include "test.h"

/* A reference RFC 1071 checksum, independent of the code under test. */
static uint16_t ref_csum(const uint8_t *b, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1)
        sum += (uint32_t)b[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Recomputes both checksums of an IPv4+TCP packet after a test edited it;
 * the TCP length is taken from the IP total length. */
static void fix_checksums(uint8_t *pkt)
{
    size_t ihl = (size_t)(pkt[0] & 15) * 4;
    size_t total = (size_t)(pkt[2] << 8 | pkt[3]);
    pkt[10] = pkt[11] = 0;
    uint16_t c = ref_csum(pkt, ihl, 0);
    pkt[10] = (uint8_t)(c >> 8);
    pkt[11] = (uint8_t)c;
    size_t tcp_len = total - ihl;
    uint8_t *tcp = pkt + ihl;
    tcp[16] = tcp[17] = 0;
    uint32_t pseudo = (uint32_t)(pkt[12] << 8 | pkt[13]) + (uint32_t)(pkt[14] << 8 | pkt[15]) +
                      (uint32_t)(pkt[16] << 8 | pkt[17]) + (uint32_t)(pkt[18] << 8 | pkt[19]) +
                      6 + (uint32_t)tcp_len;
    c = ref_csum(tcp, tcp_len, pseudo);
    tcp[16] = (uint8_t)(c >> 8);
    tcp[17] = (uint8_t)c;
}

/* A valid SYN with options (MSS, SACK-permitted, TS, WS) to port 80. */
static size_t good_syn(uint8_t *pkt, size_t cap)
{
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, TCP_SYN, 65535);
    s.opt = (struct tcp_options){ .has_mss = true, .mss = 1460, .sack_permitted = true,
                                  .has_ts = true, .ts_val = 1, .has_wscale = true, .wscale = 7 };
    return tcp_build_packet(pkt, cap, PROBE_PEER_ADDR, PROBE_STACK_ADDR, 1, &s, NULL);
}

static void inject(struct probe *p, const uint8_t *pkt, size_t len)
{
    p->wire->send(p->wire, pkt, len);
    stack_receive(p->stack, p->now);
}

TEST(bad_input_the_reference_packet_is_good)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    fix_checksums(pkt); /* the reference agrees with the builder */
    inject(&p, pkt, n);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    CHECK_EQ(r.flags, TCP_SYN | TCP_ACK);
    probe_free(&p);
}

TEST(bad_input_truncated_at_every_length_is_dropped_and_counted)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    for (size_t len = 1; len < n; len++)   /* a link has no empty packets */
        inject(&p, pkt, len);
    CHECK(probe_silent(&p));
    uint64_t dropped = probe_drops(&p, DROP_IP_SHORT) + probe_drops(&p, DROP_IP_TOTLEN) +
                       probe_drops(&p, DROP_IP_HDRLEN);
    CHECK_EQ(dropped, n - 1);
    probe_free(&p);
}

static void expect_drop(struct probe *p, uint8_t *pkt, size_t n, enum drop_reason why)
{
    uint64_t before = probe_drops(p, why);
    inject(p, pkt, n);
    CHECK_MSG(probe_drops(p, why) == before + 1, "not counted as %s", drop_reason_name(why));
    CHECK(probe_silent(p));
}

TEST(bad_input_ip_checksum_wrong)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[10] ^= 0x55;
    expect_drop(&p, pkt, n, DROP_IP_CHECKSUM);
    probe_free(&p);
}

TEST(bad_input_tcp_checksum_wrong)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[20 + 16] ^= 0x55;
    expect_drop(&p, pkt, n, DROP_TCP_CHECKSUM);
    probe_free(&p);
}

TEST(bad_input_ip_version_and_header_length)
{
    struct probe p;
    probe_init(&p, NULL);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[0] = 0x65; /* version 6 */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_IP_VERSION);
    n = good_syn(pkt, sizeof pkt);
    pkt[0] = 0x44; /* IHL 4 */
    expect_drop(&p, pkt, n, DROP_IP_HDRLEN);
    n = good_syn(pkt, sizeof pkt);
    pkt[0] = 0x4f; /* IHL 15: 60 bytes, beyond this packet's options */
    pkt[2] = 0;
    pkt[3] = 50;
    expect_drop(&p, pkt, 50, DROP_IP_HDRLEN);
    probe_free(&p);
}

TEST(bad_input_fragments_are_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[6] = 0x20; /* MF */
    pkt[7] = 0;
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_IP_FRAGMENT);
    n = good_syn(pkt, sizeof pkt);
    pkt[6] = 0x00;
    pkt[7] = 0x10; /* offset 16 */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_IP_FRAGMENT);
    probe_free(&p);
}

TEST(bad_input_other_destination_is_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[19] = 99; /* 10.0.0.99 */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_IP_NOT_LOCAL);
    probe_free(&p);
}

/* The crash of a packet from 0.0.0.0 port 0 to a listening port: it named
 * the listener's own key in the connection table. */
TEST(rfc1122_3_2_1_3_datagrams_from_impossible_sources_are_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 5);
    static const uint32_t sources[] = { 0, 0xffffffff, 0xe0000001, 0xf0000001 };
    for (size_t i = 0; i < sizeof sources / sizeof sources[0]; i++) {
        uint8_t pkt[128];
        size_t n = good_syn(pkt, sizeof pkt);
        pkt[12] = (uint8_t)(sources[i] >> 24);
        pkt[13] = (uint8_t)(sources[i] >> 16);
        pkt[14] = (uint8_t)(sources[i] >> 8);
        pkt[15] = (uint8_t)sources[i];
        pkt[20] = pkt[21] = 0;   /* source port 0 */
        fix_checksums(pkt);
        expect_drop(&p, pkt, n, DROP_IP_SOURCE);
    }
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

TEST(bad_input_tcp_data_offset_overruns_or_too_small)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[20 + 12] = 0xf0; /* 60 bytes of header in a shorter segment */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_TCP_DATAOFF);
    n = good_syn(pkt, sizeof pkt);
    pkt[20 + 12] = 0x40; /* 16 bytes: less than the fixed header */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_TCP_DATAOFF);
    probe_free(&p);
}

TEST(bad_input_tcp_option_length_zero_or_overrunning)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    size_t hl = (size_t)(pkt[20 + 12] >> 4) * 4;
    pkt[20 + 20] = 2;  /* the first option: MSS ... */
    pkt[20 + 21] = 0;  /* ... with length 0 */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_TCP_OPTIONS);
    n = good_syn(pkt, sizeof pkt);
    memset(pkt + 20 + 20, 1, hl - 20);         /* NOPs ... */
    pkt[20 + hl - 2] = 8;                       /* ... then TS, 10 bytes, */
    pkt[20 + hl - 1] = 10;                      /* with 2 left */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_TCP_OPTIONS);
    n = good_syn(pkt, sizeof pkt);
    memset(pkt + 20 + 20, 1, hl - 20);
    pkt[20 + 20] = 3;  /* window scale ... */
    pkt[20 + 21] = 4;  /* ... with the wrong length */
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_TCP_OPTIONS);
    probe_free(&p);
}

TEST(bad_input_syn_fin_is_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    pkt[20 + 13] |= TCP_FIN;
    fix_checksums(pkt);
    expect_drop(&p, pkt, n, DROP_TCP_FLAGS);
    probe_free(&p);
}

TEST(bad_input_unknown_options_are_skipped_by_length)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    uint8_t pkt[128];
    size_t n = good_syn(pkt, sizeof pkt);
    size_t hl = (size_t)(pkt[20 + 12] >> 4) * 4;
    memset(pkt + 20 + 20, 1, hl - 20);
    pkt[20 + 20] = 99;  /* unknown kind, length 4 */
    pkt[20 + 21] = 4;
    fix_checksums(pkt);
    inject(&p, pkt, n);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    CHECK_EQ(r.flags, TCP_SYN | TCP_ACK);
    probe_free(&p);
}

TEST(bad_input_random_and_mutated_packets_break_nothing)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK(c.sock != NULL);
    uint64_t seed = 42;
    uint8_t pkt[1600], good[128];
    size_t good_len = good_syn(good, sizeof good);
    for (int i = 0; i < 20000; i++) {
        size_t n;
        if (i & 1) {
            /* random bytes behind a plausible IPv4 header */
            n = (size_t)(rng_next(&seed) % sizeof pkt);
            for (size_t j = 0; j < n; j++)
                pkt[j] = (uint8_t)rng_next(&seed);
            if (n >= 20) {
                pkt[0] = 0x45;
                pkt[2] = (uint8_t)(n >> 8);
                pkt[3] = (uint8_t)n;
                pkt[6] = pkt[7] = 0;
                pkt[9] = (i & 2) ? 6 : 1;
                memcpy(pkt + 12, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
                if (n >= 40 && (i & 4)) {
                    pkt[20] = 0x9c; pkt[21] = 0x40; /* from the connection's port */
                    pkt[22] = 0; pkt[23] = 80;
                }
                if (n >= 40)
                    fix_checksums(pkt);
            }
        } else {
            /* a valid SYN with a few bytes flipped, checksums made right */
            n = good_len;
            memcpy(pkt, good, n);
            for (int k = 0; k < 3; k++)
                pkt[20 + rng_next(&seed) % (n - 20)] ^= (uint8_t)rng_next(&seed);
            fix_checksums(pkt);
        }
        inject(&p, pkt, n);
        while (!probe_silent(&p))
            ;
    }
    /* the stack still works: a fresh connection carries data */
    struct peer d;
    peer_passive_open(&p, &d, 81, NULL);
    CHECK(d.sock != NULL);
    peer_send_data(&p, &d, "alive", 5, TCP_PSH);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, d.sock, buf, sizeof buf, 0, p.now), 5);
    probe_free(&p);
}
