/* SYN cookies (RFC 4987 3.6, Linux's encoding): a full SYN queue answers
 * with a cookie and keeps nothing; the ACK that brings it back makes the
 * connection, with the options the SYN had. */
#include <string.h>

#include "probe.h"
#include "syncookie.h"
#include "test.h"

static void one_half_open(struct stack_config *cfg)
{
    cfg->syn_backlog = 1;
}

static uint64_t cookies(struct probe *p, uint64_t (*field)(const struct tcp_stats *))
{
    struct stack_stats st;
    stack_get_stats(p->stack, &st);
    return field(&st.tcp);
}

static uint64_t sent(const struct tcp_stats *t) { return t->syncookies_sent; }
static uint64_t taken(const struct tcp_stats *t) { return t->syncookies_ok; }

/* Fills the SYN queue (one SYN from port 999, answered and kept), then
 * sends a SYN from `port` with options `opt`; returns the SYN-ACK (no
 * flags if something else came). */
static struct tcp_segment cookie_syn_ack(struct probe *p, uint16_t port,
                                         const struct tcp_options *opt)
{
    struct tcp_segment syn = seg_make(999, 80, 5000, 0, TCP_SYN, 65535), reply;
    probe_send(p, &syn, NULL);
    if (!probe_recv(p, &reply) || reply.flags != (TCP_SYN | TCP_ACK))
        return (struct tcp_segment){ 0 };
    syn = seg_make(port, 80, 7000, 0, TCP_SYN, 65535);
    syn.opt = *opt;
    probe_send(p, &syn, NULL);
    memset(&reply, 0, sizeof reply);
    probe_recv(p, &reply);
    return reply;
}

static const struct tcp_options plain_mss = { .has_mss = true, .mss = 1460 };

TEST(rfc4987_3_6_a_full_syn_queue_answers_with_a_cookie_and_keeps_nothing)
{
    struct probe p;
    probe_init(&p, one_half_open);
    probe_listen(&p, 80, 16);
    struct tcp_segment sa = cookie_syn_ack(&p, 1000, &plain_mss);
    CHECK_EQ(sa.flags, TCP_SYN | TCP_ACK);
    CHECK_EQ(sa.ack, 7001);
    CHECK_EQ(probe_conns_open(&p), 1);        /* only the first SYN's */
    CHECK_EQ(cookies(&p, sent), 1);
    probe_free(&p);
}

TEST(rfc4987_3_6_the_ack_of_a_cookie_makes_the_connection)
{
    struct probe p;
    probe_init(&p, one_half_open);
    struct sock *l = probe_listen(&p, 80, 16), *a;
    struct tcp_segment sa = cookie_syn_ack(&p, 1000, &plain_mss);
    /* the handshake's ACK, with data */
    struct tcp_segment ack = seg_make(1000, 80, 7001, sa.seq + 1, TCP_ACK | TCP_PSH, 65535);
    ack.len = 5;
    probe_send(&p, &ack, "hello");
    CHECK_EQ(cookies(&p, taken), 1);
    CHECK_EQ(stack_accept(p.stack, l, &a), 0);
    CHECK_EQ(stack_sock_state(p.stack, a), TCP_ESTABLISHED);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, a, buf, sizeof buf, 0, p.now), 5);
    CHECK(!memcmp(buf, "hello", 5));
    const struct tcp_conn *c = stack_sock_conn(p.stack, a);
    CHECK_EQ(c->snd_mss, 1460);
    CHECK(!c->ws_on && !c->ts_on);             /* no timestamps: neither */
    CHECK_EQ(stack_send(p.stack, a, "world", 5, p.now), 5);
    CHECK(expect_seg(&p, NULL, TCP_ACK | TCP_PSH, sa.seq + 1, 7006));
    probe_free(&p);
}

TEST(rfc4987_3_6_a_cookie_carries_mss_window_scale_and_timestamps)
{
    struct probe p;
    probe_init(&p, one_half_open);
    struct sock *l = probe_listen(&p, 80, 16), *a;
    struct tcp_options opt = { .has_mss = true, .mss = 1400, .has_wscale = true, .wscale = 7,
                               .sack_permitted = true, .has_ts = true, .ts_val = 100 };
    struct tcp_segment sa = cookie_syn_ack(&p, 1000, &opt);
    CHECK(sa.opt.has_ts && sa.opt.ts_ecr == 100);
    CHECK(sa.opt.has_wscale);
    CHECK_EQ(sa.opt.ts_val & 0x3f, 7 | 0x10);  /* wscale 7, SACK-permitted */
    CHECK_EQ(sa.opt.mss, 1460);                /* ours, as always */
    struct tcp_segment ack = seg_make(1000, 80, 7001, sa.seq + 1, TCP_ACK, 1000);
    ack.opt = (struct tcp_options){ .has_ts = true, .ts_val = 101, .ts_ecr = sa.opt.ts_val };
    probe_send(&p, &ack, NULL);
    CHECK_EQ(stack_accept(p.stack, l, &a), 0);
    const struct tcp_conn *c = stack_sock_conn(p.stack, a);
    CHECK(c->ws_on && c->ts_on);
    CHECK_EQ(c->snd_wscale, 7);
    CHECK_EQ(c->snd_wnd, 1000u << 7);
    CHECK_EQ(c->snd_mss, 1300 - 12);           /* the table's 1300 <= 1400, less the TS option */
    /* the connection's clock goes on from the SYN-ACK's TSval */
    CHECK_EQ(stack_send(p.stack, a, "x", 1, p.now), 1);
    struct tcp_segment data;
    CHECK(expect_seg(&p, &data, TCP_ACK | TCP_PSH, sa.seq + 1, 7001));
    CHECK(data.opt.has_ts && (int32_t)(data.opt.ts_val - sa.opt.ts_val) >= 0);
    CHECK_EQ(data.opt.ts_ecr, 101);
    probe_free(&p);
}

TEST(rfc4987_3_6_a_forged_or_old_cookie_is_refused_with_a_reset)
{
    struct probe p;
    probe_init(&p, one_half_open);
    probe_listen(&p, 80, 16);
    struct tcp_segment sa = cookie_syn_ack(&p, 1000, &plain_mss);
    /* forged (a guess near the cookie can pass as another MSS index,
     * 8 in 2^24 do, as on Linux; this one is not near) */
    struct tcp_segment ack = seg_make(1000, 80, 7001, sa.seq + 1 + (1u << 20), TCP_ACK, 65535);
    probe_send(&p, &ack, NULL);
    CHECK(expect_seg(&p, NULL, TCP_RST, sa.seq + 1 + (1u << 20), 0));
    /* another 4-tuple: the cookie is not its */
    ack = seg_make(1001, 80, 7001, sa.seq + 1, TCP_ACK, 65535);
    probe_send(&p, &ack, NULL);
    CHECK(expect_seg(&p, NULL, TCP_RST, sa.seq + 1, 0));
    /* the right one, three minutes late */
    probe_advance(&p, 3 * 60 * 1000000ull);
    probe_drain(&p);   /* the first SYN's retransmitted SYN-ACKs */
    ack = seg_make(1000, 80, 7001, sa.seq + 1, TCP_ACK, 65535);
    probe_send(&p, &ack, NULL);
    CHECK(expect_seg(&p, NULL, TCP_RST, sa.seq + 1, 0));
    CHECK_EQ(cookies(&p, taken), 0);
    probe_free(&p);
}

TEST(rfc4987_3_6_cookie_check_recovers_the_mss_until_the_minute_after_next)
{
    struct isn_key key = { 1, 2 };
    struct tcp_endpoints ep = { .laddr = 1, .raddr = 2, .lport = 80, .rport = 1000 };
    static const uint16_t asked[] = { 0, 100, 536, 1459, 1460, 9000, 65535 };
    static const uint16_t got[] = { 536, 536, 536, 1440, 1460, 8960, 65480 };
    for (size_t i = 0; i < sizeof asked / sizeof asked[0]; i++) {
        uint64_t t0 = 59 * 1000000ull;   /* a second before a minute ends */
        uint32_t iss = syncookie_make(&key, &ep, 5000, asked[i], t0);
        struct syncookie_opts o;
        CHECK(syncookie_check(&key, &ep, 5001, iss + 1, t0 + 1000000, &o));
        CHECK_EQ(o.mss, got[i]);
        CHECK(syncookie_check(&key, &ep, 5001, iss + 1, t0 + 60 * 1000000ull, &o));
        CHECK(!syncookie_check(&key, &ep, 5001, iss + 1, t0 + 61 * 1000000ull, &o));
        CHECK(!syncookie_check(&key, &ep, 5001 + (1u << 22), iss + 1, t0, &o));   /* another SYN */
    }
}
