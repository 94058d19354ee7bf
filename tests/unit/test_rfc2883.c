/* RFC 2883 (An Extension to the SACK Option for TCP: D-SACK) over the
 * probe harness: a duplicate segment is reported in the first SACK block
 * of the ACK it draws. The examples of section 4 are played with their
 * own sequence numbers at half scale (their 1500-byte packets exceed the
 * MSS): the test's stream starts at `first`, the number of the example's
 * first segment, and an example's 500 bytes are 250 here. */
#include "probe.h"
#include "test.h"

/* An example's segment [from, to) ("from-(to-1)" in the RFC's tables) of
 * a stream whose first octet the example numbers `first`. */
struct example {
    struct probe *p;
    struct peer *c;
    uint32_t first;
};

static void example_send(const struct example *e, uint32_t from, uint32_t to)
{
    peer_send_range(e->p, e->c, (from - e->first) / 2, (to - e->first) / 2);
}

/* The stack's sequence number for the example's x. */
static uint32_t example_seq(const struct example *e, uint32_t x)
{
    return e->c->snd_nxt + (x - e->first) / 2;
}

/* The next ACK acknowledges the example's `ack` with the n blocks of
 * `edges` (the example's numbers). */
static bool example_ack(const struct example *e, uint32_t ack, unsigned n, const uint32_t *edges)
{
    uint32_t seqs[2 * TCP_MAX_SACK_BLOCKS];
    for (unsigned i = 0; i < 2 * n; i++)
        seqs[i] = example_seq(e, edges[i]);
    return expect_sack(e->p, NULL, example_seq(e, ack), n, seqs);
}

/* RFC 2883 4.1.1, Example 1 (reporting a duplicate segment): "the
 * receiver subsequently receives a duplicate segment with sequence numbers
 * 3000-3499. The receiver sends an acknowledgement with the cumulative
 * acknowledgement field set to 4000, and the first, D-SACK block
 * specifying sequence numbers 3000-3500." And 4 (2): "Each duplicate
 * contiguous sequence of data received is reported in at most one D-SACK
 * block": the next ACK has none. */
TEST(rfc2883_4_1_1_dsack_for_a_duplicate_below_rcv_nxt)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    struct example e = { &p, &c, 3000 };
    example_send(&e, 3000, 3500);
    example_send(&e, 3500, 4000);
    CHECK(example_ack(&e, 4000, 0, NULL));   /* every second segment */
    example_send(&e, 3000, 3500);
    CHECK(example_ack(&e, 4000, 1, (uint32_t[]){ 3000, 3500 }));
    example_send(&e, 4500, 5000);
    CHECK(example_ack(&e, 4000, 1, (uint32_t[]){ 4500, 5000 }));
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* RFC 2883 4.1.2, Example 2 (reporting an out-of-order segment and a
 * duplicate segment): the D-SACK block first, then the blocks RFC 2018
 * reports: "4000, SACK=3000-3500, 4500-5000". */
TEST(rfc2883_4_1_2_dsack_then_the_out_of_order_blocks)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, true);
    struct example e = { &p, &c, 3000 };
    example_send(&e, 3000, 3500);
    example_send(&e, 3500, 4000);
    CHECK(example_ack(&e, 4000, 0, NULL));
    example_send(&e, 4500, 5000);
    CHECK(example_ack(&e, 4000, 1, (uint32_t[]){ 4500, 5000 }));
    example_send(&e, 3000, 3500);
    CHECK(example_ack(&e, 4000, 2, (uint32_t[]){ 3000, 3500, 4500, 5000 }));
    probe_free(&p);
}

/* RFC 2883 4.1.3, Example 3 (reporting a duplicate of an out-of-order
 * segment): "4000, SACK=5000-5500, 4500-5500", by 4 (4): "If the D-SACK
 * block reports a duplicate contiguous sequence from a (possibly larger)
 * block of data in the receiver's data queue above the cumulative
 * acknowledgement, then the second SACK block in that SACK option should
 * specify that (possibly larger) block of data." That block is then the
 * most recent, ahead of one reported since. */
TEST(rfc2883_4_1_3_dsack_then_the_containing_block)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    struct example e = { &p, &c, 3500 };
    example_send(&e, 3500, 4000);
    probe_advance(&p, 100 * MSEC);
    CHECK(example_ack(&e, 4000, 0, NULL));
    example_send(&e, 4500, 5000);
    CHECK(example_ack(&e, 4000, 1, (uint32_t[]){ 4500, 5000 }));
    example_send(&e, 5000, 5500);
    CHECK(example_ack(&e, 4000, 1, (uint32_t[]){ 4500, 5500 }));
    example_send(&e, 6000, 6500);
    CHECK(example_ack(&e, 4000, 2, (uint32_t[]){ 6000, 6500, 4500, 5500 }));
    example_send(&e, 5000, 5500);
    CHECK(example_ack(&e, 4000, 3, (uint32_t[]){ 5000, 5500, 4500, 5500, 6000, 6500 }));
    /* the duplicate of a whole block: that range twice */
    example_send(&e, 6000, 6500);
    CHECK(example_ack(&e, 4000, 3, (uint32_t[]){ 6000, 6500, 6000, 6500, 4500, 5500 }));
    probe_free(&p);
}

/* RFC 2883 4.2.1, Example 4 (reporting a single duplicate subsegment): "a
 * 1000-byte packet containing one 500-byte subsegment that has already
 * been received and one which has not. The receiver reports only the
 * already received subsegment using a single D-SACK block":
 * "2500, SACK=1000-1500". */
TEST(rfc2883_4_2_1_dsack_for_a_single_duplicate_subsegment)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    struct example e = { &p, &c, 500 };
    example_send(&e, 500, 1000);
    probe_advance(&p, 100 * MSEC);
    CHECK(example_ack(&e, 1000, 0, NULL));
    example_send(&e, 2000, 2500);
    CHECK(example_ack(&e, 1000, 1, (uint32_t[]){ 2000, 2500 }));
    example_send(&e, 1000, 1500);
    CHECK(example_ack(&e, 1500, 1, (uint32_t[]){ 2000, 2500 }));
    example_send(&e, 1000, 2000);
    CHECK(example_ack(&e, 2500, 1, (uint32_t[]){ 1000, 1500 }));
    probe_free(&p);
}

/* RFC 2883 4.2.2, Example 5 (two non-contiguous duplicate subsegments
 * covered by the cumulative acknowledgement): "The receiver reports the
 * first such duplicate segment in a single D-SACK block":
 * "2500, SACK=1000-1500, 3000-3500". */
TEST(rfc2883_4_2_2_the_first_of_two_duplicate_subsegments_below_the_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, true);
    struct example e = { &p, &c, 500 };
    example_send(&e, 500, 1000);
    probe_advance(&p, 100 * MSEC);
    CHECK(example_ack(&e, 1000, 0, NULL));
    example_send(&e, 3000, 3500);
    CHECK(example_ack(&e, 1000, 1, (uint32_t[]){ 3000, 3500 }));
    example_send(&e, 1000, 1500);
    CHECK(example_ack(&e, 1500, 1, (uint32_t[]){ 3000, 3500 }));
    example_send(&e, 2000, 2500);
    CHECK(example_ack(&e, 1500, 2, (uint32_t[]){ 2000, 2500, 3000, 3500 }));
    example_send(&e, 1000, 2500);
    CHECK(example_ack(&e, 2500, 2, (uint32_t[]){ 1000, 1500, 3000, 3500 }));
    probe_free(&p);
}

/* RFC 2883 4.2.3, Example 6 (two non-contiguous duplicate subsegments not
 * covered by the cumulative acknowledgement): the first duplicate, then
 * the block the packet made: "1000, SACK=1500-2000, 1500-3500". */
TEST(rfc2883_4_2_3_the_first_of_two_duplicate_subsegments_above_the_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    struct example e = { &p, &c, 500 };
    example_send(&e, 500, 1000);
    probe_advance(&p, 100 * MSEC);
    CHECK(example_ack(&e, 1000, 0, NULL));
    example_send(&e, 3000, 3500);
    CHECK(example_ack(&e, 1000, 1, (uint32_t[]){ 3000, 3500 }));
    example_send(&e, 1500, 2000);
    CHECK(example_ack(&e, 1000, 2, (uint32_t[]){ 1500, 2000, 3000, 3500 }));
    example_send(&e, 2500, 3000);
    CHECK(example_ack(&e, 1000, 2, (uint32_t[]){ 2500, 3500, 1500, 2000 }));
    example_send(&e, 1500, 3000);
    CHECK(example_ack(&e, 1000, 2, (uint32_t[]){ 1500, 2000, 1500, 3500 }));
    probe_free(&p);
}

/* RFC 2883 4 (1): "A D-SACK block is only used to report a duplicate
 * contiguous sequence of data received by the receiver in the most recent
 * packet", so a segment partly duplicate, which would otherwise wait for
 * the delayed-ACK timer, is ACKed at once with its D-SACK block. */
TEST(rfc2883_4_a_partial_duplicate_is_acked_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, false);
    struct example e = { &p, &c, 0 };
    example_send(&e, 0, 1000);
    probe_advance(&p, 100 * MSEC);
    CHECK(example_ack(&e, 1000, 0, NULL));
    example_send(&e, 500, 1500);
    CHECK(example_ack(&e, 1500, 1, (uint32_t[]){ 500, 1000 }));
    probe_free(&p);
}

/* RFC 2883 4.3: PAWS drops an old duplicate and ACKs it; "The D-SACK
 * block can be included in the SACK option of the ACK ... independently
 * of the determination by PAWS of the validity or invalidity of the data
 * segment." */
TEST(rfc2883_4_3_dsack_for_a_duplicate_paws_drops)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_sack_open(&p, &c, true);
    struct example e = { &p, &c, 3000 };
    example_send(&e, 3000, 3500);
    example_send(&e, 3500, 4000);
    CHECK(example_ack(&e, 4000, 0, NULL));
    struct tcp_segment old = seg_make(c.port, c.stack_port, example_seq(&e, 3000), c.rcv_nxt,
                                      TCP_ACK, 65535);
    old.opt = (struct tcp_options){ .has_ts = true, .ts_val = 1 };
    old.len = 250;
    uint8_t data[250] = { 0 };
    probe_send(&p, &old, data);
    struct stack_stats st;
    stack_get_stats(p.stack, &st);
    CHECK_EQ(st.tcp.paws_drops, 1);
    CHECK(example_ack(&e, 4000, 1, (uint32_t[]){ 3000, 3500 }));
    probe_free(&p);
}
