/* RFC 6937 (Proportional Rate Reduction) over the probe harness: the test
 * is a SACK receiver and counts what the stack sends on each ACK of a
 * fast recovery. */
#include "probe.h"
#include "tcp_internal.h"
#include "test.h"

#define A TCP_ACK
#define MSS 1460

/* A connection with SACK; `bytes` queued, the segments of the initial
 * window (ten) sent, and a round trip of 1 ms (RACK then judges the
 * segments resent now by the time they were). Returns the first
 * segment's sequence number. */
static uint32_t open_and_send(struct probe *p, struct peer *c, uint32_t bytes)
{
    probe_init(p, NULL);
    uint32_t base = peer_sack_open_and_send(p, c, 0, bytes);
    probe_advance(p, MSEC);
    return base;
}

/* An ACK of segment `ack` SACKing segments [left, right). */
static void sack(struct probe *p, struct peer *c, uint32_t base, unsigned ack,
                 unsigned left, unsigned right)
{
    const uint32_t edges[2] = { base + left * MSS, base + right * MSS };
    peer_send_sack(p, c, base + ack * MSS, 1, edges);
}

/* RFC 6937 3: while pipe > ssthresh, "sndcnt = CEIL(prr_delivered *
 * ssthresh / RecoverFS) - prr_out": with ssthresh half of RecoverFS, one
 * segment goes out for every two delivered, from the first ACKs of the
 * recovery on (where cwnd = ssthresh would send nothing until pipe had
 * fallen to ssthresh); once pipe is down to ssthresh, one for each. */
TEST(rfc6937_3_prr_sends_one_segment_per_two_delivered_while_pipe_exceeds_ssthresh)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 20 * MSS);
    sack(&p, &c, base, 0, 1, 4);    /* IsLost(segment 0): recovery */
    CHECK(expect_seg(&p, NULL, A, base, c.snd_nxt));
    CHECK(probe_silent(&p));
    unsigned sent[6];
    for (unsigned i = 0; i < 6; i++) {
        sack(&p, &c, base, 0, 1, 5 + i);
        sent[i] = probe_drain(&p);
    }
    static const unsigned expected[6] = { 1, 0, 0, 1, 1, 1 };
    for (unsigned i = 0; i < 6; i++)
        CHECK_EQ(sent[i], expected[i]);
    const struct tcp_conn *tc = stack_sock_conn(p.stack, c.sock);
    CHECK_EQ(tc->prr_delivered, 9 * MSS);
    CHECK_EQ(tc->prr_out, 5 * MSS);
    CHECK_EQ(tcp_pipe(tc), tc->ssthresh);
    probe_free(&p);
}

/* RFC 6937 3, PRR-SSRB: once pipe is below ssthresh, "limit =
 * MAX(prr_delivered - prr_out, DeliveredData) + MSS; sndcnt = MIN(ssthresh
 * - pipe, limit)": a burst of losses does not let a burst out; as Linux,
 * the extra MSS only on an ACK that advances SND.UNA and marks nothing
 * newly lost. */
TEST(rfc6937_3_prr_ssrb_limits_sending_below_ssthresh_to_what_was_delivered)
{
    struct probe p;
    struct peer c;
    uint32_t base = open_and_send(&p, &c, 10 * MSS);
    sack(&p, &c, base, 0, 7, 10);   /* segments 0-6 lost, pipe 0 */
    for (unsigned i = 0; i < 4; i++)    /* delivered 3, sent 1 + 3 */
        CHECK(expect_seg(&p, NULL, A, base + i * MSS, c.snd_nxt));
    CHECK(probe_silent(&p));
    sack(&p, &c, base, 1, 7, 10);   /* the first resend arrived */
    CHECK(expect_seg(&p, NULL, A, base + 4 * MSS, c.snd_nxt));
    CHECK(expect_seg(&p, NULL, A, base + 5 * MSS, c.snd_nxt));
    CHECK(probe_silent(&p));
    probe_free(&p);
}
