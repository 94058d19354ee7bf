/* TIME-WAIT as a small record (tcp_time_wait.c, time_wait.c): a released
 * connection gives its socket and buffers back and the record answers for
 * it by the rules of TIME-WAIT until 2 MSL have passed. */
#include <errno.h>

#include "probe.h"
#include "test.h"

#define A TCP_ACK
#define S TCP_SYN
#define F TCP_FIN
#define R TCP_RST

static struct stack_stats stats(struct probe *p)
{
    struct stack_stats st;
    stack_get_stats(p->stack, &st);
    return st;
}

/* The stack closes first; the peer's FIN then puts the connection in
 * TIME-WAIT, its socket released. */
static void close_into_time_wait(struct probe *p, struct peer *c)
{
    stack_close(p->stack, c->sock, p->now);
    expect_seg(p, NULL, F | A, c->rcv_nxt, c->snd_nxt);
    c->rcv_nxt++;
    peer_send_data(p, c, NULL, 0, F);
    expect_seg(p, NULL, A, c->rcv_nxt, c->snd_nxt);
}

static void short_msl(struct stack_config *cfg)
{
    cfg->tcp.msl_us = 5 * SEC;
}

TEST(linux_time_wait_record_replaces_the_released_socket)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stats(&p).sockets, 2);          /* the listener and the connection */
    close_into_time_wait(&p, &c);
    struct stack_stats st = stats(&p);
    CHECK_EQ(st.sockets, 1);                 /* the listener */
    CHECK_EQ(st.conns_open, 0);
    CHECK_EQ(st.time_wait, 1);
    probe_free(&p);
}

TEST(rfc9293_3_10_7_4_time_wait_record_acks_a_retransmitted_fin_and_restarts_2msl)
{
    struct probe p;
    probe_init(&p, short_msl);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    close_into_time_wait(&p, &c);
    probe_advance(&p, 6 * SEC);
    /* "The only thing that can arrive in this state is a retransmission
     * of the remote FIN. Acknowledge it, and restart the 2 MSL timeout." */
    struct tcp_segment fin = seg_make(c.port, 80, c.snd_nxt - 1, c.rcv_nxt, F | A, 65535);
    probe_send(&p, &fin, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    probe_advance(&p, 10 * SEC - 1);
    CHECK_EQ(stats(&p).time_wait, 1);
    probe_advance(&p, 1);
    CHECK_EQ(stats(&p).time_wait, 0);
    CHECK_EQ(stack_next_deadline(p.stack), 0);
    probe_free(&p);
}

TEST(rfc9293_3_10_8_time_wait_records_expire_in_deadline_order)
{
    struct probe p;
    probe_init(&p, short_msl);
    struct peer a, b;
    peer_passive_open(&p, &a, 80, NULL);
    peer_passive_open(&p, &b, 81, NULL);
    close_into_time_wait(&p, &a);            /* a: until 10 s */
    probe_advance(&p, 1 * SEC);
    close_into_time_wait(&p, &b);            /* b: until 11 s */
    probe_advance(&p, 1 * SEC);
    struct tcp_segment fin = seg_make(a.port, 80, a.snd_nxt - 1, a.rcv_nxt, F | A, 65535);
    probe_send(&p, &fin, NULL);              /* a: until 12 s */
    CHECK(expect_seg(&p, NULL, A, a.rcv_nxt, a.snd_nxt));
    probe_advance(&p, 9 * SEC);              /* 11 s: b is over, a is not */
    CHECK_EQ(stats(&p).time_wait, 1);
    peer_send_data(&p, &b, "x", 1, 0);
    CHECK(expect_seg(&p, NULL, R, b.rcv_nxt, 0));
    probe_send(&p, &fin, NULL);
    CHECK(expect_seg(&p, NULL, A, a.rcv_nxt, a.snd_nxt));
    probe_free(&p);
}

TEST(rfc5961_3_2_time_wait_record_challenges_an_in_window_rst_and_an_exact_one_ends_it)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    close_into_time_wait(&p, &c);
    struct tcp_segment rst = seg_make(c.port, 80, c.snd_nxt + 10, 0, R, 0);
    probe_send(&p, &rst, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stats(&p).time_wait, 1);
    rst.seq = c.snd_nxt;
    probe_send(&p, &rst, NULL);
    CHECK(probe_silent(&p));
    CHECK_EQ(stats(&p).time_wait, 0);
    probe_free(&p);
}

TEST(rfc7323_5_3_time_wait_record_drops_an_old_timestamp_with_an_ack)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_options opt = { .has_mss = true, .mss = 1460, .has_ts = true, .ts_val = 1000 };
    peer_passive_open(&p, &c, 80, &opt);
    CHECK(c.ts);
    close_into_time_wait(&p, &c);
    /* R1: a FIN again, but with a TSval older than TS.Recent: not taken
     * (the 2 MSL do not restart), answered with an ACK */
    struct tcp_segment fin = seg_make(c.port, 80, c.snd_nxt - 1, c.rcv_nxt, F | A, 65535);
    fin.opt.has_ts = true;
    fin.opt.ts_val = c.ts_val - 100;
    uint64_t deadline = stack_next_deadline(p.stack);
    probe_advance(&p, 1 * SEC);
    probe_send(&p, &fin, NULL);
    CHECK(expect_seg(&p, NULL, A, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(stack_next_deadline(p.stack), deadline);
    struct stack_stats st = stats(&p);
    CHECK_EQ(st.tcp.paws_drops, 1);
    probe_free(&p);
}

TEST(rfc6191_syn_with_a_newer_timestamp_reopens_a_time_wait_record)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    struct tcp_options opt = { .has_mss = true, .mss = 1460, .has_ts = true, .ts_val = 1000 };
    peer_passive_open(&p, &c, 80, &opt);
    close_into_time_wait(&p, &c);
    /* RFC 6191 2: with timestamps, a SYN whose TSval is newer reopens
     * the 4-tuple even with a lower sequence number */
    struct tcp_segment syn = seg_make(c.port, 80, c.snd_nxt - 5000, 0, S, 65535);
    syn.opt = opt;
    syn.opt.ts_val = c.ts_val + 1;
    probe_send(&p, &syn, NULL);
    struct tcp_segment sa;
    CHECK(probe_recv(&p, &sa));
    CHECK_EQ(sa.flags, S | A);
    CHECK_EQ(sa.ack, c.snd_nxt - 4999);
    struct stack_stats st = stats(&p);
    CHECK_EQ(st.time_wait, 0);
    CHECK_EQ(st.conns_open, 1);
    probe_free(&p);
}

TEST(linux_time_wait_record_holds_its_port_unless_both_sockets_set_so_reuseaddr)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_close(p.stack, c.listener, p.now);
    close_into_time_wait(&p, &c);
    /* Linux (inet_csk_bind_conflict): a socket in TIME-WAIT holds the
     * port; SO_REUSEADDR on both (the listener's is inherited) lets the
     * port be bound again. */
    struct sock *k = probe_socket(&p);
    CHECK_EQ(stack_bind(p.stack, k, 0, 80), -EADDRINUSE);
    stack_setopt(p.stack, k, STACK_OPT_REUSEADDR, 1, p.now);
    CHECK_EQ(stack_bind(p.stack, k, 0, 80), -EADDRINUSE);
    stack_close(p.stack, k, p.now);

    /* the connection's own flag counts (as Linux's tw_reuse) */
    struct peer d;
    peer_passive_open(&p, &d, 81, NULL);
    stack_setopt(p.stack, d.sock, STACK_OPT_REUSEADDR, 1, p.now);
    stack_close(p.stack, d.listener, p.now);
    close_into_time_wait(&p, &d);
    k = probe_socket(&p);
    stack_setopt(p.stack, k, STACK_OPT_REUSEADDR, 1, p.now);
    CHECK_EQ(stack_bind(p.stack, k, 0, 81), 0);
    probe_free(&p);
}
