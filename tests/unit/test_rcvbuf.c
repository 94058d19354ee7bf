/* Receive buffer autotuning (tcp_rcvbuf.c, Linux's tcp_rcv_space_adjust)
 * and the window scale it needs. */
#include <string.h>

#include "probe.h"
#include "test.h"

#define SEG 1448
#define KIB 1024u

static const struct tcp_options wscale_opt = { .has_mss = true, .mss = 1460,
                                               .has_wscale = true, .wscale = 7 };

/* The peer sends `rounds` rounds of `bytes`, one millisecond apart; the
 * application reads everything after each; the stack's ACKs are dropped. */
static void stream_and_read(struct probe *p, struct peer *c, unsigned rounds, uint32_t bytes)
{
    static uint8_t seg[SEG], buf[64 * KIB];
    for (unsigned r = 0; r < rounds; r++) {
        for (uint32_t sent = 0; sent < bytes; sent += SEG)
            peer_send_data(p, c, seg, SEG, 0);
        while (stack_recv(p->stack, c->sock, buf, sizeof buf, 0, p->now) > 0)
            ;
        probe_drain(p);
        probe_advance(p, 1000);
        probe_drain(p);
    }
}

/* A connection whose peer offers window scaling, as Linux's does. */
static const struct tcp_conn *open_scaled(struct probe *p, struct peer *c)
{
    probe_init(p, NULL);
    peer_passive_open(p, c, 80, &wscale_opt);
    return stack_sock_conn(p->stack, c->sock);
}

TEST(linux_tcp_select_initial_window_scale_is_for_the_largest_buffer_autotuning_may_reach)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    /* 6 MiB >> 7 fits the 16-bit window field; a 256 KiB buffer alone
     * would have needed 3 */
    CHECK_EQ(tc->rcv_wscale, 7);
    probe_free(&p);
}

TEST(linux_tcp_rcv_space_adjust_grows_a_buffer_the_reader_keeps_up_with)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    CHECK_EQ(tc->rcvbuf.cap, 256 * KIB);
    /* 128 KiB a millisecond, all read: the window (256 KiB) takes two
     * milliseconds, and twice a round trip's data (plus slow start's
     * margin) is more than the buffer */
    stream_and_read(&p, &c, 8, 128 * KIB);
    CHECK(tc->rcvbuf.cap > 256 * KIB);
    CHECK(tc->rcvbuf.cap <= p.cfg.tcp.rcvbuf_max);
    /* SO_RCVBUF reports the grown size, as Linux's sk_rcvbuf */
    int reported = 0;
    CHECK_EQ(stack_getopt(p.stack, c.sock, STACK_OPT_RCVBUF, &reported), 0);
    CHECK_EQ((uint32_t)reported, tc->rcvbuf.cap);
    /* and the window offered follows */
    peer_send_data(&p, &c, "x", 1, TCP_PSH);
    probe_advance(&p, p.cfg.tcp.delack_us);
    struct tcp_segment r;
    CHECK(probe_recv(&p, &r));
    CHECK((uint32_t)r.wnd << tc->rcv_wscale > 256 * KIB);
    probe_free(&p);
}

TEST(linux_tcp_rcv_space_adjust_leaves_a_buffer_the_reader_does_not_empty)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    /* a few bytes a millisecond: nothing to grow for */
    stream_and_read(&p, &c, 8, SEG);
    CHECK_EQ(tc->rcvbuf.cap, 256 * KIB);
    probe_free(&p);
}

TEST(linux_sock_rcvbuf_lock_so_rcvbuf_stops_autotuning)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_RCVBUF, 256 * KIB, p.now), 0);
    stream_and_read(&p, &c, 8, 128 * KIB);
    CHECK_EQ(tc->rcvbuf.cap, 256 * KIB);
    probe_free(&p);
}

TEST(rfc9293_3_8_6_2_2_a_window_rounded_up_to_its_scale_does_not_creep_right)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    static const uint8_t seg[SEG];
    /* Nothing is read: the right edge must stay where the first window
     * put it, give or take the rounding of one scaled field (128 bytes).
     * Recorded each time, the rounding up moved it right by up to 127
     * bytes an ACK: a promise the buffer could not keep. */
    uint32_t first_edge = 0;
    for (int i = 0; i < 100; i++) {
        peer_send_data(&p, &c, seg, SEG, 0);
        struct tcp_segment r;
        while (probe_recv(&p, &r)) {
            uint32_t edge = r.ack + ((uint32_t)r.wnd << tc->rcv_wscale);
            if (!first_edge)
                first_edge = edge;
            CHECK(edge - first_edge < 128);
        }
    }
    CHECK(first_edge != 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_text_up_to_a_window_rounded_up_to_its_scale_is_taken)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    static const uint8_t seg[SEG];
    /* Nothing is read; the peer fills every window it is offered, to the
     * octet, as a sender does: all of it must be taken, the octets the
     * rounding up offered too, until the window is shut. */
    struct tcp_segment r = { 0 };
    for (int i = 0; i < 400; i++) {
        uint32_t edge = r.ack + ((uint32_t)r.wnd << tc->rcv_wscale);
        uint32_t len = i && seq_lt(c.snd_nxt, edge) ? edge - c.snd_nxt : SEG;
        if (i && !seq_lt(c.snd_nxt, edge))
            break;
        peer_send_data(&p, &c, seg, len < SEG ? len : SEG, 0);
        CHECK_EQ(tc->rcv_nxt, c.snd_nxt);   /* taken */
        probe_advance(&p, p.cfg.tcp.delack_us);
        while (probe_recv(&p, &r))
            ;
    }
    CHECK_EQ(r.wnd, 0);
    CHECK(tc->rcvbuf.len <= tc->rcvbuf.cap);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_a_rounded_up_window_filled_in_pieces_is_taken_and_acks_come_from_its_end)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *tc = open_scaled(&p, &c);
    static const uint8_t seg[SEG];
    /* Nothing is read: full segments until less than one fits in what
     * the last ACK offered, which is rounded up to the scale by then. */
    struct tcp_segment r = { 0 };
    uint32_t edge = 0;
    for (int i = 0; i < 400; i++) {
        peer_send_data(&p, &c, seg, SEG, 0);
        probe_advance(&p, p.cfg.tcp.delack_us);
        while (probe_recv(&p, &r))
            edge = r.ack + ((uint32_t)r.wnd << tc->rcv_wscale);
        if (edge - c.snd_nxt < SEG)
            break;
    }
    CHECK(seq_gt(edge, tc->rcv_adv));
    /* The peer sends up to the recorded edge, then the rest of what it
     * was offered: both are taken. */
    uint32_t first = tc->rcv_adv - c.snd_nxt, rest = edge - tc->rcv_adv;
    if (first)
        peer_send_data(&p, &c, seg, first, 0);
    peer_send_data(&p, &c, seg, rest, 0);
    CHECK_EQ(tc->rcv_nxt, edge);
    probe_drain(&p);
    /* Its ACKs now come from that edge: they are taken. */
    CHECK_EQ(stack_send(p.stack, c.sock, "data", 4, p.now), 4);
    probe_drain(&p);
    c.rcv_nxt += 4;
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(tc->snd_una, c.rcv_nxt);
    probe_free(&p);
}
