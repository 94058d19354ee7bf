/* The wire layer: checksums against a reference, every drop reason of the
 * parsers, and build -> parse round trips. */
#include <string.h>

#include "rng.h"
#include "test.h"
#include "wire.h"

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

TEST(rfc1071_checksum_example)
{
    /* RFC 1071 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 */
    const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
    CHECK_EQ(csum_fold(csum_partial(b, sizeof b, 0)), (uint16_t)~0xddf2);
}

TEST(rfc1071_checksum_matches_reference_at_every_length_and_alignment)
{
    uint8_t src[600], dst[600];
    uint64_t seed = 7;
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)rng_next(&seed);
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

static size_t build(uint8_t *pkt, size_t cap, const struct tcp_segment *s,
                    const struct tcp_payload *pl)
{
    return tcp_build_packet(pkt, cap, 0x0a000001, 0x0a000002, 77, s, pl);
}

TEST(wire_tcp_round_trip_with_every_option_and_a_split_payload)
{
    uint8_t data[1000], pkt[1600];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    struct tcp_segment s = {
        .sport = 1234, .dport = 80, .seq = 0xdeadbeef, .ack = 0x01020304,
        .flags = TCP_ACK | TCP_PSH, .wnd = 4321, .urp = 0,
        .opt = { .has_mss = true, .mss = 1460, .has_wscale = true, .wscale = 7,
                 .sack_permitted = true, .has_ts = true, .ts_val = 11, .ts_ecr = 22 },
    };
    CHECK_EQ(tcp_options_len(&s.opt), 20);
    for (uint32_t split = 0; split <= 9; split++) {   /* odd and even splits */
        struct tcp_payload pl = { { data, data + split }, { split, 999 - split } };
        size_t n = build(pkt, sizeof pkt, &s, &pl);
        CHECK_EQ(n, 20 + 40 + 999);
        struct ipv4_packet ip;
        CHECK_EQ(ipv4_parse(pkt, n, &ip), DROP_NONE);
        CHECK_EQ(ip.src, 0x0a000001);
        CHECK_EQ(ip.proto, IPPROTO_TCP_);
        CHECK_EQ(ip.id, 77);
        struct tcp_segment r;
        CHECK_EQ(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &r), DROP_NONE);
        CHECK_EQ(r.sport, 1234);
        CHECK_EQ(r.dport, 80);
        CHECK(r.seq == 0xdeadbeef && r.ack == 0x01020304);
        CHECK_EQ(r.flags, TCP_ACK | TCP_PSH);
        CHECK_EQ(r.wnd, 4321);
        CHECK(r.opt.has_mss && r.opt.mss == 1460);
        CHECK(r.opt.has_wscale && r.opt.wscale == 7);
        CHECK(r.opt.sack_permitted);
        CHECK(r.opt.has_ts && r.opt.ts_val == 11 && r.opt.ts_ecr == 22);
        CHECK_EQ(r.len, 999);
        CHECK(memcmp(r.data, data, 999) == 0);
    }
    /* a packet that does not fit the buffer is not built */
    CHECK_EQ(build(pkt, 100, &s, &(struct tcp_payload){ { data, NULL }, { 500, 0 } }), 0);
}

TEST(wire_tcp_options_timestamps_alone_are_aligned_with_nops)
{
    struct tcp_options o = { .has_ts = true };
    CHECK_EQ(tcp_options_len(&o), 12);
    o = (struct tcp_options){ .sack_permitted = true };
    CHECK_EQ(tcp_options_len(&o), 4);
    o = (struct tcp_options){ 0 };
    CHECK_EQ(tcp_options_len(&o), 0);
}

/* A TCP segment of 20 + optlen bytes, checksummed for 10.0.0.1 -> .2. */
static size_t raw_tcp(uint8_t *t, const uint8_t *opts, size_t optlen, uint8_t flags)
{
    memset(t, 0, 20);
    t[12] = (uint8_t)(((20 + optlen) / 4) << 4);
    t[13] = flags;
    if (optlen)
        memcpy(t + 20, opts, optlen);
    size_t n = 20 + optlen;
    uint16_t c = csum_fold(csum_partial(t, n, csum_pseudo(0x0a000001, 0x0a000002,
                                                          IPPROTO_TCP_, (uint16_t)n)));
    t[16] = (uint8_t)(c >> 8);
    t[17] = (uint8_t)c;
    return n;
}

static enum drop_reason parse_opts(const uint8_t *opts, size_t optlen, struct tcp_segment *r)
{
    uint8_t t[60];
    size_t n = raw_tcp(t, opts, optlen, TCP_ACK);
    return tcp_parse(t, n, 0x0a000001, 0x0a000002, r);
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
    /* EOL ends the list: what follows is not parsed */
    const uint8_t eol[] = { 0, 2, 0, 0 };
    CHECK_EQ(parse_opts(eol, sizeof eol, &r), DROP_NONE);
    CHECK(!r.opt.has_mss);
}

TEST(rfc9293_3_2_malformed_option_lists_are_dropped)
{
    struct tcp_segment r;
    static const uint8_t bad[][8] = {
        { 2, 0, 1, 1 },          /* length 0 */
        { 2, 1, 1, 1 },          /* length 1 */
        { 1, 1, 1, 2 },          /* kind with no length octet */
        { 2, 8, 0, 0 },          /* runs past the header */
        { 2, 5, 0, 0, 0, 1, 1, 1 },  /* MSS of the wrong length */
        { 3, 4, 7, 1 },          /* window scale of the wrong length */
        { 4, 3, 0, 1 },          /* SACK-permitted of the wrong length */
        { 5, 6, 0, 0, 0, 0, 1, 1 },  /* SACK not a multiple of 8 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = i == 4 || i == 7 ? 8 : 4;
        CHECK_MSG(parse_opts(bad[i], len, &r) == DROP_TCP_OPTIONS, "case %zu", i);
    }
    const uint8_t ts_short[] = { 8, 8, 0, 0, 0, 0, 0, 0 };
    CHECK_EQ(parse_opts(ts_short, sizeof ts_short, &r), DROP_TCP_OPTIONS);
}

TEST(wire_tcp_header_errors_have_their_own_reasons)
{
    uint8_t t[60];
    struct tcp_segment r;
    size_t n = raw_tcp(t, NULL, 0, TCP_SYN);
    CHECK_EQ(tcp_parse(t, n, 0x0a000001, 0x0a000002, &r), DROP_NONE);
    CHECK_EQ(tcp_parse(t, 19, 0x0a000001, 0x0a000002, &r), DROP_TCP_SHORT);
    /* the pseudo-header counts: another source address fails the sum */
    CHECK_EQ(tcp_parse(t, n, 0x0a000003, 0x0a000002, &r), DROP_TCP_CHECKSUM);
    n = raw_tcp(t, NULL, 0, TCP_SYN | TCP_FIN);
    CHECK_EQ(tcp_parse(t, n, 0x0a000001, 0x0a000002, &r), DROP_TCP_FLAGS);
    n = raw_tcp(t, NULL, 0, TCP_SYN | TCP_RST);
    CHECK_EQ(tcp_parse(t, n, 0x0a000001, 0x0a000002, &r), DROP_TCP_FLAGS);
    t[12] = 0x40;
    CHECK_EQ(tcp_parse(t, n, 0x0a000001, 0x0a000002, &r), DROP_TCP_DATAOFF);
    t[12] = 0x60;
    CHECK_EQ(tcp_parse(t, n, 0x0a000001, 0x0a000002, &r), DROP_TCP_DATAOFF);
}

TEST(rfc791_ipv4_checks_and_skips_options)
{
    uint8_t pkt[64] = { 0 };
    ipv4_build_header(pkt, 0x0a000001, 0x0a000002, IPPROTO_ICMP_, 9, 8);
    struct ipv4_packet ip;
    CHECK_EQ(ipv4_parse(pkt, 28, &ip), DROP_NONE);
    CHECK_EQ(ip.ttl, 64);
    CHECK_EQ(ip.payload_len, 8);
    /* link padding after the total length is ignored */
    CHECK_EQ(ipv4_parse(pkt, 40, &ip), DROP_NONE);
    CHECK_EQ(ip.payload_len, 8);
    CHECK_EQ(ipv4_parse(pkt, 19, &ip), DROP_IP_SHORT);
    CHECK_EQ(ipv4_parse(pkt, 27, &ip), DROP_IP_TOTLEN);
    /* a header with 4 bytes of options (NOP NOP NOP EOL) */
    uint8_t opt[64] = { 0 };
    memcpy(opt, pkt, 20);
    opt[0] = 0x46;
    opt[3] = 32;
    opt[20] = opt[21] = opt[22] = 1;
    memcpy(opt + 24, "payload!", 8);
    opt[10] = opt[11] = 0;
    uint16_t c = csum_fold(csum_partial(opt, 24, 0));
    opt[10] = (uint8_t)(c >> 8);
    opt[11] = (uint8_t)c;
    CHECK_EQ(ipv4_parse(opt, 32, &ip), DROP_NONE);
    CHECK_EQ(ip.header_len, 24);
    CHECK(ip.payload_len == 8 && memcmp(ip.payload, "payload!", 8) == 0);
    opt[11] ^= 1;
    CHECK_EQ(ipv4_parse(opt, 32, &ip), DROP_IP_CHECKSUM);
}

TEST(rfc792_icmp_parse_echo_and_quoted_tcp)
{
    uint8_t m[64] = { 0 };
    m[0] = ICMP_DEST_UNREACH;
    m[1] = 4;
    m[6] = 0x05;
    m[7] = 0xdc;                  /* next-hop MTU 1500 */
    ipv4_build_header(m + 8, 0x0a000002, 0x0a000001, IPPROTO_TCP_, 1, 20);
    uint8_t *t = m + 8 + 20;
    t[0] = 0x9c; t[1] = 0x40;     /* 40000 */
    t[2] = 0; t[3] = 80;
    t[4] = 1; t[5] = 2; t[6] = 3; t[7] = 4;
    size_t len = 8 + 20 + 8;
    uint16_t c = csum_fold(csum_partial(m, len, 0));
    m[2] = (uint8_t)(c >> 8);
    m[3] = (uint8_t)c;
    struct icmp_message r;
    CHECK_EQ(icmp_parse(m, len, &r), DROP_NONE);
    CHECK(r.has_quoted_tcp);
    CHECK_EQ(r.mtu, 1500);
    CHECK(r.q_src == 0x0a000002 && r.q_dst == 0x0a000001);
    CHECK(r.q_sport == 40000 && r.q_dport == 80 && r.q_seq == 0x01020304);
    /* fewer than 8 quoted TCP octets: no connection can be named */
    CHECK_EQ(icmp_parse(m, len - 1, &r), DROP_ICMP_CHECKSUM);
    CHECK_EQ(icmp_parse(m, 7, &r), DROP_ICMP_SHORT);
}

TEST(rfc792_echo_reply_echoes_id_sequence_and_data)
{
    struct icmp_message req = { .type = ICMP_ECHO_REQUEST, .id = 5, .seqno = 6,
                                .data = (const uint8_t *)"abcde", .data_len = 5 };
    uint8_t pkt[64];
    size_t n = icmp_build_echo_reply(pkt, sizeof pkt, 0x0a000002, 0x0a000001, 3, &req);
    CHECK_EQ(n, 20 + 8 + 5);
    struct ipv4_packet ip;
    CHECK_EQ(ipv4_parse(pkt, n, &ip), DROP_NONE);
    struct icmp_message r;
    CHECK_EQ(icmp_parse(ip.payload, ip.payload_len, &r), DROP_NONE);
    CHECK(r.type == ICMP_ECHO_REPLY && r.id == 5 && r.seqno == 6);
    CHECK(r.data_len == 5 && memcmp(r.data, "abcde", 5) == 0);
    CHECK_EQ(icmp_build_echo_reply(pkt, 30, 1, 2, 3, &req), 0);
}

TEST(wire_drop_reasons_have_distinct_names)
{
    for (int i = 0; i < DROP_REASON_COUNT; i++) {
        CHECK(drop_reason_name((enum drop_reason)i) != NULL);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(drop_reason_name((enum drop_reason)i),
                         drop_reason_name((enum drop_reason)j)) != 0);
    }
    CHECK(strcmp(drop_reason_name(DROP_REASON_COUNT), "unknown") == 0);
}
