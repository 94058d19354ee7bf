/* The wire layer: checksums against a reference, every drop reason of the
 * parsers, and build -> parse round trips. */
#include <string.h>

#include "bytes.h"
#include "rng.h"
#include "test.h"
#include "wire.h"

#define A1 0x0a000001u   /* 10.0.0.1 */
#define A2 0x0a000002u   /* 10.0.0.2 */

/* RFC 1071 by the book: big-endian 16-bit words, a trailing byte padded. */
static uint32_t ref_sum(const uint8_t *b, size_t n, bool odd_start)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        bool high = ((i + (odd_start ? 1 : 0)) % 2) == 0;
        sum += high ? (uint32_t)b[i] << 8 : b[i];
    }
    return sum;
}

static uint16_t fold_only(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

/* Ones'-complement equality: 0 and 0xffff are both zero. */
static bool same_sum(uint32_t a, uint32_t b)
{
    return fold_only(a) % 0xffff == fold_only(b) % 0xffff;
}

static void fill_random(uint8_t *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng_next(&seed);
}

TEST(rfc1071_checksum_example)
{
    /* RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
    const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    CHECK_EQ(fold_only(csum_partial(b, sizeof b, 0)), 0xddf2);
    CHECK_EQ(csum_fold(csum_partial(b, sizeof b, 0)), (uint16_t)~0xddf2);
}

TEST(rfc1071_checksum_matches_reference_at_every_length_and_alignment)
{
    uint8_t src[600], dst[600];
    fill_random(src, sizeof src, 7);
    for (size_t off = 0; off < 8; off++) {
        for (size_t len = 0; len + off <= 520; len++) {
            uint16_t want = fold_only(ref_sum(src + off, len, false));
            CHECK_EQ(csum_fold(csum_partial(src + off, len, 0)), (uint16_t)~want);
            /* the copying sum, for data at an even and an odd offset */
            for (int odd = 0; odd < 2; odd++) {
                uint32_t s = csum_copy(dst + 1 + off, src + off, len, 0, odd);
                CHECK_EQ(fold_only(s), fold_only(ref_sum(src + off, len, odd)));
                CHECK(memcmp(dst + 1 + off, src + off, len) == 0);
            }
        }
    }
}

TEST(rfc1071_checksum_all_ones_data_and_saturated_partial_sums)
{
    /* the carries of the wide accumulator and of a chained 32-bit sum go
     * back in at the bottom (RFC 1071 2(C)) */
    uint8_t ff[4096];
    memset(ff, 0xff, sizeof ff);
    for (size_t len = 0; len <= sizeof ff; len += 511) {
        CHECK(same_sum(csum_partial(ff, len, 0), ref_sum(ff, len, false)));
        /* 0xffffffff is a ones'-complement zero */
        CHECK(same_sum(csum_partial(ff, len, 0xffffffffu), ref_sum(ff, len, false)));
    }
    /* 0xfffffff0 = 0xfff0 (mod 0xffff) */
    uint8_t dst[sizeof ff];
    CHECK(same_sum(csum_copy(dst, ff, 1001, 0xfffffff0u, true),
                   ref_sum(ff, 1001, true) + 0xfff0));
}

TEST(rfc1071_chained_pieces_at_random_splits_match_one_sum)
{
    /* a payload copied in pieces (as from a wrapping ring buffer) sums as
     * the whole when each piece is told whether it starts at an odd offset */
    uint8_t src[3000], dst[3000];
    uint64_t seed = 99;
    for (int round = 0; round < 500; round++) {
        fill_random(src, sizeof src, seed);
        size_t len = (size_t)(rng_next(&seed) % sizeof src);
        size_t split = len ? (size_t)(rng_next(&seed) % (len + 1)) : 0;
        uint32_t s = csum_copy(dst, src, split, 0, false);
        s = csum_copy(dst + split, src + split, len - split, s, split & 1);
        CHECK_MSG(same_sum(s, ref_sum(src, len, false)), "len %zu split %zu", len, split);
        CHECK(memcmp(dst, src, len) == 0);
    }
}

/* ---- IPv4 ---- */

/* Recomputes the header checksum after a test edited the header. */
static void reseal_ip(uint8_t *pkt)
{
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    put_be16(pkt + 10, 0);
    put_be16(pkt + 10, csum_fold(csum_partial(pkt, ihl, 0)));
}

TEST(rfc791_ipv4_build_parse_round_trip)
{
    uint8_t pkt[64];
    memset(pkt, 0xee, sizeof pkt);
    ipv4_build_header(pkt, A1, A2, IPPROTO_TCP_, 0xbeef, 20, 0, 0);
    CHECK_EQ(pkt[0], 0x45);
    CHECK_EQ(get_be16(pkt + 6), 0x4000);   /* DF, offset 0 */
    struct ipv4_packet ip;
    CHECK_EQ(ipv4_parse(pkt, 40, &ip), DROP_NONE);
    CHECK_EQ(ip.src, A1);
    CHECK_EQ(ip.dst, A2);
    CHECK_EQ(ip.proto, IPPROTO_TCP_);
    CHECK_EQ(ip.ttl, 64);
    CHECK_EQ(ip.tos, 0);
    CHECK_EQ(ip.id, 0xbeef);
    CHECK(ip.header == pkt && ip.header_len == 20);
    CHECK(ip.payload == pkt + 20 && ip.payload_len == 20);
}

TEST(rfc791_ipv4_checks_and_skips_options)
{
    uint8_t pkt[64] = { 0 };
    ipv4_build_header(pkt, A1, A2, IPPROTO_ICMP_, 9, 8, 0, 0);
    struct ipv4_packet ip;
    CHECK_EQ(ipv4_parse(pkt, 28, &ip), DROP_NONE);
    CHECK_EQ(ip.payload_len, 8);
    /* link padding after the total length is ignored */
    CHECK_EQ(ipv4_parse(pkt, 40, &ip), DROP_NONE);
    CHECK_EQ(ip.payload_len, 8);
    /* a header with 4 bytes of options (NOP NOP NOP EOL) */
    uint8_t opt[64] = { 0 };
    memcpy(opt, pkt, 20);
    opt[0] = 0x46;
    put_be16(opt + 2, 32);
    opt[20] = opt[21] = opt[22] = 1;
    memcpy(opt + 24, "payload!", 8);
    reseal_ip(opt);
    CHECK_EQ(ipv4_parse(opt, 32, &ip), DROP_NONE);
    CHECK_EQ(ip.header_len, 24);
    CHECK(ip.payload_len == 8 && memcmp(ip.payload, "payload!", 8) == 0);
    /* the checksum covers the options */
    opt[21] ^= 1;
    CHECK_EQ(ipv4_parse(opt, 32, &ip), DROP_IP_CHECKSUM);
}

TEST(rfc791_ipv4_every_drop_reason)
{
    uint8_t good[40] = { 0 }, p[40];
    ipv4_build_header(good, A1, A2, IPPROTO_TCP_, 1, 20, 0, 0);
    struct ipv4_packet ip;
#define MUTATED(edit) (memcpy(p, good, sizeof p), (edit), reseal_ip(p), ipv4_parse(p, 40, &ip))
    CHECK_EQ(ipv4_parse(good, 40, &ip), DROP_NONE);
    for (size_t n = 0; n < 20; n++)
        CHECK_EQ(ipv4_parse(good, n, &ip), DROP_IP_SHORT);
    CHECK_EQ(MUTATED(p[0] = 0x65), DROP_IP_VERSION);
    CHECK_EQ(MUTATED(p[0] = 0x44), DROP_IP_HDRLEN);          /* IHL < 5 */
    CHECK_EQ(MUTATED(p[0] = 0x40), DROP_IP_HDRLEN);
    CHECK_EQ(MUTATED((p[0] = 0x46, put_be16(p + 2, 20))), DROP_IP_HDRLEN); /* > total */
    CHECK_EQ(MUTATED(put_be16(p + 2, 19)), DROP_IP_TOTLEN);  /* < the header */
    CHECK_EQ(MUTATED(put_be16(p + 2, 41)), DROP_IP_TOTLEN);  /* > the buffer */
    CHECK_EQ(ipv4_parse(good, 39, &ip), DROP_IP_TOTLEN);
    CHECK_EQ(MUTATED(put_be16(p + 6, 0x2000)), DROP_IP_FRAGMENT);  /* MF */
    CHECK_EQ(MUTATED(put_be16(p + 6, 0x0001)), DROP_IP_FRAGMENT);  /* offset */
    CHECK_EQ(MUTATED(put_be16(p + 6, 0x1fff)), DROP_IP_FRAGMENT);
    CHECK_EQ(MUTATED(put_be16(p + 6, 0x0000)), DROP_NONE);         /* DF clear */
    memcpy(p, good, sizeof p);
    p[12] ^= 0x80;
    CHECK_EQ(ipv4_parse(p, 40, &ip), DROP_IP_CHECKSUM);
    /* the destination is the stack's business, not the parser's */
    CHECK_EQ(MUTATED(put_be32(p + 16, 0xc0a80001)), DROP_NONE);
#undef MUTATED
}

/* ---- TCP ---- */

static size_t build(uint8_t *pkt, size_t cap, const struct tcp_segment *s,
                    const struct tcp_payload *pl)
{
    return tcp_build_packet(pkt, cap, A1, A2, 77, s, pl);
}

/* Builds, then parses back through IPv4 and TCP. */
static enum drop_reason build_parse(uint8_t *pkt, size_t cap, const struct tcp_segment *s,
                                    const struct tcp_payload *pl, struct tcp_segment *r)
{
    size_t n = build(pkt, cap, s, pl);
    struct ipv4_packet ip;
    if (n == 0 || ipv4_parse(pkt, n, &ip) != DROP_NONE || ip.proto != IPPROTO_TCP_)
        return DROP_REASON_COUNT;
    return tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, r);
}

TEST(wire_tcp_round_trip_with_every_option_and_a_split_payload)
{
    uint8_t data[1000], pkt[1600];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    struct tcp_segment s = {
        .sport = 1234, .dport = 80, .seq = 0xdeadbeef, .ack = 0x01020304,
        .flags = TCP_ACK | TCP_PSH | TCP_URG, .wnd = 4321, .urp = 17,
        .opt = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
                 .sack_permitted = true, .has_ts = true, .ts_val = 11, .ts_ecr = 22 },
    };
    CHECK_EQ(tcp_options_len(&s.opt), 20);
    for (uint32_t split = 0; split <= 9; split++) {   /* odd and even splits */
        struct tcp_payload pl = { { data, data + split }, { split, 999 - split } };
        CHECK_EQ(build(pkt, sizeof pkt, &s, &pl), 20 + 40 + 999);
        struct tcp_segment r;
        CHECK_EQ(build_parse(pkt, sizeof pkt, &s, &pl, &r), DROP_NONE);
        CHECK_EQ(r.sport, 1234);
        CHECK_EQ(r.dport, 80);
        CHECK(r.seq == 0xdeadbeef && r.ack == 0x01020304);
        CHECK_EQ(r.flags, TCP_ACK | TCP_PSH | TCP_URG);
        CHECK_EQ(r.wnd, 4321);
        CHECK_EQ(r.urp, 17);
        CHECK(r.opt.has_mss && r.opt.mss == 1460);
        CHECK(r.opt.has_wscale && r.opt.wscale == 7);
        CHECK(r.opt.sack_permitted);
        CHECK(r.opt.has_ts && r.opt.ts_val == 11 && r.opt.ts_ecr == 22);
        CHECK_EQ(r.opt.sack_count, 0);
        CHECK_EQ(r.len, 999);
        CHECK(memcmp(r.data, data, 999) == 0);
    }
}

TEST(wire_tcp_round_trip_random_pieces_and_option_sets)
{
    uint8_t ring[2048], pkt[4200];
    uint64_t seed = 5;
    fill_random(ring, sizeof ring, seed);
    for (int round = 0; round < 400; round++) {
        unsigned set = (unsigned)round % 16;
        struct tcp_segment s = {
            .sport = (uint16_t)rng_next(&seed), .dport = (uint16_t)rng_next(&seed),
            .seq = (uint32_t)rng_next(&seed), .ack = (uint32_t)rng_next(&seed),
            .flags = TCP_ACK, .wnd = (uint16_t)rng_next(&seed),
            .opt = { .has_mss = set & 1, .mss = 536, .sack_permitted = set & 2,
                     .has_ts = set & 4, .ts_val = (uint32_t)rng_next(&seed),
                     .ts_ecr = 3, .has_wscale = set & 8, .wscale = 14 },
        };
        /* two pieces of a wrapping ring, at any offsets and lengths */
        uint32_t a = (uint32_t)(rng_next(&seed) % sizeof ring);
        uint32_t l0 = (uint32_t)(rng_next(&seed) % (sizeof ring - a + 1));
        uint32_t l1 = (uint32_t)(rng_next(&seed) % (sizeof ring / 2));
        struct tcp_payload pl = { { ring + a, ring }, { l0, l1 } };
        size_t optlen = tcp_options_len(&s.opt);
        CHECK_EQ(optlen % 4, 0);
        /* MSS 4; timestamps 12 with SACK-permitted in their padding,
         * else SACK-permitted 4; window scale 4 */
        CHECK_EQ(optlen, (set & 1 ? 4 : 0) + (set & 4 ? 12 : set & 2 ? 4 : 0) +
                             (set & 8 ? 4 : 0));
        struct tcp_segment r;
        CHECK_EQ(build_parse(pkt, sizeof pkt, &s, &pl, &r), DROP_NONE);
        CHECK(r.sport == s.sport && r.dport == s.dport && r.seq == s.seq && r.ack == s.ack);
        CHECK(r.opt.has_mss == s.opt.has_mss && r.opt.sack_permitted == s.opt.sack_permitted &&
              r.opt.has_ts == s.opt.has_ts && r.opt.has_wscale == s.opt.has_wscale);
        CHECK(!r.opt.has_mss || r.opt.mss == 536);
        CHECK(!r.opt.has_ts || (r.opt.ts_val == s.opt.ts_val && r.opt.ts_ecr == 3));
        CHECK(!r.opt.has_wscale || r.opt.wscale == 14);
        CHECK_EQ(r.len, l0 + l1);
        CHECK(memcmp(r.data, ring + a, l0) == 0 && memcmp(r.data + l0, ring, l1) == 0);
    }
}

TEST(wire_tcp_build_without_payload_and_when_it_does_not_fit)
{
    uint8_t data[600], pkt[1600];
    memset(data, 0x5a, sizeof data);
    struct tcp_segment s = { .sport = 1, .dport = 2, .flags = TCP_SYN,
                             .opt = { .has_mss = true, .mss = 1460 } };
    struct tcp_segment r;
    CHECK_EQ(build(pkt, sizeof pkt, &s, NULL), 20 + 24);
    CHECK_EQ(build_parse(pkt, sizeof pkt, &s, NULL, &r), DROP_NONE);
    CHECK(r.flags == TCP_SYN && r.len == 0 && r.opt.has_mss && r.opt.mss == 1460);
    /* exactly the size fits; one byte less does not */
    struct tcp_payload pl = { { data, NULL }, { 500, 0 } };
    CHECK_EQ(build(pkt, 20 + 24 + 500, &s, &pl), 20 + 24 + 500);
    CHECK_EQ(build(pkt, 20 + 24 + 499, &s, &pl), 0);
    /* nor does anything past the 16-bit IP total length, or lengths
     * whose 32-bit sum would wrap */
    struct tcp_payload huge = { { data, data }, { 0xffffffffu, 2 } };
    CHECK_EQ(build(pkt, SIZE_MAX, &s, &huge), 0);
    huge = (struct tcp_payload){ { data, data }, { 65535 - 44, 1 } };
    CHECK_EQ(build(pkt, SIZE_MAX, &s, &huge), 0);
}

/* RFC 2018 3: the SACK option, kind 5 and length 2 + 8n, after two NOPs
 * as Linux pads it; "at most 4 SACK blocks" in the 40 bytes of option
 * space, and 3 beside timestamps. Blocks that do not fit are left out,
 * whatever sack_count says (255 reads nothing past the 4 the struct has). */
TEST(rfc2018_3_sack_blocks_built_within_the_option_space)
{
    uint8_t pkt[200];
    for (int ts = 0; ts <= 1; ts++) {
        for (unsigned n = 0; n <= 5; n++) {
            struct tcp_segment s = { .sport = 1, .dport = 2, .flags = TCP_ACK,
                                     .opt = { .has_ts = ts, .ts_val = 5, .ts_ecr = 6 } };
            s.opt.sack_count = (uint8_t)(n == 5 ? 255 : n);
            for (unsigned b = 0; b < TCP_MAX_SACK_BLOCKS; b++) {
                s.opt.sack[b].left = 0xfffff000u + 1000 * b;
                s.opt.sack[b].right = 0xfffff000u + 1000 * b + 500;
            }
            unsigned fit = ts ? 3 : 4;
            unsigned blocks = n < fit ? n : fit;
            size_t sack_len = blocks ? 4 + 8 * blocks : 0;
            CHECK_EQ(tcp_options_len(&s.opt), (ts ? 12 : 0) + sack_len);
            CHECK_EQ(tcp_sack_blocks_fit(&s.opt, 1000), fit);
            size_t len = build(pkt, sizeof pkt, &s, NULL);
            CHECK_EQ(len, 40 + (ts ? 12 : 0) + sack_len);
            if (blocks) {
                const uint8_t *o = pkt + 40 + (ts ? 12 : 0);
                CHECK(o[0] == 1 && o[1] == 1 && o[2] == 5 && o[3] == 2 + 8 * blocks);
            }
            struct tcp_segment r;
            CHECK_EQ(build_parse(pkt, sizeof pkt, &s, NULL, &r), DROP_NONE);
            CHECK_EQ(r.opt.has_ts, ts);
            CHECK(!ts || (r.opt.ts_val == 5 && r.opt.ts_ecr == 6));
            CHECK_EQ(r.opt.sack_count, blocks);
            for (unsigned b = 0; b < blocks; b++)
                CHECK(r.opt.sack[b].left == s.opt.sack[b].left &&
                      r.opt.sack[b].right == s.opt.sack[b].right);
        }
    }
    /* beside MSS, window scale and timestamps (20 bytes), 2 fit; a room
     * of 11 bytes holds none, 12 one */
    struct tcp_options o = { .has_mss = true, .has_wscale = true, .has_ts = true,
                             .sack_count = 4 };
    CHECK_EQ(tcp_sack_blocks_fit(&o, 1000), 2);
    CHECK_EQ(tcp_options_len(&o), 20 + 4 + 16);
    CHECK_EQ(tcp_sack_blocks_fit(&o, 11), 0);
    CHECK_EQ(tcp_sack_blocks_fit(&o, 12), 1);
}

/* A TCP segment of 20 + optlen bytes with `flags`, checksummed for
 * A1 -> A2. */
static size_t raw_tcp(uint8_t *t, const uint8_t *opts, size_t optlen, uint8_t flags)
{
    memset(t, 0, 20);
    t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    t[13] = flags;
    if (optlen)
        memcpy(t + 20, opts, optlen);
    size_t n = 20 + optlen;
    put_be16(t + 16, csum_fold(csum_partial(t, n, csum_pseudo(A1, A2, IPPROTO_TCP_,
                                                               (uint16_t)n))));
    return n;
}

static enum drop_reason parse_opts(const uint8_t *opts, size_t optlen, struct tcp_segment *r)
{
    uint8_t t[60];
    size_t n = raw_tcp(t, opts, optlen, TCP_ACK);
    return tcp_parse(t, n, A1, A2, r);
}

TEST(rfc9293_3_2_each_option_kind_parsed)
{
    struct tcp_segment r;
    const uint8_t mss[] = { 2, 4, 0x05, 0xb4 };
    CHECK_EQ(parse_opts(mss, sizeof mss, &r), DROP_NONE);
    CHECK(r.opt.has_mss && r.opt.mss == 1460 && !r.opt.has_wscale && !r.opt.has_ts);
    const uint8_t ws[] = { 1, 3, 3, 9 };
    CHECK_EQ(parse_opts(ws, sizeof ws, &r), DROP_NONE);
    CHECK(r.opt.has_wscale && r.opt.wscale == 9 && !r.opt.has_mss);
    /* RFC 7323 2.3: a shift above 14 is reported as received */
    const uint8_t ws_big[] = { 3, 3, 200, 0 };
    CHECK_EQ(parse_opts(ws_big, sizeof ws_big, &r), DROP_NONE);
    CHECK_EQ(r.opt.wscale, 200);
    const uint8_t sackp[] = { 4, 2, 1, 1 };
    CHECK_EQ(parse_opts(sackp, sizeof sackp, &r), DROP_NONE);
    CHECK(r.opt.sack_permitted && r.opt.sack_count == 0);
    const uint8_t ts[] = { 1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0xaa, 0xbb, 0xcc, 0xdd };
    CHECK_EQ(parse_opts(ts, sizeof ts, &r), DROP_NONE);
    CHECK(r.opt.has_ts && r.opt.ts_val == 0x11223344 && r.opt.ts_ecr == 0xaabbccdd);
    /* RFC 2018 3: one block and the most that fit (four) */
    const uint8_t sack1[] = { 1, 1, 5, 10, 0, 0, 0, 7, 0, 0, 0, 9 };
    CHECK_EQ(parse_opts(sack1, sizeof sack1, &r), DROP_NONE);
    CHECK(r.opt.sack_count == 1 && r.opt.sack[0].left == 7 && r.opt.sack[0].right == 9);
    uint8_t sack4[36] = { 1, 1, 5, 34 };
    for (uint8_t b = 0; b < 8; b++)
        put_be32(sack4 + 4 + 4 * b, 0xf0000000u + b);
    CHECK_EQ(parse_opts(sack4, sizeof sack4, &r), DROP_NONE);
    CHECK_EQ(r.opt.sack_count, 4);
    CHECK(r.opt.sack[0].left == 0xf0000000u && r.opt.sack[3].right == 0xf0000007u);
}

TEST(rfc9293_3_2_options_parsed_and_unknown_kinds_skipped)
{
    struct tcp_segment r;
    const uint8_t sack[] = { 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4,
                             99, 4, 0xaa, 0xbb };
    CHECK_EQ(parse_opts(sack, sizeof sack, &r), DROP_NONE);
    CHECK_EQ(r.opt.sack_count, 2);
    CHECK(r.opt.sack[0].left == 1 && r.opt.sack[0].right == 2);
    CHECK(r.opt.sack[1].left == 3 && r.opt.sack[1].right == 4);
    /* an unknown kind is skipped by its length, even one that looks like
     * an option, and the list goes on after it */
    const uint8_t unknown[] = { 30, 6, 2, 4, 0, 1, 2, 4, 0x02, 0x18, 0, 0 };
    CHECK_EQ(parse_opts(unknown, sizeof unknown, &r), DROP_NONE);
    CHECK(r.opt.has_mss && r.opt.mss == 0x218);
    /* EOL ends the list: what follows is not parsed, even garbage */
    const uint8_t eol[] = { 0, 2, 0, 0 };
    CHECK_EQ(parse_opts(eol, sizeof eol, &r), DROP_NONE);
    CHECK(!r.opt.has_mss);
    const uint8_t nops[] = { 1, 1, 1, 1, 1, 1, 1, 1 };
    CHECK_EQ(parse_opts(nops, sizeof nops, &r), DROP_NONE);
}

TEST(rfc9293_3_2_malformed_option_lists_are_dropped)
{
    struct tcp_segment r;
    static const struct { uint8_t o[12]; size_t len; } bad[] = {
        { { 2, 0, 1, 1 }, 4 },                 /* length 0 */
        { { 2, 1, 1, 1 }, 4 },                 /* length 1 */
        { { 99, 1, 1, 1 }, 4 },                /* length 1, unknown kind */
        { { 1, 1, 1, 2 }, 4 },                 /* kind with no length octet */
        { { 1, 1, 1, 99 }, 4 },
        { { 2, 8, 0, 0 }, 4 },                 /* runs past the header */
        { { 99, 5, 0, 0 }, 4 },                /* unknown kind, too */
        { { 1, 1, 8, 10, 0, 0, 0, 0 }, 8 },    /* timestamps cut short */
        { { 2, 5, 0, 0, 0, 1, 1, 1 }, 8 },     /* MSS of the wrong length */
        { { 2, 3, 0, 1 }, 4 },
        { { 3, 4, 7, 1 }, 4 },                 /* window scale, wrong length */
        { { 3, 2, 1, 1 }, 4 },
        { { 4, 3, 0, 1 }, 4 },                 /* SACK-permitted, wrong length */
        { { 5, 2, 1, 1 }, 4 },                 /* SACK with no block */
        { { 5, 6, 0, 0, 0, 0, 1, 1 }, 8 },     /* SACK not 2 + 8n */
        { { 5, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, 12 },
        { { 8, 8, 0, 0, 0, 0, 1, 1 }, 8 },     /* timestamps, wrong length */
        { { 8, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(parse_opts(bad[i].o, bad[i].len, &r) == DROP_TCP_OPTIONS, "case %zu", i);
    /* a malformed option after a good one still drops the segment */
    const uint8_t late[] = { 2, 4, 5, 0xb4, 1, 1, 3, 9 };
    CHECK_EQ(parse_opts(late, sizeof late, &r), DROP_TCP_OPTIONS);
}

TEST(wire_tcp_header_errors_have_their_own_reasons)
{
    uint8_t t[60];
    struct tcp_segment r;
    size_t n = raw_tcp(t, NULL, 0, TCP_SYN);
    CHECK_EQ(tcp_parse(t, n, A1, A2, &r), DROP_NONE);
    for (size_t len = 0; len < 20; len++)
        CHECK_EQ(tcp_parse(t, len, A1, A2, &r), DROP_TCP_SHORT);
    /* the pseudo-header counts: another source address fails the sum */
    CHECK_EQ(tcp_parse(t, n, 0x0a000003, A2, &r), DROP_TCP_CHECKSUM);
    t[19] ^= 0x01;
    CHECK_EQ(tcp_parse(t, n, A1, A2, &r), DROP_TCP_CHECKSUM);
    n = raw_tcp(t, NULL, 0, TCP_SYN | TCP_FIN);
    CHECK_EQ(tcp_parse(t, n, A1, A2, &r), DROP_TCP_FLAGS);
    n = raw_tcp(t, NULL, 0, TCP_SYN | TCP_RST | TCP_ACK);
    CHECK_EQ(tcp_parse(t, n, A1, A2, &r), DROP_TCP_FLAGS);
    n = raw_tcp(t, NULL, 0, TCP_FIN | TCP_RST | TCP_ACK);   /* odd, but legal */
    CHECK_EQ(tcp_parse(t, n, A1, A2, &r), DROP_NONE);
    /* data offset below 5 words, or past the segment */
    for (uint8_t off = 0; off < 16; off++) {
        t[12] = (uint8_t)(off << 4);
        CHECK_EQ(tcp_parse(t, n, A1, A2, &r), off == 5 ? DROP_NONE : DROP_TCP_DATAOFF);
    }
}

TEST(wire_tcp_parse_payload_after_options)
{
    uint8_t t[60];
    /* one word of options (NOP NOP NOP EOL), then the payload */
    const uint8_t opts[] = { 1, 1, 1, 0, 'h', 'i', '!' };
    memset(t, 0, sizeof t);
    t[12] = 6 << 4;
    memcpy(t + 20, opts, sizeof opts);
    size_t n = 20 + sizeof opts;
    put_be16(t + 16, csum_fold(csum_partial(t, n, csum_pseudo(A1, A2, IPPROTO_TCP_,
                                                               (uint16_t)n))));
    struct tcp_segment r;
    CHECK_EQ(tcp_parse(t, n, A1, A2, &r), DROP_NONE);
    CHECK(r.len == 3 && r.data == t + 24 && memcmp(r.data, "hi!", 3) == 0);
}

/* ---- ICMP ---- */

static void seal_icmp(uint8_t *m, size_t len)
{
    put_be16(m + 2, 0);
    put_be16(m + 2, csum_fold(csum_partial(m, len, 0)));
}

/* An error of `type`/`code` quoting an IPv4+TCP header cut to `quoted`
 * bytes; returns the message length. */
static size_t icmp_error(uint8_t *m, uint8_t type, uint8_t code, size_t quoted)
{
    memset(m, 0, 8 + 20 + 20);
    m[0] = type;
    m[1] = code;
    put_be16(m + 6, 1500);
    ipv4_build_header(m + 8, A2, A1, IPPROTO_TCP_, 1, 20, 0, 0);
    uint8_t *t = m + 8 + 20;
    put_be16(t, 40000);
    put_be16(t + 2, 80);
    put_be32(t + 4, 0x01020304);
    seal_icmp(m, 8 + quoted);
    return 8 + quoted;
}

TEST(rfc792_icmp_parse_dest_unreachable_with_quoted_tcp)
{
    uint8_t m[64];
    size_t len = icmp_error(m, ICMP_DEST_UNREACH, 4, 20 + 8);
    struct icmp_message r;
    CHECK_EQ(icmp_parse(m, len, &r), DROP_NONE);
    CHECK(r.type == ICMP_DEST_UNREACH && r.code == 4);
    CHECK(r.data == m + 8 && r.data_len == 28);
    CHECK(r.has_quoted_tcp);
    CHECK_EQ(r.mtu, 1500);                      /* RFC 1191 4 */
    CHECK(r.q_src == A2 && r.q_dst == A1);
    CHECK(r.q_sport == 40000 && r.q_dport == 80 && r.q_seq == 0x01020304);
    /* other codes carry no MTU */
    len = icmp_error(m, ICMP_DEST_UNREACH, 3, 20 + 20);
    CHECK_EQ(icmp_parse(m, len, &r), DROP_NONE);
    CHECK(r.has_quoted_tcp && r.mtu == 0 && r.q_sport == 40000);
    len = icmp_error(m, ICMP_TIME_EXCEEDED, 0, 20 + 8);
    CHECK_EQ(icmp_parse(m, len, &r), DROP_NONE);
    CHECK(r.has_quoted_tcp && r.mtu == 0 && r.q_seq == 0x01020304);
}

TEST(rfc792_icmp_quote_too_short_or_not_tcp_names_no_connection)
{
    uint8_t m[64];
    struct icmp_message r;
    /* fewer than 8 quoted TCP octets: no connection can be named */
    for (size_t q = 0; q < 28; q++) {
        size_t len = icmp_error(m, ICMP_DEST_UNREACH, 1, q);
        CHECK_EQ(icmp_parse(m, len, &r), DROP_NONE);
        CHECK(!r.has_quoted_tcp && r.data_len == q);
    }
    icmp_error(m, ICMP_DEST_UNREACH, 1, 28);
    m[8 + 9] = 17;                              /* a UDP datagram */
    seal_icmp(m, 36);
    CHECK_EQ(icmp_parse(m, 36, &r), DROP_NONE);
    CHECK(!r.has_quoted_tcp);
    icmp_error(m, ICMP_DEST_UNREACH, 1, 28);
    m[8] = 0x46;                                /* IHL past the quote */
    seal_icmp(m, 36);
    CHECK_EQ(icmp_parse(m, 36, &r), DROP_NONE);
    CHECK(!r.has_quoted_tcp);
    icmp_error(m, ICMP_DEST_UNREACH, 1, 28);
    m[8] = 0x65;                                /* not IPv4 */
    seal_icmp(m, 36);
    CHECK_EQ(icmp_parse(m, 36, &r), DROP_NONE);
    CHECK(!r.has_quoted_tcp);
}

TEST(rfc792_icmp_short_bad_checksum_and_other_types)
{
    uint8_t m[64];
    struct icmp_message r;
    size_t len = icmp_error(m, ICMP_DEST_UNREACH, 4, 28);
    for (size_t n = 0; n < 8; n++)
        CHECK_EQ(icmp_parse(m, n, &r), DROP_ICMP_SHORT);
    m[30] ^= 0x40;
    CHECK_EQ(icmp_parse(m, len, &r), DROP_ICMP_CHECKSUM);
    /* a type the parser has no fields for is still parsed; the caller
     * decides what to do with it */
    memset(m, 0, 12);
    m[0] = 13;                                  /* timestamp request */
    seal_icmp(m, 12);
    CHECK_EQ(icmp_parse(m, 12, &r), DROP_NONE);
    CHECK(r.type == 13 && r.data_len == 4 && !r.has_quoted_tcp);
}

TEST(rfc792_echo_request_answered_with_reply)
{
    uint8_t req[8 + 5] = { ICMP_ECHO_REQUEST, 0, 0, 0, 0x12, 0x34, 0x56, 0x78,
                           'a', 'b', 'c', 'd', 'e' };
    seal_icmp(req, sizeof req);
    struct icmp_message q;
    CHECK_EQ(icmp_parse(req, sizeof req, &q), DROP_NONE);
    CHECK(q.type == ICMP_ECHO_REQUEST && q.id == 0x1234 && q.seqno == 0x5678);
    CHECK(q.data == req + 8 && q.data_len == 5);
    uint8_t pkt[64];
    size_t n = icmp_build_echo_reply(pkt, sizeof pkt, A2, A1, 3, &q);
    CHECK_EQ(n, 20 + 8 + 5);
    struct ipv4_packet ip;
    CHECK_EQ(ipv4_parse(pkt, n, &ip), DROP_NONE);
    CHECK(ip.src == A2 && ip.dst == A1 && ip.proto == IPPROTO_ICMP_ && ip.id == 3);
    struct icmp_message r;
    CHECK_EQ(icmp_parse(ip.payload, ip.payload_len, &r), DROP_NONE);
    CHECK(r.type == ICMP_ECHO_REPLY && r.code == 0 && r.id == 0x1234 && r.seqno == 0x5678);
    CHECK(r.data_len == 5 && memcmp(r.data, "abcde", 5) == 0);
    /* no data, and a buffer too small */
    q.data_len = 0;
    CHECK_EQ(icmp_build_echo_reply(pkt, 28, A2, A1, 3, &q), 28);
    CHECK_EQ(icmp_parse(pkt + 20, 8, &r), DROP_NONE);
    q.data_len = 5;
    CHECK_EQ(icmp_build_echo_reply(pkt, 32, A2, A1, 3, &q), 0);
}

TEST(wire_drop_reasons_have_distinct_names)
{
    for (int i = 0; i < DROP_REASON_COUNT; i++) {
        const char *name = drop_reason_name((enum drop_reason)i);
        CHECK(name != NULL && name[0] != '\0' && strcmp(name, "unknown") != 0);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(name, drop_reason_name((enum drop_reason)j)) != 0);
    }
    CHECK(strcmp(drop_reason_name(DROP_IP_CHECKSUM), "ip_checksum") == 0);
    CHECK(strcmp(drop_reason_name(DROP_TCP_NO_SOCKET), "tcp_no_socket") == 0);
    CHECK(strcmp(drop_reason_name(DROP_REASON_COUNT), "unknown") == 0);
    CHECK(strcmp(drop_reason_name((enum drop_reason)-1), "unknown") == 0);
}
