/* RFC 6937 (Proportional Rate Reduction) over the probe harness: the test
 * is a SACK receiver and counts what the stack sends on each ACK of a
 * fast recovery. */
#include <string.h>

#include "probe.h"
#include "tcp_internal.h"
#include "test.h"

#define A TCP_ACK
#define MSS 1460

static char data[20 * MSS];

/* A connection with SACK; `bytes` queued, the segments of the initial
 * window (ten) sent, and a round trip of 1 ms (RACK then judges the
 * segments resent now by the time they were). Returns the first
 * segment's sequence number. */
static uint32_t open_and_send(struct probe *p, struct peer *c, uint32_t bytes)
{
    probe_init(p, NULL);
    struct tcp_options opt = { .has_mss = true, .mss = MSS, .sack_permitted = true };
    peer_passive_open(p, c, 80, &opt);
    /* NewReno, whose halving the figures here assume (CUBIC's beta is 0.7) */
    stack_setopt(p->stack, c->sock, STACK_OPT_CONGESTION, TCP_CC_RENO, p->now);
    uint32_t base = c->rcv_nxt;
    stack_send(p->stack, c->sock, data, bytes, p->now);
    probe_drain(p);
    probe_advance(p, MSEC);
    return base;
}

/* An ACK of segment `ack` SACKing segments [left, right). */
static void sack(struct probe *p, struct peer *c, uint32_t base, unsigned ack,
                 unsigned left, unsigned right)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt, base + ack * MSS, A, 65535);
    s.opt.sack_count = 1;
    s.opt.sack[0].left = base + left * MSS;
    s.opt.sack[0].right = base + right * MSS;
    probe_send(p, &s, NULL);
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
    uint32_t base = open_and_send(&p, &c, sizeof data);
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
