/* RFC 2018 (TCP Selective Acknowledgment Options) over the probe harness:
 * the SACK-permitted negotiation. */
#include "probe.h"
#include "rng.h"
#include "test.h"

static void sack_off(struct stack_config *cfg)
{
    cfg->tcp.sack = false;
}

/* Whether the SYN-ACK a listener on port 80 answers a SYN with carries
 * SACK-permitted, the SYN offering SACK or not. */
static bool synack_permits_sack(struct probe *p, bool sack_permitted)
{
    probe_listen(p, 80, 16);
    struct tcp_segment syn = seg_make(40000, 80, 1000, 0, TCP_SYN, 65535);
    syn.opt = (struct tcp_options){ .has_mss = true, .mss = 1460,
                                    .sack_permitted = sack_permitted };
    probe_send(p, &syn, NULL);
    struct tcp_segment synack;
    return probe_recv(p, &synack) && synack.flags == (TCP_SYN | TCP_ACK) &&
           synack.opt.sack_permitted;
}

/* RFC 2018 2: "This two-byte option may be sent in a SYN by a TCP that
 * has been extended to receive (and presumably process) the SACK option
 * once the connection has opened. It MUST NOT be sent on non-SYN
 * segments." */
TEST(rfc2018_2_sack_permitted_offered_in_the_syn_and_only_there)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k;
    CHECK_EQ(stack_socket(p.stack, &k), 0);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 5000, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    CHECK_EQ(syn.flags, TCP_SYN);
    CHECK(syn.opt.sack_permitted);
    struct tcp_segment synack = seg_make(5000, syn.sport, 7000, syn.seq + 1, TCP_SYN | TCP_ACK, 65535);
    synack.opt = (struct tcp_options){ .has_mss = true, .mss = 1460, .sack_permitted = true };
    probe_send(&p, &synack, NULL);
    struct tcp_segment ack;
    CHECK(expect_seg(&p, &ack, TCP_ACK, syn.seq + 1, 7001));
    CHECK(!ack.opt.sack_permitted);
    CHECK(stack_sock_conn(p.stack, k)->sack_on);
    probe_free(&p);
}

/* RFC 2018 2: SACK is used only when both SYNs carried SACK-permitted; a
 * SYN-ACK answers the offer and never makes one. */
TEST(rfc2018_2_sack_only_when_both_syns_carry_sack_permitted)
{
    struct probe p;
    probe_init(&p, NULL);
    CHECK(synack_permits_sack(&p, true));
    probe_free(&p);
    probe_init(&p, NULL);
    CHECK(!synack_permits_sack(&p, false));
    probe_free(&p);
    probe_init(&p, NULL);
    struct peer c;
    peer_active_open(&p, &c, 5000, NULL);   /* a SYN-ACK without it */
    CHECK(!stack_sock_conn(p.stack, c.sock)->sack_on);
    probe_free(&p);
}

/* Configured off (TUNTCP_SACK=0, as Linux's net.ipv4.tcp_sack=0): never
 * offered, and an offer is not taken. */
TEST(rfc2018_2_sack_off_neither_offers_nor_answers)
{
    struct probe p;
    probe_init(&p, sack_off);
    CHECK(!synack_permits_sack(&p, true));
    probe_free(&p);
    probe_init(&p, sack_off);
    struct sock *k;
    CHECK_EQ(stack_socket(p.stack, &k), 0);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 5000, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    CHECK(!syn.opt.sack_permitted);
    probe_free(&p);
}

/* ---- RFC 2018 4: the SACK blocks of the data receiver's ACKs ---- */

static const uint8_t payload[1460];

/* RFC 2018 4: "If sent at all, SACK options SHOULD be included in all
 * ACKs which do not ACK the highest sequence number in the data
 * receiver's queue" and "The first SACK block ... MUST specify the
 * contiguous block of data containing the segment which triggered this
 * ACK": one that bridges two blocks reports the one they make. Without
 * SACK negotiated, no blocks. */
TEST(rfc2018_4_first_block_holds_the_most_recent_segment)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    uint32_t b = c.snd_nxt;
    peer_send_range(&p, &c, 100, 200);
    CHECK(expect_sack(&p, NULL, b, 1, (uint32_t[]){ b + 100, b + 200 }));
    peer_send_range(&p, &c, 300, 400);
    CHECK(expect_sack(&p, NULL, b, 2, (uint32_t[]){ b + 300, b + 400, b + 100, b + 200 }));
    peer_send_range(&p, &c, 200, 300);
    CHECK(expect_sack(&p, NULL, b, 1, (uint32_t[]){ b + 100, b + 400 }));
    CHECK(probe_silent(&p));
    probe_free(&p);

    probe_init(&p, NULL);
    peer_passive_open(&p, &c, 80, NULL);
    b = c.snd_nxt;
    peer_send_range(&p, &c, 100, 200);
    CHECK(expect_sack(&p, NULL, b, 0, NULL));
    probe_free(&p);
}

/* RFC 2018 4: "The SACK option SHOULD be filled out by repeating the most
 * recently reported SACK blocks (based on first SACK blocks in previous
 * SACK options) that are not subsets of a SACK block already included":
 * in the order of recency, not of sequence. */
TEST(rfc2018_4_further_blocks_repeat_the_most_recently_reported)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    uint32_t b = c.snd_nxt;
    peer_send_range(&p, &c, 100, 200);
    peer_send_range(&p, &c, 500, 600);
    peer_send_range(&p, &c, 300, 400);
    CHECK_EQ(probe_drain(&p), 3);
    /* the oldest block grows: first now, the others in their order */
    peer_send_range(&p, &c, 200, 250);
    CHECK(expect_sack(&p, NULL, b, 3, (uint32_t[]){ b + 100, b + 250, b + 300, b + 400,
                                                   b + 500, b + 600 }));
    peer_send_range(&p, &c, 600, 650);
    CHECK(expect_sack(&p, NULL, b, 3, (uint32_t[]){ b + 500, b + 650, b + 100, b + 250,
                                                   b + 300, b + 400 }));
    probe_free(&p);
}

/* Five blocks held: the ACK reports the four most recent. */
static void five_blocks(bool ts)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, ts);
    CHECK_EQ(c.ts, ts);
    uint32_t b = c.snd_nxt;
    for (uint32_t i = 1; i <= 4; i++) {
        peer_send_range(&p, &c, 200 * i, 200 * i + 100);
        probe_drain(&p);
    }
    peer_send_range(&p, &c, 1000, 1100);
    struct tcp_segment ack;
    uint32_t edges[] = { b + 1000, b + 1100, b + 800, b + 900, b + 600, b + 700,
                         b + 400, b + 500 };
    CHECK(expect_sack(&p, &ack, b, ts ? 3 : 4, edges));
    CHECK_EQ(ack.opt.has_ts, ts);
    probe_free(&p);
}

/* RFC 2018 3: "a SACK option that specifies n blocks will have a length of
 * 8*n+2 bytes, so the 40 bytes available for TCP options can specify a
 * maximum of 4 blocks." */
TEST(rfc2018_3_at_most_four_blocks_without_timestamps)
{
    five_blocks(false);
}

/* RFC 2018 3: "It is expected that SACK will often be used in conjunction
 * with the Timestamp option ... which takes an additional 10 bytes (plus
 * two bytes of padding); thus a maximum of 3 SACK blocks will be allowed
 * in this case." */
TEST(rfc2018_3_at_most_three_blocks_with_timestamps)
{
    five_blocks(true);
}

/* RFC 2018 4: blocks report data "not covered by" the cumulative ACK;
 * when a segment advances it, the blocks it swallowed go, and with nothing
 * held out of order the option goes too. */
TEST(rfc2018_4_no_block_at_or_below_rcv_nxt)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, true);
    uint32_t b = c.snd_nxt;
    peer_send_range(&p, &c, 400, 500);
    peer_send_range(&p, &c, 200, 300);
    CHECK_EQ(probe_drain(&p), 2);
    peer_send_range(&p, &c, 0, 200);
    CHECK(expect_sack(&p, NULL, b + 300, 1, (uint32_t[]){ b + 400, b + 500 }));
    peer_send_range(&p, &c, 300, 400);
    CHECK(expect_sack(&p, NULL, b + 500, 0, NULL));
    probe_free(&p);
}

/* RFC 2018 4 on ACKs that carry data: the blocks go in what the data
 * leaves of the MSS, so the packet stays within the MTU; new data leaves
 * room for them (Linux's tcp_current_mss): a write of a full MSS goes
 * 20 bytes short (two blocks: 4 + 2 * 8), carrying both. */
TEST(rfc2018_4_sack_blocks_on_data_segments_within_the_mss)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    uint32_t b = c.snd_nxt;
    peer_send_range(&p, &c, 100, 200);
    CHECK_EQ(probe_drain(&p), 1);
    struct tcp_segment seg;
    CHECK_EQ(stack_send(p.stack, c.sock, payload, 100, p.now), 100);
    CHECK(expect_sack(&p, &seg, b, 1, (uint32_t[]){ b + 100, b + 200 }));
    CHECK_EQ(seg.len, 100);
    c.rcv_nxt += 100;
    peer_send_range(&p, &c, 300, 400);
    CHECK(expect_sack(&p, NULL, b, 2, (uint32_t[]){ b + 300, b + 400, b + 100, b + 200 }));
    CHECK_EQ(stack_send(p.stack, c.sock, payload, 1460, p.now), 1460);
    CHECK(expect_sack(&p, &seg, b, 2, (uint32_t[]){ b + 300, b + 400, b + 100, b + 200 }));
    CHECK_EQ(seg.len, 1460 - 20);
    struct stack_stats st;
    stack_get_stats(p.stack, &st);
    CHECK_EQ(st.link_errors, 0);
    probe_free(&p);
}

/* RFC 2018 4 with timestamps (RFC 7323): a bulk write while a range is
 * held goes out in segments of the MSS less the block (12 bytes), each
 * carrying it, none held back by Nagle for being shorter than the MSS;
 * once RCV.NXT passes the hole, full segments again. */
TEST(rfc2018_4_sack_blocks_ride_on_every_data_segment_while_data_is_held)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, true);
    uint32_t b = c.snd_nxt;
    peer_send_range(&p, &c, 1000, 2000);
    CHECK_EQ(probe_drain(&p), 1);
    uint32_t mss = stack_sock_conn(p.stack, c.sock)->snd_mss;
    static const uint8_t four[4 * sizeof payload];
    CHECK_EQ(stack_send(p.stack, c.sock, four, 4 * mss, p.now), 4 * mss);
    struct tcp_segment seg;
    for (int i = 0; i < 4; i++) {
        CHECK(expect_sack(&p, &seg, b, 1, (uint32_t[]){ b + 1000, b + 2000 }));
        CHECK_EQ(seg.len, mss - 12);
    }
    /* the hole filled: the tail and what follows in full segments */
    peer_send_range(&p, &c, 0, 1000);
    c.rcv_nxt += 2000;
    probe_drain(&p);
    CHECK_EQ(stack_send(p.stack, c.sock, payload, mss, p.now), mss);
    CHECK(expect_sack(&p, &seg, b + 2000, 0, NULL));
    CHECK_EQ(seg.len, mss);
    probe_free(&p);
}

/* RFC 2018 4: "the data receiver SHOULD include as many distinct SACK
 * blocks as possible in the SACK option": after the recent blocks, the
 * others held, also those older than the last four reported. */
TEST(rfc2018_4_as_many_distinct_blocks_as_possible)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    uint32_t b = c.snd_nxt;
    peer_send_range(&p, &c, 1000, 1100);
    peer_send_range(&p, &c, 1200, 1300);
    for (uint32_t i = 1; i <= 4; i++)
        peer_send_range(&p, &c, 200 * i, 200 * i + 100);
    CHECK_EQ(probe_drain(&p), 6);
    /* the gaps below the last four fill: none of them is left */
    for (uint32_t i = 0; i < 3; i++)
        peer_send_range(&p, &c, i ? 200 * i + 100 : 0, 200 * i + 200);
    CHECK_EQ(probe_drain(&p), 3);
    peer_send_range(&p, &c, 700, 800);
    CHECK(expect_sack(&p, NULL, b + 900, 2, (uint32_t[]){ b + 1000, b + 1100, b + 1200, b + 1300 }));
    probe_free(&p);
}

/* Whatever the peer sends (segments anywhere, overlapping, duplicate, in
 * and out of order), every ACK's blocks are ranges the stack holds beyond
 * RCV.NXT, distinct, as many as fit, the first block perhaps a D-SACK of
 * the segment just sent. */
TEST(rfc2018_4_blocks_always_report_held_data_as_many_as_fit)
{
    for (int ts = 0; ts <= 1; ts++) {
        struct probe p;
        probe_init(&p, NULL);
        struct peer c;
        peer_sack_open(&p, &c, ts);
        const struct tcp_conn *k = stack_sock_conn(p.stack, c.sock);
        uint32_t b = c.snd_nxt;
        uint64_t seed = 7 + (uint64_t)ts;
        for (int round = 0; round < 3000; round++) {
            uint32_t at = k->rcv_nxt - b;
            uint32_t from = rng_chance(&seed, 0.1) ? at : (uint32_t)(rng_next(&seed) % 30000);
            if (rng_chance(&seed, 0.1))
                from = at > 3000 ? at - 3000 : 0;
            uint32_t to = from + 1 + (uint32_t)(rng_next(&seed) % 1460);
            struct reass had = k->reass;
            uint32_t had_nxt = k->rcv_nxt;
            peer_send_range(&p, &c, from, to);
            struct tcp_segment a;
            while (probe_recv(&p, &a)) {
                const struct reass *q = &k->reass;
                unsigned fit = ts ? 3 : 4, n = a.opt.sack_count, dsack = 0;
                CHECK(n <= fit);
                for (unsigned i = 0; i < n; i++) {
                    uint32_t l = a.opt.sack[i].left, r = a.opt.sack[i].right;
                    CHECK(seq_lt(l, r));
                    const struct reass_range *h = reass_find(q, l, r);
                    bool held = h && h->start == l && h->end == r;
                    if (i == 0 && (!held || (n > 1 && a.opt.sack[1].left == l &&
                                             a.opt.sack[1].right == r))) {
                        /* a D-SACK: part of the segment, already had */
                        const struct reass_range *o = reass_find(&had, l, r);
                        CHECK(seq_ge(l, b + from) && seq_le(r, b + to));
                        CHECK(seq_le(r, had_nxt) || (o && seq_le(o->start, l) && seq_le(r, o->end)));
                        dsack = 1;
                        continue;
                    }
                    CHECK_MSG(held && seq_gt(l, a.ack), "block [%u, %u) not held", l, r);
                    for (unsigned j = dsack; j < i; j++)
                        CHECK(a.opt.sack[j].left != l);
                }
                CHECK_EQ(n - dsack, q->count < fit - dsack ? q->count : fit - dsack);
            }
            if (round % 500 == 499) {   /* the gap fills now and then */
                peer_send_range(&p, &c, at, at + 20000);
                probe_drain(&p);
            }
        }
        probe_free(&p);
    }
}
