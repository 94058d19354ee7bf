/* RFC 9293 3.10.7, SEGMENT ARRIVES, rule by rule: crafted segments into
 * one stack over the in-memory link, and exactly what comes back. The
 * test's SYNs carry only MSS 1460, so windows are unscaled and there are
 * no timestamps unless a test asks for them. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"
#include "test.h"

#define A TCP_ACK
#define S TCP_SYN
#define F TCP_FIN
#define R TCP_RST
#define P TCP_PSH

static char buf[4096];

/* ---- 3.10.7.1 CLOSED ---- */

TEST(rfc9293_3_10_7_1_closed_syn_gets_rst_ack_seq0_ack_seq_plus_len)
{
    struct probe p;
    probe_init(&p, NULL);
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, S, 65535), r;
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, &r, R | A, 0, 1001));
    CHECK_EQ(r.sport, 80);
    CHECK_EQ(r.dport, 40000);
    CHECK_EQ(probe_drops(&p, DROP_TCP_NO_SOCKET), 1);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_1_closed_ack_gets_rst_seq_seg_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct tcp_segment s = seg_make(40000, 80, 1000, 777, A, 65535);
    s.len = 10;
    probe_send(&p, &s, "0123456789");
    CHECK(expect_seg(&p, NULL, R, 777, 0));
    probe_free(&p);
}

TEST(rfc9293_3_10_7_1_closed_data_without_ack_counts_len_and_fin)
{
    struct probe p;
    probe_init(&p, NULL);
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, F, 65535);
    s.len = 10;
    probe_send(&p, &s, "0123456789");
    CHECK(expect_seg(&p, NULL, R | A, 0, 1011));
    probe_free(&p);
}

TEST(rfc9293_3_10_7_1_closed_rst_is_discarded)
{
    struct probe p;
    probe_init(&p, NULL);
    struct tcp_segment s = seg_make(40000, 80, 1000, 5, R | A, 0);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* ---- 3.10.7.2 LISTEN ---- */

TEST(rfc9293_3_10_7_2_listen_rst_is_ignored)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    probe_free(&p);
}

TEST(rfc9293_3_10_7_2_listen_ack_gets_rst_seq_seg_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    struct tcp_segment s = seg_make(40000, 80, 1000, 4242, A, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, R, 4242, 0));
    probe_free(&p);
}

TEST(rfc9293_3_10_7_2_listen_syn_gets_syn_ack_with_mss)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = probe_listen(&p, 80, 8), *k;
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, S, 65535), r;
    s.opt.has_mss = true;
    s.opt.mss = 1460;
    probe_send(&p, &s, NULL);
    CHECK(probe_recv(&p, &r));
    CHECK_EQ(r.flags, S | A);
    CHECK_EQ(r.ack, 1001);
    CHECK(r.opt.has_mss);
    CHECK_EQ(r.opt.mss, 1460);            /* MTU 1500 - 40 */
    CHECK(!r.opt.has_wscale);             /* RFC 7323: only if offered */
    CHECK(!r.opt.has_ts);
    CHECK_EQ(stack_accept(p.stack, l, &k), -EAGAIN); /* SYN-RECEIVED */
    probe_free(&p);
}

TEST(rfc9293_3_10_7_2_listen_other_segments_are_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, F, 65535);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* ---- 3.10.7.3 SYN-SENT ---- */

static void connect_only(struct probe *p, struct peer *c, struct tcp_segment *syn)
{
    memset(c, 0, sizeof *c);
    c->port = 80;
    c->snd_nxt = 5000;
    stack_socket(p->stack, &c->sock);
    stack_connect(p->stack, c->sock, PROBE_PEER_ADDR, 80, p->now);
    probe_recv(p, syn);
    c->stack_port = syn->sport;
    c->stack_iss = syn->seq;
}

TEST(rfc9293_3_10_1_active_open_sends_syn_with_options)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_segment syn;
    connect_only(&p, &c, &syn);
    CHECK_EQ(syn.flags, S);
    CHECK(syn.opt.has_mss && syn.opt.mss == 1460);
    CHECK(syn.opt.has_wscale);
    CHECK(syn.opt.has_ts && syn.opt.ts_ecr == 0);
    CHECK(c.stack_port >= 32768 && c.stack_port <= 60999);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_SYN_SENT);
    CHECK_EQ(stack_poll(p.stack, c.sock) & POLLOUT, 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_3_syn_sent_unacceptable_ack_gets_rst)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_segment syn;
    connect_only(&p, &c, &syn);
    /* SEG.ACK =< ISS */
    struct tcp_segment s = seg_make(80, c.stack_port, 5000, c.stack_iss, S | A, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, R, c.stack_iss, 0));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_SYN_SENT);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_3_syn_sent_rst_with_acceptable_ack_refuses)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_segment syn;
    connect_only(&p, &c, &syn);
    struct tcp_segment s = seg_make(80, c.stack_port, 0, c.stack_iss + 1, R | A, 0);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    CHECK(stack_poll(p.stack, c.sock) & POLLERR);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ECONNREFUSED);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSED);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_3_syn_sent_rst_without_ack_is_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_segment syn;
    connect_only(&p, &c, &syn);
    struct tcp_segment s = seg_make(80, c.stack_port, 0, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_SYN_SENT);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_3_syn_sent_syn_ack_establishes_and_acks)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_segment syn;
    connect_only(&p, &c, &syn);
    struct tcp_segment s = seg_make(80, c.stack_port, 5000, c.stack_iss + 1, S | A, 65535);
    s.opt.has_mss = true;
    s.opt.mss = 1000;
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.stack_iss + 1, 5001));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    CHECK(stack_poll(p.stack, c.sock) & POLLOUT);
    CHECK_EQ(stack_connect(p.stack, c.sock, PROBE_PEER_ADDR, 80, p.now), -EISCONN);
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_mss, 1000); /* peer's MSS honoured */
    probe_free(&p);
}

TEST(rfc9293_3_10_7_3_syn_sent_bare_syn_is_simultaneous_open)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_segment syn;
    connect_only(&p, &c, &syn);
    struct tcp_segment s = seg_make(80, c.stack_port, 5000, 0, S, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, S | A, c.stack_iss, 5001));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_SYN_RECEIVED);
    s = seg_make(80, c.stack_port, 5001, c.stack_iss + 1, A, 65535);
    probe_send(&p, &s, NULL);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_free(&p);
}

/* ---- 3.10.7.4 first: sequence number acceptability ---- */

TEST(rfc9293_3_10_7_4_first_segment_outside_window_gets_ack_and_is_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 200000, c.rcv_nxt, A, 65535);
    s.len = 5;
    probe_send(&p, &s, "hello");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

/* As Linux (tcp_oow_rate_limited, tcp_invalid_ratelimit): the ACK that
 * answers an unacceptable segment without text goes at most once in 500
 * ms, or two sides refusing each other's ACKs answer each other for ever
 * (an ACK war). One with text is always answered. */
TEST(rfc9293_3_10_7_4_first_acks_answering_empty_unacceptable_segments_are_rate_limited_as_linux)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 200000, c.rcv_nxt, A, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_advance(&p, 499 * MSEC);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    s.len = 5;
    probe_send(&p, &s, "hello");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    s.len = 0;
    probe_advance(&p, 1 * MSEC);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_first_old_duplicate_gets_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "abcd", 4, P);
    probe_advance(&p, 100 * MSEC); /* delayed ACK */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt - 4, c.rcv_nxt, A | P, 65535);
    s.len = 4;
    probe_send(&p, &s, "abcd");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 4);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

static void small_rcvbuf(struct stack_config *cfg)
{
    cfg->tcp.rcvbuf = 4096;
}

TEST(rfc9293_3_10_7_4_first_zero_window_accepts_only_acks)
{
    struct probe p;
    probe_init(&p, small_rcvbuf);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    static char big[4096];
    memset(big, 'x', sizeof big);
    peer_send_data(&p, &c, big, 1460, 0);
    peer_send_data(&p, &c, big, 1460, 0);
    peer_send_data(&p, &c, big, 4096 - 2920, 0);
    probe_advance(&p, 100 * MSEC); /* the third segment's delayed ACK */
    struct tcp_segment r;
    while (probe_recv(&p, &r))
        ;
    CHECK_EQ(r.wnd, 0); /* the last ACK: full */
    peer_send_data(&p, &c, "z", 1, 0); /* at RCV.NXT with a zero window */
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt - 1));
    CHECK_EQ(r.wnd, 0);
    CHECK_EQ(stack_recv(p.stack, c.sock, big, sizeof big, 0, p.now), 4096);
    probe_free(&p);
}

/* A peer that filled our window sends its ACKs from SND.NXT, the right
 * edge, until that data arrives. Taken as Linux and BSD take it, though
 * RFC 9293's test wants SEG.SEQ < RCV.NXT + RCV.WND: refused, it was
 * answered with an ACK, and two stacks whose windows were both filled by
 * data lost both ways answered each other's ACKs for ever (an ACK war). */
TEST(rfc9293_3_10_7_4_first_an_ack_at_the_right_window_edge_is_taken_as_linux_does)
{
    struct probe p;
    probe_init(&p, small_rcvbuf);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    static char data[1460];
    peer_send_data(&p, &c, data, sizeof data, 0);
    probe_advance(&p, 100 * MSEC); /* its delayed ACK */
    struct tcp_segment r;
    CHECK(expect_seg(&p, &r, A, c.rcv_nxt, c.snd_nxt));
    uint32_t right_edge = c.snd_nxt + r.wnd;
    CHECK_EQ(stack_send(p.stack, c.sock, "hello", 5, p.now), 5);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    /* the test's data up to the right edge is on its way, or lost */
    struct tcp_segment s = seg_make(c.port, 80, right_edge, c.rcv_nxt + 5, A, 65535);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));         /* taken, not answered */
    probe_advance(&p, 5 * SEC);
    CHECK(probe_silent(&p));         /* "hello" acknowledged: not sent again */
    probe_free(&p);
}

/* A segment whose text ends at RCV.NXT, the last octets again, is taken
 * for its ACK, as Linux takes it (tcp_sequence tests the segment's end);
 * RFC 9293's test refuses it. Two stacks probing each other's shut windows
 * with an octet each, both taken, refused each other's ACKs (sent from
 * SND.UNA, the probe octet's place) until one resent its probe octet,
 * which was refused as well. */
TEST(rfc9293_3_10_7_4_first_the_last_octet_again_is_taken_for_its_ack_as_linux_does)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "a", 1, 0);
    probe_advance(&p, 100 * MSEC); /* its delayed ACK */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_send(p.stack, c.sock, "hello", 5, p.now), 5);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt - 1, c.rcv_nxt + 5, A, 65535);
    s.len = 1;
    probe_send(&p, &s, "a");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt + 5, c.snd_nxt)); /* a duplicate */
    probe_advance(&p, 5 * SEC);
    CHECK(probe_silent(&p));         /* "hello" acknowledged: not sent again */
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 1);
    probe_free(&p);
}

/* A peer that filled our window sends its ACKs at the window's right
 * edge (its SND.NXT; Linux's tcp_acceptable_seq and ours put them no
 * further). With a gap before them (a segment lost, or dropped for want
 * of memory) the window is not zero, and RFC 9293's test (SEG.SEQ <
 * RCV.NXT+RCV.WND) would drop them with the news they bring, answering
 * each with an ACK: two peers in that state answer each other's ACKs for
 * ever. Linux (tcp_sequence) takes the edge itself. */
TEST(linux_tcp_sequence_a_pure_ack_at_the_right_edge_of_the_window_is_acceptable)
{
    struct probe p;
    probe_init(&p, small_rcvbuf);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_send(p.stack, c.sock, "ping", 4, p.now), 4);
    CHECK(expect_seg(&p, NULL, A | P, c.rcv_nxt, c.snd_nxt));
    /* the peer fills the 4096-byte window, its first segment lost */
    static char big[4096];
    uint32_t edge = c.snd_nxt + 4096;
    for (uint32_t seq = c.snd_nxt + 1460; seq != edge;) {
        struct tcp_segment s = seg_make(c.port, 80, seq, c.rcv_nxt, A, 65535);
        s.len = edge - seq < 1460 ? edge - seq : 1460;
        probe_send(&p, &s, big);
        seq += s.len;
    }
    struct tcp_segment r;
    while (probe_recv(&p, &r))
        ;
    /* its ACK of "ping" */
    struct tcp_segment ack = seg_make(c.port, 80, edge, c.rcv_nxt + 4, A, 65535);
    probe_send(&p, &ack, NULL);
    CHECK(probe_silent(&p));
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_una, c.rcv_nxt + 4);
    probe_free(&p);
}

/* ---- second: RST (with RFC 5961 3.2) ---- */

TEST(rfc9293_3_10_7_4_second_rst_at_rcv_nxt_resets_established)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    unsigned ev = stack_poll(p.stack, c.sock);
    CHECK(ev & POLLERR);
    CHECK(ev & POLLHUP);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -ECONNRESET);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    CHECK_EQ(stack_send(p.stack, c.sock, "x", 1, p.now), -EPIPE);
    probe_free(&p);
}

TEST(rfc5961_3_2_rst_in_window_but_not_exact_gets_challenge_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 100, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_free(&p);
}

TEST(rfc5961_3_2_rst_outside_window_is_silently_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 1000000, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK(probe_silent(&p));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_second_rst_in_syn_received_from_listen_drops_it)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = probe_listen(&p, 80, 8), *k;
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, S, 65535), r;
    probe_send(&p, &s, NULL);
    CHECK(probe_recv(&p, &r));
    s = seg_make(40000, 80, 1001, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK_EQ(stack_accept(p.stack, l, &k), -EAGAIN);
    /* the half-open connection is gone: its ACK now meets the listener */
    s = seg_make(40000, 80, 1001, r.seq + 1, A, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, R, r.seq + 1, 0));
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_second_rst_in_close_wait_reports_epipe)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, NULL, 0, F);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, 0, R, 0);
    probe_send(&p, &s, NULL);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), EPIPE);
    probe_free(&p);
}

/* ---- fourth: SYN in a synchronized state (RFC 5961 4.2) ---- */

TEST(rfc5961_4_2_syn_in_established_gets_challenge_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, 0, S, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_free(&p);
}

/* Sends `n` SYNs in the window of c's connection (RFC 5961 4.2: each
 * earns a challenge ACK) and counts the challenge ACKs that come back. */
static unsigned challenge_acks_for_syns(struct probe *p, const struct peer *c, int n)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt, 0, S, 65535), r;
    unsigned acks = 0;
    for (int i = 0; i < n; i++) {
        probe_send(p, &s, NULL);
        while (probe_recv(p, &r))
            acks += r.flags == A && r.sport == c->stack_port &&
                    r.seq == c->rcv_nxt && r.ack == c->snd_nxt;
    }
    return acks;
}

/* With a limit of 1 the budget is exactly one a second (no random part:
 * see tcp_send_challenge_ack). */
static void one_challenge_per_second(struct stack_config *cfg)
{
    cfg->tcp.challenge_ack_limit = 1;
}

TEST(rfc5961_7_challenge_acks_are_rate_limited_per_second)
{
    struct probe p;
    probe_init(&p, one_challenge_per_second);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(challenge_acks_for_syns(&p, &c, 10), 1);
    probe_advance(&p, SEC / 2);
    CHECK_EQ(challenge_acks_for_syns(&p, &c, 1), 0);
    probe_advance(&p, SEC / 2);
    CHECK_EQ(challenge_acks_for_syns(&p, &c, 10), 1);
    probe_free(&p);
}

static void four_challenges(struct stack_config *cfg)
{
    cfg->tcp.challenge_ack_limit = 4;
}

/* CVE-2016-5696: a budget shared by all connections lets an off-path
 * attacker learn, through its own connection, how many challenge ACKs
 * its spoofed segments drew from another one. */
TEST(rfc5961_7_challenge_ack_budget_is_per_connection)
{
    struct probe p;
    probe_init(&p, four_challenges);
    struct peer victim, attacker;
    peer_passive_open(&p, &victim, 80, NULL);
    peer_passive_open(&p, &attacker, 81, NULL);
    unsigned victim_acks = challenge_acks_for_syns(&p, &victim, 20);
    CHECK(victim_acks >= 2 && victim_acks < 6);
    unsigned attacker_acks = challenge_acks_for_syns(&p, &attacker, 20);
    CHECK_MSG(attacker_acks >= 2 && attacker_acks < 6,
              "the other connection got %u challenge ACKs", attacker_acks);
    probe_free(&p);
}

/* As Linux's tcp_send_challenge_ack: each second's budget is drawn from
 * [ceil(limit / 2), ceil(limit / 2) + limit), so that even the
 * connection's own count does not show the configured limit exactly. */
TEST(rfc5961_7_challenge_ack_budget_has_a_random_part)
{
    struct probe p;
    probe_init(&p, four_challenges);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    unsigned seen[6] = { 0 }, kinds = 0;
    for (int second = 0; second < 32; second++) {
        unsigned acks = challenge_acks_for_syns(&p, &c, 20);
        CHECK_MSG(acks >= 2 && acks < 6, "second %d: %u challenge ACKs", second, acks);
        kinds += seen[acks]++ == 0;
        probe_advance(&p, SEC);
    }
    CHECK_MSG(kinds >= 3, "only %u different budgets in 32 seconds", kinds);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_syn_received_retransmitted_syn_gets_syn_ack_again)
{
    struct probe p;
    probe_init(&p, NULL);
    probe_listen(&p, 80, 8);
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, S, 65535), r;
    probe_send(&p, &s, NULL);
    CHECK(probe_recv(&p, &r));
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, S | A, r.seq, 1001));
    probe_free(&p);
}

/* ---- fifth: ACK ---- */

TEST(rfc9293_3_10_7_4_fifth_segment_without_ack_is_dropped)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, 0, P, 65535);
    s.len = 3;
    probe_send(&p, &s, "abc");
    CHECK(probe_silent(&p));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_fifth_syn_received_bad_ack_gets_rst)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = probe_listen(&p, 80, 8), *k;
    struct tcp_segment s = seg_make(40000, 80, 1000, 0, S, 65535), r;
    probe_send(&p, &s, NULL);
    CHECK(probe_recv(&p, &r));
    s = seg_make(40000, 80, 1001, r.seq + 10, A, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, R, r.seq + 10, 0));
    CHECK_EQ(stack_accept(p.stack, l, &k), -EAGAIN);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_fifth_ack_of_unsent_data_gets_ack_and_drop)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, c.rcv_nxt + 1000, A, 65535);
    s.len = 3;
    probe_send(&p, &s, "abc");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

TEST(rfc5961_5_2_ack_older_than_max_window_gets_challenge_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt, c.rcv_nxt - 100000, A, 65535);
    s.len = 3;
    probe_send(&p, &s, "abc");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_fifth_window_update_only_from_newer_segments)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "abcd", 4, 0);
    peer_send_ack(&p, &c, 2000);            /* SND.WL1 = its SEQ */
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_wnd, 2000);
    /* acceptable (it brings new bytes) but SEG.SEQ < SND.WL1: its window
     * is older than the one we have */
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt - 2, c.rcv_nxt, A, 100);
    s.len = 6;
    probe_send(&p, &s, "cdefgh");
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_wnd, 2000);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 8);
    CHECK(memcmp(buf, "abcdefgh", 8) == 0);
    probe_free(&p);
}

/* A segment from below SND.WL1 (one that overlaps a retransmission)
 * that acknowledges new data brings the peer's latest window: kept as an offset from the new
 * SND.UNA, the old one would let us send beyond what the peer offers. */
TEST(linux_tcp_may_update_window_an_ack_of_new_data_brings_its_window)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    static char data[20 * 1460];
    CHECK_EQ(stack_send(p.stack, c.sock, data, sizeof data, p.now), (long)sizeof data);
    struct tcp_segment r;
    while (probe_recv(&p, &r))
        ;   /* the initial window: ten segments */
    peer_send_data(&p, &c, "abcd", 4, 0);
    peer_send_ack(&p, &c, 65535);           /* SND.WL1 = its SEQ */
    while (probe_recv(&p, &r))
        ;
    /* "cd" again and "ef", acknowledging two segments, with a window of
     * one */
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt - 2, c.rcv_nxt + 2 * 1460, A, 1460);
    s.len = 4;
    probe_send(&p, &s, "cdef");
    CHECK_EQ(stack_sock_conn(p.stack, c.sock)->snd_wnd, 1460);
    while (probe_recv(&p, &r))
        CHECK_EQ(r.len, 0);                 /* eight segments still out */
    probe_free(&p);
}

/* ---- seventh: text; eighth: FIN ---- */

TEST(rfc9293_3_10_7_4_seventh_out_of_order_text_is_held_and_acked_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 3, c.rcv_nxt, A, 65535);
    s.len = 3;
    probe_send(&p, &s, "def");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt)); /* duplicate ACK */
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    peer_send_data(&p, &c, "abc", 3, 0);
    c.snd_nxt += 3;
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt)); /* gap filled: at once */
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 6);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_eighth_fin_moves_established_to_close_wait)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "bye", 3, F | P);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSE_WAIT);
    unsigned ev = stack_poll(p.stack, c.sock);
    CHECK(ev & POLLIN);
    CHECK(ev & POLLRDHUP);
    CHECK(!(ev & POLLHUP));
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 3);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    CHECK_EQ(stack_send(p.stack, c.sock, "ok", 2, p.now), 2); /* half-close */
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_eighth_fin_after_a_gap_waits_for_the_gap)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 3, c.rcv_nxt, A | F, 65535);
    s.len = 3;
    probe_send(&p, &s, "def");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    peer_send_data(&p, &c, "abc", 3, 0);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt + 4));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSE_WAIT);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 6);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_an_out_of_order_fin_is_acked_at_once)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* "abc" is lost; the FIN after it arrives alone. RFC 5681 4.2: a
     * segment beyond a gap gets a duplicate ACK at once. */
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 3, c.rcv_nxt, A | F, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    /* the gap fills: the FIN is processed and acknowledged */
    peer_send_data(&p, &c, "abc", 3, 0);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt + 1));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSE_WAIT);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 3);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_an_out_of_order_fin_survives_an_overlapping_retransmission)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    uint32_t seq = c.snd_nxt;
    struct tcp_segment s = seg_make(c.port, 80, seq + 3, c.rcv_nxt, A | F, 65535);
    s.len = 3;
    probe_send(&p, &s, "def");                          /* "def" FIN */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq));
    s.flags = A;
    probe_send(&p, &s, "def");                          /* again, no FIN */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq));
    /* A bigger segment over it, reaching past the FIN: what lies beyond
     * the FIN is not part of the stream. */
    s.seq = seq + 2;
    s.len = 6;
    probe_send(&p, &s, "cdefgh");
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    peer_send_data(&p, &c, "ab", 2, 0);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq + 7)); /* 6 bytes and the FIN */
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSE_WAIT);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 6);
    CHECK(memcmp(buf, "abcdef", 6) == 0);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_the_first_fin_wins_over_one_at_another_sequence)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    uint32_t seq = c.snd_nxt;
    struct tcp_segment s = seg_make(c.port, 80, seq + 3, c.rcv_nxt, A | F, 65535);
    probe_send(&p, &s, NULL);                           /* FIN at +3 */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq));
    /* Hostile: a FIN further on, with text beyond the first FIN */
    s.len = 2;
    probe_send(&p, &s, "de");                           /* "de" FIN at +5 */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq));
    /* ...and one before it, in order */
    peer_send_data(&p, &c, "a", 1, F);                  /* "a" FIN at +1 */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq + 1));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    c.snd_nxt = seq + 1;
    peer_send_data(&p, &c, "bc", 2, 0);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, seq + 4));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSE_WAIT);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 3);
    CHECK(memcmp(buf, "abc", 3) == 0);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    probe_free(&p);
}

/* ---- closing: every path of the state diagram ---- */

TEST(rfc9293_passive_close_close_wait_last_ack_closed)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, NULL, 0, F);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, F | A, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    struct stack_stats st;
    stack_get_stats(p.stack, &st);
    CHECK_EQ(st.conns_open, 1); /* LAST-ACK */
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

TEST(rfc9293_active_close_fin_wait_1_fin_wait_2_time_wait_closed)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_shutdown(p.stack, c.sock, SHUT_WR, p.now);
    CHECK(expect_seg(&p, NULL, F | A, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_FIN_WAIT_1);
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_FIN_WAIT_2);
    peer_send_data(&p, &c, "more", 4, 0);  /* half-closed: still receives */
    peer_send_data(&p, &c, NULL, 0, F);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_TIME_WAIT);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 4);
    stack_close(p.stack, c.sock, p.now);
    /* TIME-WAIT: a retransmitted FIN is acknowledged again */
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt - 1, c.rcv_nxt, A | F, 65535);
    probe_send(&p, &s, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_advance(&p, 2 * p.cfg.tcp.msl_us - SEC);
    CHECK_EQ(probe_conns_open(&p), 1);
    probe_advance(&p, 2 * SEC);
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

TEST(rfc9293_simultaneous_close_fin_wait_1_closing_time_wait)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_shutdown(p.stack, c.sock, SHUT_WR, p.now);
    CHECK(expect_seg(&p, NULL, F | A, c.rcv_nxt, c.snd_nxt));
    /* the peer's FIN crosses ours: it does not acknowledge our FIN */
    peer_send_data(&p, &c, NULL, 0, F);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt + 1, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_CLOSING);
    c.rcv_nxt++;
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_TIME_WAIT);
    probe_free(&p);
}

/* RFC 1122 4.2.2.13: "if new data is received after CLOSE is called,
 * its TCP SHOULD send a RST to show that data was lost", as Linux does in
 * FIN-WAIT-1 and -2 (TCPAbortOnData). Kept instead, it filled a receive
 * buffer nobody reads, and the connection sat behind a zero window. */
TEST(rfc1122_4_2_2_13_new_data_after_close_is_answered_with_rst)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, F | A, c.rcv_nxt, c.snd_nxt));
    peer_send_data(&p, &c, "late", 4, P);   /* FIN-WAIT-1: our FIN unacked */
    CHECK(expect_seg(&p, NULL, R, c.rcv_nxt, 0)); /* at its SEG.ACK */
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

/* The same when the data after close fills a hole: what was held out of
 * order at close could not be read either. */
TEST(rfc1122_4_2_2_13_data_filling_a_hole_after_close_is_answered_with_rst)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_segment s = seg_make(c.port, 80, c.snd_nxt + 4, c.rcv_nxt, A | P, 65535);
    s.len = 4;
    probe_send(&p, &s, "held");             /* out of order: a hole before it */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    stack_close(p.stack, c.sock, p.now);    /* nothing readable: a FIN */
    CHECK(expect_seg(&p, NULL, F | A, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    peer_send_ack(&p, &c, 65535);           /* FIN-WAIT-2 */
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_FIN_WAIT_2);
    peer_send_data(&p, &c, "hole", 4, P);
    CHECK(expect_seg(&p, NULL, R, c.rcv_nxt, 0));
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

/* Data below RCV.NXT after close is no news: answered with an ACK as in
 * any state, the connection lives on. */
TEST(rfc1122_4_2_2_13_old_data_after_close_is_only_acknowledged)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "read", 4, P);
    char b[4];
    CHECK_EQ(stack_recv(p.stack, c.sock, b, sizeof b, 0, p.now), 4);
    probe_drain(&p);
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, F | A, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    c.snd_nxt -= 4;
    peer_send_data(&p, &c, "read", 4, P);   /* a retransmission, ACKing our FIN */
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_FIN_WAIT_2);
    probe_free(&p);
}

TEST(rfc2525_2_17_close_with_unread_data_sends_rst)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    peer_send_data(&p, &c, "unread", 6, P);
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, R | A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}
