/* Segmentation offload (gso.h): received super-packets cut into the
 * segments they stand for, super-packets built from consecutive segments
 * with a partial checksum, malformed vnet headers dropped and counted,
 * and two stacks moving bulk data over a link with offloads. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "gso.h"
#include "rng.h"
#include "stack.h"
#include "stack_internal.h"
#include "test.h"
#include "wire.h"

#define A1 0x0a000001u
#define A2 0x0a000002u
#define MSS 1448

static void fill_random(uint8_t *b, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rng_next(&seed);
}

static struct tcp_segment data_segment(uint32_t seq, uint8_t flags)
{
    return (struct tcp_segment){
        .sport = 5000, .dport = 80, .seq = seq, .ack = 777, .flags = flags, .wnd = 500,
        .opt = { .has_ts = true, .ts_val = 11, .ts_ecr = 22 },
    };
}

static struct tcp_payload payload_of(const uint8_t *data, size_t len)
{
    return (struct tcp_payload){ .base = { data, NULL }, .len = { (uint32_t)len, 0 } };
}

/* What gso_split hands out, copied. */
struct seen {
    unsigned n;
    uint8_t *pkt[64];
    size_t len[64];
};

static void collect(void *ctx, const uint8_t *seg, size_t len)
{
    struct seen *s = ctx;
    if (s->n < 64) {
        s->pkt[s->n] = malloc(len);
        memcpy(s->pkt[s->n], seg, len);
        s->len[s->n++] = len;
    }
}

static void seen_free(struct seen *s)
{
    for (unsigned i = 0; i < s->n; i++)
        free(s->pkt[i]);
}

static const struct gso_hdr tso_hdr = {
    .flags = GSO_F_NEEDS_CSUM, .gso_type = GSO_TCPV4, .hdr_len = 52, .gso_size = MSS,
    .csum_start = 20, .csum_offset = 16,
};

TEST(gso_split_cuts_a_64k_super_packet_into_mss_segments_with_advancing_seq)
{
    static uint8_t data[64000], pkt[GSO_MAX_PACKET];
    fill_random(data, sizeof data, 1);
    struct tcp_segment seg = data_segment(0xfffff000u, TCP_ACK | TCP_PSH | TCP_FIN);
    struct tcp_payload pl = payload_of(data, sizeof data);
    size_t n = tcp_build_packet(pkt, sizeof pkt, A1, A2, 100, &seg, &pl);
    CHECK(n > 0);
    struct gso_plan plan;
    CHECK_EQ(gso_inspect(&tso_hdr, pkt, n, &plan), DROP_NONE);
    CHECK(plan.csum_trusted);
    CHECK_EQ(plan.seg_size, MSS);
    CHECK_EQ(gso_segments(&plan), (64000 + MSS - 1) / MSS);
    struct seen s = { 0 };
    CHECK_EQ(gso_split(pkt, &plan, true, collect, &s), 45);
    CHECK_EQ(s.n, 45);
    size_t off = 0;
    for (unsigned i = 0; i < s.n; i++) {
        struct ipv4_packet ip;
        struct tcp_segment r;
        CHECK_EQ(ipv4_parse(s.pkt[i], s.len[i], &ip), DROP_NONE);
        CHECK_EQ(ip.id, 100 + i);
        /* checksums filled: the segment verifies */
        CHECK_EQ(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &r), DROP_NONE);
        CHECK_EQ(r.seq, 0xfffff000u + (uint32_t)off);
        CHECK_EQ(r.len, i + 1 < s.n ? MSS : 64000 - 44 * MSS);
        CHECK_EQ(r.flags, i + 1 < s.n ? TCP_ACK : TCP_ACK | TCP_PSH | TCP_FIN);
        CHECK(r.opt.has_ts && r.opt.ts_val == 11 && r.opt.ts_ecr == 22);
        CHECK(memcmp(r.data, data + off, r.len) == 0);
        off += r.len;
    }
    CHECK_EQ(off, sizeof data);
    seen_free(&s);
}

TEST(gso_split_keeps_cwr_on_the_first_segment_only)
{
    static uint8_t data[3 * MSS], pkt[GSO_MAX_PACKET];
    struct tcp_segment seg = data_segment(1, TCP_ACK | TCP_CWR);
    struct tcp_payload pl = payload_of(data, sizeof data);
    size_t n = tcp_build_packet(pkt, sizeof pkt, A1, A2, 1, &seg, &pl);
    struct gso_hdr h = tso_hdr;
    h.gso_type |= GSO_ECN;
    struct gso_plan plan;
    CHECK_EQ(gso_inspect(&h, pkt, n, &plan), DROP_NONE);
    struct seen s = { 0 };
    CHECK_EQ(gso_split(pkt, &plan, true, collect, &s), 3);
    CHECK_EQ(s.pkt[0][20 + 13], TCP_ACK | TCP_CWR);
    CHECK_EQ(s.pkt[1][20 + 13], TCP_ACK);
    CHECK_EQ(s.pkt[2][20 + 13], TCP_ACK);
    seen_free(&s);
}

/* The packet a builder's pieces hold, gathered into buf. */
static size_t gather(uint8_t *buf, const struct iovec *iov, int pieces)
{
    size_t n = 0;
    for (int i = 0; i < pieces; i++) {
        memcpy(buf + n, iov[i].iov_base, iov[i].iov_len);
        n += iov[i].iov_len;
    }
    return n;
}

/* A segment as tcp_build_packet makes it, and its header as the
 * offloading sender makes it. */
static size_t header_of(uint8_t *hdr, const struct tcp_segment *seg, size_t len, uint16_t id)
{
    return tcp_build_header(hdr, A1, A2, id, seg, len);
}

TEST(gso_builder_coalesces_consecutive_segments_with_a_partial_checksum)
{
    static uint8_t data[3 * MSS - 100], buf[GSO_MAX_PACKET];
    fill_random(data, sizeof data, 2);
    struct gso_builder b = { 0 };
    uint8_t hdr[100];
    size_t lens[3] = { MSS, MSS, sizeof data - 2 * MSS };
    uint8_t flags[3] = { TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH };
    size_t off = 0;
    for (int i = 0; i < 3; i++) {
        struct tcp_segment seg = data_segment(1000 + (uint32_t)off, flags[i]);
        size_t hl = header_of(hdr, &seg, lens[i], (uint16_t)(50 + i));
        struct tcp_payload pl = payload_of(data + off, lens[i]);
        CHECK(gso_add(&b, hdr, hl, &pl));
        off += lens[i];
    }
    struct gso_hdr h;
    int pieces = gso_finish(&b, &h);
    CHECK_EQ(b.len, 0);
    /* the headers, then the payload where it was, in one piece */
    CHECK_EQ(pieces, 2);
    CHECK(b.iov[1].iov_base == data);
    size_t n = gather(buf, b.iov, pieces);
    CHECK_EQ(n, 20 + 32 + sizeof data);
    CHECK_EQ(h.flags, GSO_F_NEEDS_CSUM);
    CHECK_EQ(h.gso_type, GSO_TCPV4);
    CHECK_EQ(h.gso_size, MSS);
    CHECK_EQ(h.hdr_len, 52);
    CHECK_EQ(h.csum_start, 20);
    CHECK_EQ(h.csum_offset, 16);
    CHECK_EQ(buf[20 + 13], TCP_ACK | TCP_PSH);    /* the last segment's flags */
    /* the partial checksum: the pseudo-header sum, which summing the
     * segment from csum_start completes (as the kernel does) */
    uint16_t partial = get_be16(buf + 36);
    CHECK_EQ(partial, (uint16_t)~csum_fold(csum_pseudo(A1, A2, IPPROTO_TCP_,
                                                       (uint16_t)(n - 20))));
    put_be16(buf + 36, csum_fold(csum_partial(buf + 20, n - 20, 0)));
    struct ipv4_packet ip;
    struct tcp_segment r;
    CHECK_EQ(ipv4_parse(buf, n, &ip), DROP_NONE);
    CHECK_EQ(ip.id, 50);
    CHECK_EQ(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &r), DROP_NONE);
    CHECK_EQ(r.seq, 1000);
    CHECK_EQ(r.len, sizeof data);
    CHECK(memcmp(r.data, data, sizeof data) == 0);
}

TEST(gso_builder_and_split_round_trip_to_the_segments_sent)
{
    static uint8_t data[20 * MSS + 7], buf[GSO_MAX_PACKET];
    fill_random(data, sizeof data, 3);
    struct gso_builder b = { 0 };
    uint8_t hdr[100], want[21][1600];
    size_t want_len[21];
    for (unsigned i = 0; i < 21; i++) {
        size_t len = i < 20 ? MSS : 7;
        struct tcp_segment seg = data_segment(5 + i * MSS, i < 20 ? TCP_ACK : TCP_ACK | TCP_PSH);
        struct tcp_payload pl = payload_of(data + i * MSS, len);
        want_len[i] = tcp_build_packet(want[i], sizeof want[i], A1, A2, (uint16_t)(9 + i), &seg,
                                       &pl);
        CHECK(gso_add(&b, hdr, header_of(hdr, &seg, len, (uint16_t)(9 + i)), &pl));
    }
    struct gso_hdr h;
    size_t n = gather(buf, b.iov, gso_finish(&b, &h));
    struct gso_plan plan;
    CHECK_EQ(gso_inspect(&h, buf, n, &plan), DROP_NONE);
    struct seen s = { 0 };
    CHECK_EQ(gso_split(buf, &plan, true, collect, &s), 21);
    for (unsigned i = 0; i < 21; i++) {
        CHECK_EQ(s.len[i], want_len[i]);
        CHECK(memcmp(s.pkt[i], want[i], want_len[i]) == 0);
    }
    seen_free(&s);
}

TEST(gso_builder_takes_only_what_continues_the_super_packet)
{
    static uint8_t data[2 * MSS];
    struct gso_builder b = { 0 };
    uint8_t hdr[100];
    struct tcp_payload full = payload_of(data, MSS), big = payload_of(data, MSS + 1),
                       small = payload_of(data, 10);
    struct tcp_segment seg = data_segment(0, TCP_ACK);
    /* nothing without data, nor a SYN, RST or URG */
    CHECK(!gso_add(&b, hdr, header_of(hdr, &seg, 0, 0), NULL));
    struct tcp_segment syn = data_segment(0, TCP_SYN);
    CHECK(!gso_add(&b, hdr, header_of(hdr, &syn, MSS, 0), &full));
    CHECK(gso_add(&b, hdr, header_of(hdr, &seg, MSS, 0), &full));
    /* a gap in sequence space, another ACK, window or timestamp */
    struct tcp_segment other = data_segment(MSS + 1, TCP_ACK);
    CHECK(!gso_add(&b, hdr, header_of(hdr, &other, MSS, 0), &full));
    other = data_segment(MSS, TCP_ACK);
    other.ack++;
    CHECK(!gso_add(&b, hdr, header_of(hdr, &other, MSS, 0), &full));
    other = data_segment(MSS, TCP_ACK);
    other.wnd++;
    CHECK(!gso_add(&b, hdr, header_of(hdr, &other, MSS, 0), &full));
    other = data_segment(MSS, TCP_ACK);
    other.opt.ts_val++;
    CHECK(!gso_add(&b, hdr, header_of(hdr, &other, MSS, 0), &full));
    /* longer than the first */
    seg = data_segment(MSS, TCP_ACK);
    CHECK(!gso_add(&b, hdr, header_of(hdr, &seg, MSS + 1, 0), &big));
    /* a short segment ends it */
    CHECK(gso_add(&b, hdr, header_of(hdr, &seg, 10, 0), &small));
    seg = data_segment(MSS + 10, TCP_ACK);
    CHECK(!gso_add(&b, hdr, header_of(hdr, &seg, 10, 0), &small));
    CHECK_EQ(b.segs, 2);
    /* so does PSH */
    struct gso_hdr h;
    gso_finish(&b, &h);
    seg = data_segment(0, TCP_ACK | TCP_PSH);
    CHECK(gso_add(&b, hdr, header_of(hdr, &seg, MSS, 0), &full));
    seg = data_segment(MSS, TCP_ACK);
    CHECK(!gso_add(&b, hdr, header_of(hdr, &seg, MSS, 0), &full));
    /* a lone segment goes as no super-packet, its checksum still offloaded */
    gso_finish(&b, &h);
    CHECK_EQ(h.gso_type, GSO_NONE);
    CHECK_EQ(h.gso_size, 0);
    CHECK_EQ(h.flags, GSO_F_NEEDS_CSUM);
}

TEST(gso_builder_stops_at_64k)
{
    static uint8_t data[64 * MSS];
    struct gso_builder b = { 0 };
    uint8_t hdr[100];
    unsigned taken = 0;
    for (uint32_t seq = 0;; seq += MSS, taken++) {
        struct tcp_segment seg = data_segment(seq, TCP_ACK);
        struct tcp_payload pl = payload_of(data + seq, MSS);
        if (!gso_add(&b, hdr, header_of(hdr, &seg, MSS, 0), &pl))
            break;
    }
    CHECK_EQ(taken, (GSO_MAX_PACKET - 52) / MSS);
    CHECK(b.len <= GSO_MAX_PACKET);
}

/* A packet of `payload` bytes of TCP (or ICMP) with a vnet header. */
static size_t offloaded_packet(uint8_t *pkt, size_t cap, size_t payload, uint8_t flags)
{
    static uint8_t data[8 * MSS];
    struct tcp_segment seg = data_segment(1, flags);
    struct tcp_payload pl = payload_of(data, payload);
    return tcp_build_packet(pkt, cap, A1, A2, 1, &seg, &pl);
}

TEST(gso_inspect_drops_malformed_vnet_headers)
{
    static uint8_t pkt[GSO_MAX_PACKET];
    size_t n = offloaded_packet(pkt, sizeof pkt, 4 * MSS, TCP_ACK);
    struct gso_plan plan;
    struct gso_hdr h = tso_hdr;
    h.gso_size = 0;
    CHECK_EQ(gso_inspect(&h, pkt, n, &plan), DROP_GSO_SIZE);
    h = tso_hdr;
    h.hdr_len = (uint16_t)(n + 1);
    CHECK_EQ(gso_inspect(&h, pkt, n, &plan), DROP_GSO_HEADER);
    h = tso_hdr;
    h.gso_type = 4;   /* TCPv6 */
    CHECK_EQ(gso_inspect(&h, pkt, n, &plan), DROP_GSO_TYPE);
    h = tso_hdr;
    CHECK_EQ(gso_inspect(&h, pkt, 10, &plan), DROP_GSO_TYPE);
    CHECK_EQ(gso_inspect(&h, pkt, n - 1, &plan), DROP_GSO_HEADER);  /* total > len */
    pkt[9] = IPPROTO_ICMP_;
    CHECK_EQ(gso_inspect(&h, pkt, n, &plan), DROP_GSO_TYPE);
    pkt[9] = IPPROTO_TCP_;
    size_t little = offloaded_packet(pkt, sizeof pkt, 10, TCP_ACK);
    pkt[20 + 12] = 15 << 4;     /* a TCP header of 60 bytes runs past the packet */
    CHECK_EQ(gso_inspect(&h, pkt, little, &plan), DROP_GSO_HEADER);
    pkt[20 + 12] = 8 << 4;
    pkt[0] = 0x4f;              /* an IP header of 60 bytes leaves no room for TCP */
    CHECK_EQ(gso_inspect(&h, pkt, little, &plan), DROP_GSO_HEADER);
    pkt[0] = 0x45;
    CHECK_EQ(gso_inspect(&h, pkt, little, &plan), DROP_NONE);
    size_t empty = offloaded_packet(pkt, sizeof pkt, 0, TCP_ACK);
    CHECK_EQ(gso_inspect(&h, pkt, empty, &plan), DROP_GSO_SIZE);
    size_t syn = offloaded_packet(pkt, sizeof pkt, 2 * MSS, TCP_SYN);
    CHECK_EQ(gso_inspect(&h, pkt, syn, &plan), DROP_GSO_HEADER);
    size_t short_tcp = offloaded_packet(pkt, sizeof pkt, 0, TCP_ACK);
    put_be16(pkt + 2, 30);      /* total length cuts the TCP header */
    CHECK_EQ(gso_inspect(&h, pkt, short_tcp, &plan), DROP_GSO_HEADER);
    /* no super-packet: only the checksum trust comes from the header */
    h = (struct gso_hdr){ .flags = GSO_F_DATA_VALID };
    CHECK_EQ(gso_inspect(&h, pkt, 3, &plan), DROP_NONE);
    CHECK(plan.csum_trusted && !plan.seg_size);
    h.flags = 0;
    CHECK_EQ(gso_inspect(&h, pkt, 3, &plan), DROP_NONE);
    CHECK(!plan.csum_trusted);
}

/* ---- two stacks over a link with offloads ---- */

#define GSO_QUEUE 4096

struct gso_packet {
    struct gso_hdr h;
    size_t len;
    uint8_t *data;
};

/* A link that hands each packet, super-packets whole, with its vnet
 * header to the other end, as a TUN device would. */
struct gso_wire;
struct wire_end {
    struct link link;            /* first: the callbacks cast back */
    struct gso_wire *w;
    int side;
};

struct gso_wire {
    struct wire_end end[2];
    struct gso_packet q[2][GSO_QUEUE];   /* q[i]: to end i */
    size_t head[2], tail[2];
};

static int wire_send_gso(struct link *l, const struct gso_hdr *h, const struct iovec *pkt,
                         int pieces)
{
    struct wire_end *e = (struct wire_end *)l;
    struct gso_wire *w = e->w;
    int to = 1 - e->side;
    if (w->tail[to] - w->head[to] == GSO_QUEUE)
        return -ENOBUFS;
    struct gso_packet *p = &w->q[to][w->tail[to]++ % GSO_QUEUE];
    p->h = *h;
    p->len = 0;
    for (int i = 0; i < pieces; i++)
        p->len += pkt[i].iov_len;
    p->data = malloc(p->len);
    gather(p->data, pkt, pieces);
    return 0;
}

static int wire_send_whole(struct link *l, const struct gso_hdr *h, const uint8_t *pkt,
                           size_t len)
{
    return wire_send_gso(l, h, &(struct iovec){ (void *)pkt, len }, 1);
}

static int wire_send(struct link *l, const uint8_t *pkt, size_t len)
{
    return wire_send_whole(l, &(struct gso_hdr){ 0 }, pkt, len);
}

static ssize_t wire_recv_gso(struct link *l, uint8_t *buf, size_t cap, struct gso_hdr *h)
{
    struct wire_end *e = (struct wire_end *)l;
    struct gso_wire *w = e->w;
    int me = e->side;
    if (w->head[me] == w->tail[me])
        return 0;
    struct gso_packet *p = &w->q[me][w->head[me]++ % GSO_QUEUE];
    size_t n = p->len < cap ? p->len : cap;
    memcpy(buf, p->data, n);
    *h = p->h;
    free(p->data);
    return (ssize_t)n;
}

static ssize_t wire_recv(struct link *l, uint8_t *buf, size_t cap)
{
    struct gso_hdr h;
    return wire_recv_gso(l, buf, cap, &h);
}

static void wire_init(struct gso_wire *w)
{
    memset(w, 0, sizeof *w);
    for (int i = 0; i < 2; i++)
        w->end[i] = (struct wire_end){
            .link = { .send = wire_send, .recv = wire_recv, .send_gso = wire_send_gso,
                      .recv_gso = wire_recv_gso, .mtu = 1500 },
            .w = w, .side = i,
        };
}

static void wire_free(struct gso_wire *w)
{
    for (int i = 0; i < 2; i++)
        while (w->head[i] != w->tail[i])
            free(w->q[i][w->head[i]++ % GSO_QUEUE].data);
}

static struct stack *wire_stack(struct gso_wire *w, int i)
{
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.addr = i ? A2 : A1;
    cfg.random_isn_key = false;
    return stack_new(&cfg, &w->end[i].link);
}

TEST(gso_two_stacks_move_bulk_data_in_super_packets)
{
    static struct gso_wire w;
    wire_init(&w);
    struct stack *s[2] = { wire_stack(&w, 0), wire_stack(&w, 1) };
    CHECK(s[0] && s[1]);
    uint64_t now = 1000000;
    struct sock *l, *c, *a = NULL;
    CHECK_EQ(stack_socket(s[1], &l), 0);
    CHECK_EQ(stack_bind(s[1], l, 0, 80), 0);
    CHECK_EQ(stack_listen(s[1], l, 4), 0);
    CHECK_EQ(stack_socket(s[0], &c), 0);
    CHECK_EQ(stack_connect(s[0], c, A2, 80, now), -EINPROGRESS);
    enum { TOTAL = 2 << 20 };
    static uint8_t out[TOTAL], in[TOTAL];
    fill_random(out, sizeof out, 4);
    size_t sent = 0, got = 0;
    for (int round = 0; round < 100000 && got < TOTAL; round++) {
        for (int i = 0; i < 2; i++) {
            stack_receive(s[i], now);
            stack_timers(s[i], now);
        }
        if (!a && stack_accept(s[1], l, &a) != 0)
            a = NULL;
        if (sent < TOTAL) {
            ssize_t n = stack_send(s[0], c, out + sent, TOTAL - sent, now);
            if (n > 0)
                sent += (size_t)n;
            stack_flush(s[0]);
        }
        if (a) {
            ssize_t n = stack_recv(s[1], a, in + got, TOTAL - got, 0, now);
            if (n > 0)
                got += (size_t)n;
            stack_flush(s[1]);
        }
        now += 100;
    }
    CHECK_EQ(got, TOTAL);
    CHECK(memcmp(in, out, TOTAL) == 0);
    struct stack_stats st[2];
    stack_get_stats(s[0], &st[0]);
    stack_get_stats(s[1], &st[1]);
    /* the sender's data went as super-packets, split on arrival */
    CHECK(st[0].gso_out > 0);
    CHECK_EQ(st[1].gso_in, st[0].gso_out);
    CHECK(st[0].ip_out > 2 * st[0].gso_out);
    CHECK_EQ(st[1].drops[DROP_TCP_CHECKSUM], 0);
    CHECK_EQ(st[0].tcp.retrans_segs, 0);
    stack_free(s[0]);
    stack_free(s[1]);
    wire_free(&w);
}

TEST(gso_stack_drops_and_counts_malformed_offloaded_packets)
{
    static struct gso_wire w;
    wire_init(&w);
    struct stack *st = wire_stack(&w, 1);
    static uint8_t pkt[GSO_MAX_PACKET];
    size_t n = offloaded_packet(pkt, sizeof pkt, 4 * MSS, TCP_ACK);
    struct gso_hdr bad[] = {
        { .gso_type = GSO_TCPV4, .gso_size = 0 },
        { .gso_type = GSO_TCPV4, .gso_size = MSS, .hdr_len = 0xffff },
        { .gso_type = 3 /* UDP */, .gso_size = MSS },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_EQ(wire_send_whole(&w.end[0].link, &bad[i], pkt, n), 0);
    /* a garbled super-packet: IHL past the end */
    pkt[0] = 0x4f;
    put_be16(pkt + 2, 40);
    CHECK_EQ(wire_send_whole(&w.end[0].link, &tso_hdr, pkt, 40), 0);
    CHECK_EQ(stack_receive(st, 1000000), 4);
    struct stack_stats stats;
    stack_get_stats(st, &stats);
    CHECK_EQ(stats.drops[DROP_GSO_SIZE], 1);
    CHECK_EQ(stats.drops[DROP_GSO_HEADER], 2);
    CHECK_EQ(stats.drops[DROP_GSO_TYPE], 1);
    CHECK_EQ(stats.gso_in, 0);
    stack_free(st);
    wire_free(&w);
}

TEST(gso_stack_verifies_checksums_the_link_did_not_vouch_for)
{
    static struct gso_wire w;
    wire_init(&w);
    struct stack *st = wire_stack(&w, 1);
    static uint8_t pkt[2000];
    size_t n = offloaded_packet(pkt, sizeof pkt, 100, TCP_ACK);
    pkt[n - 1] ^= 1;
    struct gso_hdr plain = { 0 }, valid = { .flags = GSO_F_DATA_VALID };
    CHECK_EQ(wire_send_whole(&w.end[0].link, &plain, pkt, n), 0);
    CHECK_EQ(wire_send_whole(&w.end[0].link, &valid, pkt, n), 0);
    CHECK_EQ(stack_receive(st, 1000000), 2);
    struct stack_stats stats;
    stack_get_stats(st, &stats);
    /* the first is dropped for its checksum; the second, trusted, finds
     * no socket and is answered with a RST */
    CHECK_EQ(stats.drops[DROP_TCP_CHECKSUM], 1);
    CHECK_EQ(stats.drops[DROP_TCP_NO_SOCKET], 1);
    stack_free(st);
    wire_free(&w);
}

/* Hostile input: random vnet headers over valid and mutated super-packets
 * (random gso_size, truncated, bytes of the headers flipped) are each
 * dropped and counted or taken as segments, and nothing crashes. */
TEST(gso_stack_survives_random_vnet_headers_and_mutated_super_packets)
{
    static struct gso_wire w;
    wire_init(&w);
    struct stack *st = wire_stack(&w, 1);
    struct sock *l;
    CHECK_EQ(stack_socket(st, &l), 0);
    CHECK_EQ(stack_bind(st, l, 0, 80), 0);
    CHECK_EQ(stack_listen(st, l, 4), 0);
    static uint8_t data[GSO_MAX_PACKET], pkt[GSO_MAX_PACKET];
    fill_random(data, sizeof data, 5);
    uint64_t rng = 6, now = 1000000;
    unsigned sent = 0;
    for (int i = 0; i < 3000; i++) {
        size_t payload = rng_next(&rng) % (GSO_MAX_PACKET - 100);
        struct tcp_segment seg = data_segment((uint32_t)rng_next(&rng), TCP_ACK);
        seg.dport = 80;
        if (rng_next(&rng) % 4 == 0)
            seg.flags = (uint8_t)rng_next(&rng);
        struct tcp_payload pl = payload_of(data, payload);
        size_t n = tcp_build_packet(pkt, sizeof pkt, A1, A2, 1, &seg, &pl);
        struct gso_hdr h = tso_hdr;
        h.gso_size = (uint16_t)(rng_next(&rng) % 3 ? 1 + rng_next(&rng) % 9000
                                                   : rng_next(&rng));
        if (rng_next(&rng) % 4 == 0) {
            h.flags = (uint8_t)rng_next(&rng);
            h.gso_type = (uint8_t)rng_next(&rng);
            h.hdr_len = (uint16_t)rng_next(&rng);
        }
        for (int flips = (int)(rng_next(&rng) % 4); flips > 0; flips--)
            pkt[rng_next(&rng) % 80] ^= (uint8_t)(1 + rng_next(&rng) % 255);
        if (rng_next(&rng) % 4 == 0)
            n = rng_next(&rng) % (n + 1);
        if (wire_send_whole(&w.end[0].link, &h, pkt, n) == 0)
            sent++;
        stack_receive(st, now);
        stack_timers(st, now);
        now += 1000;
        /* what the stack answered is dropped */
        uint8_t reply[GSO_MAX_PACKET];
        struct gso_hdr rh;
        while (wire_recv_gso(&w.end[0].link, reply, sizeof reply, &rh) > 0)
            ;
    }
    struct stack_stats stats;
    stack_get_stats(st, &stats);
    /* every packet counted: as one or more segments in, or a drop */
    CHECK(stats.ip_in >= sent);
    CHECK(stats.drops[DROP_GSO_SIZE] + stats.drops[DROP_GSO_HEADER] +
          stats.drops[DROP_GSO_TYPE] > 0);
    CHECK(stats.gso_in > 0);
    stack_free(st);
    wire_free(&w);
}

/* Two stacks on a gso wire with a connection from s[0] (c) to s[1] (a)
 * established and nothing in flight. */
struct gso_pair {
    struct gso_wire w;
    struct stack *s[2];
    struct sock *l, *c, *a;
    uint64_t now;
};

static void pair_exchange(struct gso_pair *p)
{
    for (int round = 0; round < 10; round++) {
        for (int i = 0; i < 2; i++) {
            stack_receive(p->s[i], p->now);
            stack_timers(p->s[i], p->now);
        }
        p->now += 100;
    }
}

static void pair_open(struct gso_pair *p)
{
    wire_init(&p->w);
    p->s[0] = wire_stack(&p->w, 0);
    p->s[1] = wire_stack(&p->w, 1);
    p->now = 1000000;
    CHECK_EQ(stack_socket(p->s[1], &p->l), 0);
    CHECK_EQ(stack_bind(p->s[1], p->l, 0, 80), 0);
    CHECK_EQ(stack_listen(p->s[1], p->l, 4), 0);
    CHECK_EQ(stack_socket(p->s[0], &p->c), 0);
    CHECK_EQ(stack_connect(p->s[0], p->c, A2, 80, p->now), -EINPROGRESS);
    pair_exchange(p);
    CHECK_EQ(stack_accept(p->s[1], p->l, &p->a), 0);
}

static void pair_close(struct gso_pair *p)
{
    stack_free(p->s[0]);
    stack_free(p->s[1]);
    wire_free(&p->w);
}

/* What arrives at a, read until nothing more comes. */
static size_t pair_read(struct gso_pair *p, uint8_t *buf, size_t cap)
{
    size_t got = 0;
    for (int round = 0; round < 1000; round++) {
        pair_exchange(p);
        ssize_t n = stack_recv(p->s[1], p->a, buf + got, cap - got, 0, p->now);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

/* The super-packet being built points into the send buffer (no copy): it
 * must leave before the buffer moves to a larger allocation, or it would
 * send freed memory (ASan) or the wrong bytes. */
TEST(gso_a_super_packet_in_the_making_leaves_before_its_send_buffer_moves)
{
    static struct gso_pair p;
    pair_open(&p);
    enum { FIRST = 3 * MSS, MORE = 200000 };
    static uint8_t out[FIRST + MORE], in[FIRST + MORE];
    fill_random(out, sizeof out, 7);
    CHECK_EQ(stack_send(p.s[0], p.c, out, FIRST, p.now), FIRST);
    /* not flushed: the next send grows the buffer under it */
    ssize_t n = stack_send(p.s[0], p.c, out + FIRST, MORE, p.now);
    CHECK(n > 0);
    stack_flush(p.s[0]);
    size_t want = FIRST + (size_t)n;
    CHECK_EQ(pair_read(&p, in, sizeof in), want);
    CHECK(memcmp(in, out, want) == 0);
    pair_close(&p);
}

/* ... and before the connection's end frees it: data emitted while the
 * peer's RST was on its way goes out (it finds no socket). */
TEST(gso_a_super_packet_in_the_making_leaves_before_a_reset_frees_its_send_buffer)
{
    static struct gso_pair p;
    pair_open(&p);
    static uint8_t out[3 * MSS];
    fill_random(out, sizeof out, 8);
    stack_abort(p.s[1], p.a, p.now);
    stack_flush(p.s[1]);
    CHECK_EQ(stack_send(p.s[0], p.c, out, sizeof out, p.now), (ssize_t)sizeof out);
    /* the RST arrives with the data not yet flushed */
    stack_receive(p.s[0], p.now);
    struct stack_stats st;
    stack_get_stats(p.s[0], &st);
    CHECK_EQ(st.gso_out, 1);
    CHECK_EQ(st.tcp.resets_in, 1);
    pair_close(&p);
}

/* ---- a super-packet taken whole, or as its segments one by one ---- */

#define PEER_ISS 1000000u
#define PEER_TS 5000u

/* A peer of crafted packets for a stack on a gso wire: end 0 is the
 * peer (A1:5000), end 1 the stack (A2:80). */
struct gso_peer {
    struct gso_wire w;
    struct stack *st;
    struct sock *l, *a;
    uint32_t snd_nxt, rcv_nxt, ts_ecr;
    uint64_t now;
    uint8_t replies[16384];   /* what the stack sent, back to back */
    size_t replies_len;
    unsigned replies_count;
    bool replies_overflow;     /* more than fit: not all kept */
};

static uint8_t peer_data[4 << 20];

static struct tcp_segment peer_seg(const struct gso_peer *p, uint32_t seq, uint8_t flags,
                                   uint32_t ts_val)
{
    return (struct tcp_segment){
        .sport = 5000, .dport = 80, .seq = seq, .ack = p->rcv_nxt, .flags = flags,
        .wnd = 65535, .opt = { .has_ts = true, .ts_val = ts_val, .ts_ecr = p->ts_ecr },
    };
}

/* Sends seg with the peer's data at its sequence number: a packet
 * behind vnet header h. */
static void peer_send(struct gso_peer *p, const struct gso_hdr *h, const struct tcp_segment *seg,
                      size_t len)
{
    static uint8_t pkt[GSO_MAX_PACKET];
    struct tcp_payload pl = payload_of(peer_data + (seg->seq - PEER_ISS - 1), len);
    size_t n = tcp_build_packet(pkt, sizeof pkt, A1, A2, 1, seg, &pl);
    CHECK(n > 0);
    CHECK_EQ(wire_send_whole(&p->w.end[0].link, h, pkt, n), 0);
}

/* Takes what the stack sent: appended to p->replies; the last one's
 * SEQ and TSval become the peer's RCV.NXT and TSecr. */
static void peer_take_replies(struct gso_peer *p)
{
    uint8_t pkt[GSO_MAX_PACKET];
    struct gso_hdr h;
    ssize_t n;
    while ((n = wire_recv_gso(&p->w.end[0].link, pkt, sizeof pkt, &h)) > 0) {
        struct ipv4_packet ip;
        struct tcp_segment seg;
        CHECK_EQ(ipv4_parse(pkt, (size_t)n, &ip), DROP_NONE);
        CHECK_EQ(tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &seg), DROP_NONE);
        p->rcv_nxt = seg.seq + seg.len + !!(seg.flags & (TCP_SYN | TCP_FIN));
        p->ts_ecr = seg.opt.ts_val;
        p->replies_count++;
        if ((size_t)n > sizeof p->replies - p->replies_len) {
            p->replies_overflow = true;
            continue;
        }
        memcpy(p->replies + p->replies_len, pkt, (size_t)n);
        p->replies_len += (size_t)n;
    }
}

/* The handshake, the stack's listener with receive buffer rcvbuf (0:
 * the default); then nothing owed either way. */
static void peer_open(struct gso_peer *p, int rcvbuf)
{
    wire_init(&p->w);
    p->st = wire_stack(&p->w, 1);
    p->now = 1000000;
    CHECK_EQ(stack_socket(p->st, &p->l), 0);
    if (rcvbuf)
        CHECK_EQ(stack_setopt(p->st, p->l, STACK_OPT_RCVBUF, rcvbuf, p->now), 0);
    CHECK_EQ(stack_bind(p->st, p->l, 0, 80), 0);
    CHECK_EQ(stack_listen(p->st, p->l, 4), 0);
    struct tcp_segment syn = peer_seg(p, PEER_ISS, TCP_SYN, PEER_TS);
    syn.opt.has_mss = syn.opt.has_wscale = syn.opt.sack_permitted = true;
    syn.opt.mss = 1460;
    syn.opt.wscale = 7;
    static const struct gso_hdr plain;
    peer_send(p, &plain, &syn, 0);
    stack_receive(p->st, p->now);
    peer_take_replies(p);
    p->snd_nxt = PEER_ISS + 1;
    struct tcp_segment ack = peer_seg(p, p->snd_nxt, TCP_ACK, PEER_TS);
    peer_send(p, &plain, &ack, 0);
    stack_receive(p->st, p->now);
    CHECK_EQ(stack_accept(p->st, p->l, &p->a), 0);
    p->replies_len = 0;
    p->replies_count = 0;
}

/* Bytes [seq, seq + len) with TSval ts_val, in one batch: as one
 * super-packet (PSH and `last_flags` on its last segment), or as its
 * segments of MSS bytes one by one. */
static void peer_send_data(struct gso_peer *p, bool whole, uint32_t seq, uint32_t len,
                           uint8_t last_flags, uint32_t ts_val)
{
    if (whole) {
        struct tcp_segment seg = peer_seg(p, seq, TCP_ACK | TCP_PSH | last_flags, ts_val);
        peer_send(p, &tso_hdr, &seg, len);
    } else {
        static const struct gso_hdr plain;
        for (uint32_t off = 0; off < len; off += MSS) {
            bool last = off + MSS >= len;
            struct tcp_segment seg = peer_seg(
                p, seq + off, last ? TCP_ACK | TCP_PSH | last_flags : TCP_ACK, ts_val);
            peer_send(p, &plain, &seg, last ? len - off : MSS);
        }
    }
    p->snd_nxt = seq + len;
    stack_receive(p->st, p->now);
    peer_take_replies(p);
}

/* One test case: `before` bytes in order first (segment by segment,
 * their ACK taken), then len bytes from `before - overlap + gap` with
 * TSval PEER_TS - ts_back. */
struct gso_case {
    int rcvbuf;
    uint32_t before, overlap, gap, len, ts_back;
    uint8_t last_flags;
};

static void run_case(struct gso_peer *p, bool whole, const struct gso_case *cs)
{
    peer_open(p, cs->rcvbuf);
    if (cs->before) {
        peer_send_data(p, false, p->snd_nxt, cs->before, 0, PEER_TS);
        p->replies_len = 0;
        p->replies_count = 0;
    }
    /* The stretch-ACK stride counts link packets (a super-packet is one,
     * as after GRO; test_rfc_timers.c): one by one, these segments would
     * be ACKed every quarter of the last batch. Out of the way here, where
     * what matters is that the super-packet leaves what its segments do. */
    ((struct tcp_conn *)stack_sock_conn(p->st, p->a))->ack_stride = UINT32_MAX;
    peer_send_data(p, whole, p->snd_nxt - cs->overlap + cs->gap, cs->len, cs->last_flags,
                   PEER_TS - cs->ts_back);
}

static void peer_close(struct gso_peer *p)
{
    stack_free(p->st);
    wire_free(&p->w);
}

#define SAME(f) CHECK_EQ(a->f, b->f)

/* A super-packet and its segments one by one leave the connection in
 * the same state, with the same segments sent and the same counts; the
 * super-packet was taken whole, or not. */
static void whole_is_one_by_one(const struct gso_case *cs, bool taken_whole)
{
    static struct gso_peer pw, ps;
    run_case(&pw, true, cs);
    run_case(&ps, false, cs);
    const struct tcp_conn *a = &pw.a->conn, *b = &ps.a->conn;
    SAME(state);
    SAME(rcv_nxt);
    SAME(rcv_wnd);
    SAME(rcv_adv);
    SAME(last_ack_sent);
    SAME(snd_una);
    SAME(snd_nxt);
    SAME(snd_wnd);
    SAME(snd_wl1);
    SAME(snd_wl2);
    SAME(ts_recent);
    SAME(ts_recent_at);
    SAME(segs_unacked);
    SAME(delack_at);
    SAME(ack_now);
    SAME(ack_soon);
    SAME(ack_deferred);
    SAME(dsack);
    SAME(fin_received);
    SAME(rcvbuf.len);
    SAME(reass.count);
    SAME(stats.segs_in);
    SAME(stats.data_segs_in);
    SAME(stats.bytes_received);
    /* the same ACKs, byte for byte */
    CHECK(!pw.replies_overflow && !ps.replies_overflow);
    CHECK_EQ(pw.replies_count, ps.replies_count);
    CHECK_EQ(pw.replies_len, ps.replies_len);
    CHECK(memcmp(pw.replies, ps.replies, pw.replies_len) == 0);
    /* the same counts: segments as they would be on a wire */
    struct stack_stats sw, ss;
    stack_get_stats(pw.st, &sw);
    stack_get_stats(ps.st, &ss);
    CHECK_EQ(sw.ip_in, ss.ip_in);
    CHECK_EQ(sw.tcp_in, ss.tcp_in);
    CHECK(memcmp(&sw.tcp, &ss.tcp, sizeof sw.tcp) == 0);
    /* and the same bytes to read */
    static uint8_t rw[sizeof peer_data], rs[sizeof peer_data];
    ssize_t nw = stack_recv(pw.st, pw.a, rw, sizeof rw, 0, pw.now);
    ssize_t ns = stack_recv(ps.st, ps.a, rs, sizeof rs, 0, ps.now);
    CHECK_EQ(nw, ns);
    CHECK(nw <= 0 || memcmp(rw, rs, (size_t)nw) == 0);
    CHECK_EQ(sw.gso_in, 1);
    CHECK_EQ(sw.gso_in_whole, taken_whole);
    peer_close(&pw);
    peer_close(&ps);
}

static void fill_peer_data(void)
{
    fill_random(peer_data, sizeof peer_data, 9);
}

/* RFC 9293 3.8.6.3 (ACK at least every second segment) with a super-packet
 * counted as its segments: in order, it is taken whole and draws the one
 * ACK its segments draw at the end of the batch. */
TEST(rfc9293_3_8_6_3_an_in_order_super_packet_is_taken_whole_and_acked_as_its_segments)
{
    fill_peer_data();
    whole_is_one_by_one(&(struct gso_case){ .len = 20 * MSS }, true);
    /* a short last segment, after data already taken */
    whole_is_one_by_one(&(struct gso_case){ .before = 3 * MSS, .len = 10 * MSS + 77 }, true);
    /* 45 segments: 64 KB, within the window */
    whole_is_one_by_one(&(struct gso_case){ .len = 45 * MSS }, true);
}

/* RFC 9293 3.10.7.4 eighth: a FIN on the last segment is processed after
 * all the text, and ACKed at once. */
TEST(rfc9293_3_10_7_4_a_super_packet_with_fin_is_taken_whole_and_its_fin_acked_at_once)
{
    fill_peer_data();
    whole_is_one_by_one(&(struct gso_case){ .len = 5 * MSS, .last_flags = TCP_FIN }, true);
}

/* RFC 5681 4.2: out-of-order data is ACKed at once, each segment: a
 * super-packet beyond a gap goes segment by segment (same SACK blocks). */
TEST(rfc5681_4_2_an_out_of_order_super_packet_goes_segment_by_segment)
{
    fill_peer_data();
    whole_is_one_by_one(&(struct gso_case){ .gap = MSS, .len = 6 * MSS }, false);
}

/* RFC 2883 (D-SACK): a super-packet that repeats data already received
 * goes segment by segment, each duplicate reported as its segment would
 * be. */
TEST(rfc2883_a_super_packet_repeating_received_data_goes_segment_by_segment)
{
    fill_peer_data();
    whole_is_one_by_one(&(struct gso_case){ .before = 4 * MSS, .overlap = 2 * MSS, .len = 6 * MSS }, false);
}

/* RFC 7323 5.3 R1 (PAWS): each segment of an old super-packet is dropped
 * and answered with an ACK, as it would be alone. */
TEST(rfc7323_5_3_paws_drops_each_segment_of_an_old_super_packet)
{
    fill_peer_data();
    whole_is_one_by_one(&(struct gso_case){ .before = MSS, .len = 4 * MSS, .ts_back = 3 }, false);
}

/* RFC 9293 3.10.7.4 first and seventh: a super-packet beyond the window
 * goes segment by segment: what fits is kept, the rest dropped and
 * ACKed as each segment would be. */
TEST(rfc9293_3_10_7_4_a_super_packet_beyond_the_window_goes_segment_by_segment)
{
    fill_peer_data();
    whole_is_one_by_one(&(struct gso_case){ .rcvbuf = 8192, .len = 12 * MSS }, false);
}

/* Hostile input: super-packets near RCV.NXT for an established connection,
 * with random flags, TSvals, ACKs, gso_size and lengths, some in order and
 * so taken whole: nothing crashes, and every byte taken in order is the
 * peer's byte at that place. */
TEST(gso_an_established_connection_survives_random_super_packets_near_rcv_nxt)
{
    static struct gso_peer p;
    fill_peer_data();
    peer_open(&p, 0);
    uint64_t rng = 10;
    uint32_t base = p.snd_nxt;
    static uint8_t got[sizeof peer_data];
    size_t read = 0;
    for (int i = 0; i < 2000 && !tcp_is_closed(&p.a->conn); i++) {
        uint32_t next = p.a->conn.rcv_nxt;
        if (next - base > sizeof peer_data - 2 * GSO_MAX_PACKET)
            break;
        uint32_t seq = next + (uint32_t)(rng_next(&rng) % 4 == 0 ? rng_next(&rng) % 9000 - 4500 : 0);
        if (seq_lt(seq, base + 1) || seq - base > sizeof peer_data - GSO_MAX_PACKET)
            seq = next;
        uint32_t len = 1 + (uint32_t)(rng_next(&rng) % 30000);
        uint32_t ts = PEER_TS + (uint32_t)i - (rng_next(&rng) % 8 == 0 ? 3 : 0);
        struct tcp_segment seg = peer_seg(&p, seq, TCP_ACK, ts);
        if (rng_next(&rng) % 8 == 0)
            seg.flags |= (uint8_t)(rng_next(&rng) & (TCP_PSH | TCP_URG | TCP_ECE | TCP_CWR));
        if (rng_next(&rng) % 128 == 0)
            seg.flags = (uint8_t)(rng_next(&rng) & ~(TCP_SYN | TCP_RST));
        if (rng_next(&rng) % 8 == 0)
            seg.ack += (uint32_t)(rng_next(&rng) % 5) - 2;
        if (rng_next(&rng) % 8 == 0) {
            seg.opt.sack_count = 1;
            seg.opt.sack[0].left = p.rcv_nxt - 100;
            seg.opt.sack[0].right = p.rcv_nxt;
        }
        struct gso_hdr h = tso_hdr;
        h.gso_size = (uint16_t)(rng_next(&rng) % 3 ? MSS : 1 + rng_next(&rng) % 3000);
        peer_send(&p, &h, &seg, len);
        stack_receive(p.st, p.now);
        p.replies_len = 0;
        peer_take_replies(&p);
        p.now += 1000;
        ssize_t n = stack_recv(p.st, p.a, got + read, sizeof got - read, 0, p.now);
        if (n > 0)
            read += (size_t)n;
        stack_timers(p.st, p.now);
    }
    struct stack_stats st;
    stack_get_stats(p.st, &st);
    CHECK(st.gso_in_whole > 0);
    CHECK(read > 0);
    CHECK(memcmp(got, peer_data, read) == 0);
    peer_close(&p);
}
