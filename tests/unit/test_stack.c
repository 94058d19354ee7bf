/* The stack layer: binding and ports, listener queues, the socket calls'
 * errors, ICMP, readiness notification, and that nothing leaks. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"
#include "test.h"
#include "wire.h"

TEST(stack_bind_rules_follow_linux)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *a = probe_socket(&p), *b = probe_socket(&p), *c = probe_socket(&p);
    CHECK_EQ(stack_bind(p.stack, a, 0x0a0000ff, 80), -EADDRNOTAVAIL);
    CHECK_EQ(stack_bind(p.stack, a, PROBE_STACK_ADDR, 80), 0);
    CHECK_EQ(stack_bind(p.stack, a, 0, 81), -EINVAL);        /* bound already */
    CHECK_EQ(stack_bind(p.stack, b, 0, 80), -EADDRINUSE);
    /* SO_REUSEADDR on both lets two sockets share the port while neither
     * listens; only one of them may listen. */
    stack_setopt(p.stack, a, STACK_OPT_REUSEADDR, 1, p.now);
    stack_setopt(p.stack, b, STACK_OPT_REUSEADDR, 1, p.now);
    CHECK_EQ(stack_bind(p.stack, b, 0, 80), 0);
    CHECK_EQ(stack_listen(p.stack, a, 5), 0);
    CHECK_EQ(stack_listen(p.stack, b, 5), -EADDRINUSE);
    stack_setopt(p.stack, c, STACK_OPT_REUSEADDR, 1, p.now);
    CHECK_EQ(stack_bind(p.stack, c, 0, 80), -EADDRINUSE);   /* a listens */
    uint32_t addr;
    uint16_t port;
    stack_getsockname(p.stack, b, &addr, &port);
    CHECK_EQ(addr, 0);
    CHECK_EQ(port, 80);
    probe_free(&p);
}

TEST(stack_ephemeral_ports_are_in_range_and_distinct)
{
    struct probe p;
    probe_init(&p, NULL);
    uint16_t seen[20];
    for (int i = 0; i < 20; i++) {
        struct sock *k;
        stack_socket(p.stack, &k);
        CHECK_EQ(i % 2 ? stack_bind(p.stack, k, 0, 0) : stack_listen(p.stack, k, 1), 0);
        uint32_t addr;
        stack_getsockname(p.stack, k, &addr, &seen[i]);
        CHECK(seen[i] >= 32768 && seen[i] <= 60999);
        for (int j = 0; j < i; j++)
            CHECK(seen[j] != seen[i]);
    }
    probe_free(&p);
}

static void one_ephemeral_port(struct stack_config *cfg)
{
    cfg->ephemeral_lo = cfg->ephemeral_hi = 40000;
}

TEST(stack_connect_shares_a_port_between_destinations_and_then_runs_out)
{
    struct probe p;
    probe_init(&p, one_ephemeral_port);
    struct sock *a = probe_socket(&p), *b = probe_socket(&p), *c = probe_socket(&p);
    CHECK_EQ(stack_connect(p.stack, a, PROBE_PEER_ADDR, 80, p.now), -EINPROGRESS);
    CHECK_EQ(stack_connect(p.stack, b, PROBE_PEER_ADDR, 81, p.now), -EINPROGRESS);
    CHECK_EQ(stack_connect(p.stack, c, PROBE_PEER_ADDR, 80, p.now), -EADDRNOTAVAIL);
    CHECK_EQ(stack_bind(p.stack, probe_socket(&p), 0, 0), -EADDRINUSE);
    probe_free(&p);
}

TEST(stack_fresh_socket_calls_return_linux_errors)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k;
    char buf[4];
    stack_socket(p.stack, &k);
    CHECK_EQ(stack_poll(p.stack, k), POLLOUT | POLLHUP);
    CHECK_EQ(stack_send(p.stack, k, "x", 1, p.now), -EPIPE);
    CHECK_EQ(stack_recv(p.stack, k, buf, sizeof buf, 0, p.now), -ENOTCONN);
    CHECK_EQ(stack_shutdown(p.stack, k, SHUT_WR, p.now), -ENOTCONN);
    CHECK_EQ(stack_shutdown(p.stack, k, 7, p.now), -EINVAL);
    struct sock *out;
    CHECK_EQ(stack_accept(p.stack, k, &out), -EINVAL);
    uint32_t addr;
    uint16_t port;
    CHECK_EQ(stack_getpeername(p.stack, k, &addr, &port), -ENOTCONN);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_KEEPCNT, 0, p.now), -EINVAL);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_KEEPIDLE, 40000, p.now), -EINVAL);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_KEEPINTVL, 5, p.now), 0);
    int v;
    CHECK_EQ(stack_getopt(p.stack, k, STACK_OPT_KEEPINTVL, &v), 0);
    CHECK_EQ(v, 5);
    CHECK_EQ(stack_listen(p.stack, k, 1), 0);
    CHECK_EQ(stack_accept(p.stack, k, &out), -EAGAIN);
    CHECK_EQ(stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now), -EISCONN);
    probe_free(&p);
}

TEST(stack_connect_again_while_connecting_and_once_connected)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    CHECK_EQ(stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now), -EINPROGRESS);
    CHECK_EQ(stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now), -EALREADY);
    CHECK_EQ(stack_poll(p.stack, k), 0);
    uint32_t addr;
    uint16_t port;
    CHECK_EQ(stack_getpeername(p.stack, k, &addr, &port), -ENOTCONN);
    probe_free(&p);
}

TEST(stack_refused_connect_reports_econnrefused_then_may_retry)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    stack_socket(p.stack, &c.sock);
    stack_connect(p.stack, c.sock, PROBE_PEER_ADDR, 80, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    struct tcp_segment rst = seg_make(80, syn.sport, 0, syn.seq + 1, TCP_RST | TCP_ACK, 0);
    probe_send(&p, &rst, NULL);
    CHECK(stack_poll(p.stack, c.sock) & POLLERR);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), ECONNREFUSED);
    CHECK_EQ(stack_sock_error(p.stack, c.sock), 0);
    char buf[4];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -ENOTCONN);
    CHECK_EQ(stack_connect(p.stack, c.sock, PROBE_PEER_ADDR, 80, p.now), -EINPROGRESS);
    CHECK(probe_recv(&p, &syn));
    CHECK_EQ(syn.flags, TCP_SYN);
    probe_free(&p);
}

static void backlog_small(struct stack_config *cfg)
{
    cfg->syn_backlog = 2;
    cfg->syncookies = false;
}

TEST(stack_listener_syn_queue_is_bounded_without_syn_cookies)
{
    struct probe p;
    probe_init(&p, backlog_small);
    probe_listen(&p, 80, 16);
    for (uint16_t port = 1000; port < 1003; port++) {
        struct tcp_segment syn = seg_make(port, 80, 1, 0, TCP_SYN, 65535);
        probe_send(&p, &syn, NULL);
    }
    struct tcp_segment s;
    for (int i = 0; i < 2; i++) {
        CHECK(probe_recv(&p, &s));
        CHECK_EQ(s.flags, TCP_SYN | TCP_ACK);
        CHECK_EQ(s.dport, 1000 + i);
    }
    CHECK(probe_silent(&p));
    CHECK_EQ(probe_drops(&p, DROP_TCP_BACKLOG), 1);
    probe_free(&p);
}

TEST(stack_listener_accept_queue_holds_backlog_plus_one)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = probe_listen(&p, 80, 1);
    for (int i = 0; i < 2; i++) {
        struct tcp_segment syn = seg_make((uint16_t)(1000 + i), 80, 1, 0, TCP_SYN, 65535);
        probe_send(&p, &syn, NULL);
        struct tcp_segment sa;
        CHECK(probe_recv(&p, &sa));
        struct tcp_segment ack = seg_make((uint16_t)(1000 + i), 80, 2, sa.seq + 1, TCP_ACK, 65535);
        probe_send(&p, &ack, NULL);
    }
    CHECK(stack_poll(p.stack, l) & POLLIN);
    /* the queue is full: a third SYN is dropped, the peer will retry */
    struct tcp_segment syn = seg_make(1002, 80, 1, 0, TCP_SYN, 65535);
    probe_send(&p, &syn, NULL);
    CHECK(probe_silent(&p));
    CHECK_EQ(probe_drops(&p, DROP_TCP_BACKLOG), 1);
    struct sock *k;
    CHECK_EQ(stack_accept(p.stack, l, &k), 0);
    CHECK_EQ(stack_sock_state(p.stack, k), TCP_ESTABLISHED);
    CHECK_EQ(stack_accept(p.stack, l, &k), 0);
    CHECK_EQ(stack_accept(p.stack, l, &k), -EAGAIN);
    CHECK_EQ(stack_poll(p.stack, l), 0);
    probe_free(&p);
}

TEST(stack_closing_a_listener_resets_connections_not_accepted)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* a second connection stays in the accept queue */
    struct tcp_segment syn = seg_make(2000, 80, 1, 0, TCP_SYN, 65535);
    probe_send(&p, &syn, NULL);
    struct tcp_segment sa;
    CHECK(probe_recv(&p, &sa));
    struct tcp_segment ack = seg_make(2000, 80, 2, sa.seq + 1, TCP_ACK, 65535);
    probe_send(&p, &ack, NULL);
    stack_close(p.stack, c.listener, p.now);
    struct tcp_segment rst;
    CHECK(expect_seg(&p, &rst, TCP_RST | TCP_ACK, sa.seq + 1, 2));
    CHECK_EQ(rst.dport, 2000);
    /* the accepted one lives on */
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    CHECK_EQ(probe_conns_open(&p), 1);
    probe_free(&p);
}

TEST(stack_connection_is_freed_once_closed_and_released)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(probe_conns_open(&p), 1);
    /* the peer closes first, then the user: LAST-ACK, then gone */
    peer_send_data(&p, &c, NULL, 0, TCP_FIN);
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, TCP_FIN | TCP_ACK, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(probe_conns_open(&p), 0);
    CHECK_EQ(stack_next_deadline(p.stack), 0);
    /* the 4-tuple is free: a new segment finds no connection */
    peer_send_data(&p, &c, "x", 1, 0);
    CHECK(expect_seg(&p, NULL, TCP_RST, c.rcv_nxt, 0));
    probe_free(&p);
}

TEST(rfc6191_syn_with_higher_sequence_reopens_time_wait)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* the stack closes first and ends in TIME-WAIT */
    stack_close(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, TCP_FIN | TCP_ACK, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    peer_send_data(&p, &c, NULL, 0, TCP_FIN);
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(probe_conns_open(&p), 1);
    /* a new SYN on the same 4-tuple, above the old sequence space */
    struct tcp_segment syn = seg_make(c.port, 80, c.snd_nxt + 100000, 0, TCP_SYN, 65535);
    probe_send(&p, &syn, NULL);
    struct tcp_segment sa;
    CHECK(probe_recv(&p, &sa));
    CHECK_EQ(sa.flags, TCP_SYN | TCP_ACK);
    CHECK_EQ(sa.ack, c.snd_nxt + 100001);
    struct sock *k;
    CHECK_EQ(probe_conns_open(&p), 1);
    CHECK_EQ(stack_accept(p.stack, c.listener, &k), -EAGAIN);  /* handshaking */
    probe_free(&p);
}

TEST(rfc1122_3_2_2_6_echo_request_gets_echo_reply)
{
    struct probe p;
    probe_init(&p, NULL);
    uint8_t pkt[64] = { 0 };
    uint8_t *icmp = pkt + IPV4_HDR_LEN;
    icmp[0] = ICMP_ECHO_REQUEST;
    icmp[4] = 0x12; icmp[5] = 0x34;    /* id */
    icmp[6] = 0x00; icmp[7] = 0x07;    /* sequence */
    memcpy(icmp + 8, "ping-data", 9);
    size_t icmp_len = 8 + 9;
    uint16_t ck = csum_fold(csum_partial(icmp, icmp_len, 0));
    icmp[2] = (uint8_t)(ck >> 8);
    icmp[3] = (uint8_t)ck;
    ipv4_build_header(pkt, PROBE_PEER_ADDR, PROBE_STACK_ADDR, IPPROTO_ICMP_, 1,
                      (uint16_t)icmp_len, 0, 0);
    p.wire->send(p.wire, pkt, IPV4_HDR_LEN + icmp_len);
    stack_receive(p.stack, p.now);
    uint8_t reply[128];
    ssize_t n = p.wire->recv(p.wire, reply, sizeof reply);
    CHECK_EQ(n, (ssize_t)(IPV4_HDR_LEN + icmp_len));
    struct ipv4_packet ip;
    CHECK_EQ(ipv4_parse(reply, (size_t)n, &ip), DROP_NONE);
    CHECK_EQ(ip.src, PROBE_STACK_ADDR);
    CHECK_EQ(ip.dst, PROBE_PEER_ADDR);
    struct icmp_message m;
    CHECK_EQ(icmp_parse(ip.payload, ip.payload_len, &m), DROP_NONE);
    CHECK_EQ(m.type, ICMP_ECHO_REPLY);
    CHECK_EQ(m.id, 0x1234);
    CHECK_EQ(m.seqno, 7);
    CHECK(m.data_len == 9 && memcmp(m.data, "ping-data", 9) == 0);
    probe_free(&p);
}

/* An ICMP error quoting the stack's own segment `seg`. */
static void send_icmp_error(struct probe *p, uint8_t type, uint8_t code,
                            const struct tcp_segment *seg)
{
    uint8_t pkt[100] = { 0 };
    uint8_t *icmp = pkt + IPV4_HDR_LEN;
    icmp[0] = type;
    icmp[1] = code;
    uint8_t *quoted = icmp + 8;
    ipv4_build_header(quoted, PROBE_STACK_ADDR, PROBE_PEER_ADDR, IPPROTO_TCP_, 0, 20, 0, 0);
    uint8_t *th = quoted + IPV4_HDR_LEN;
    th[0] = (uint8_t)(seg->sport >> 8); th[1] = (uint8_t)seg->sport;
    th[2] = (uint8_t)(seg->dport >> 8); th[3] = (uint8_t)seg->dport;
    for (int i = 0; i < 4; i++)
        th[4 + i] = (uint8_t)(seg->seq >> (24 - 8 * i));
    size_t icmp_len = 8 + IPV4_HDR_LEN + 8;
    uint16_t ck = csum_fold(csum_partial(icmp, icmp_len, 0));
    icmp[2] = (uint8_t)(ck >> 8);
    icmp[3] = (uint8_t)ck;
    ipv4_build_header(pkt, PROBE_PEER_ADDR, PROBE_STACK_ADDR, IPPROTO_ICMP_, 2,
                      (uint16_t)icmp_len, 0, 0);
    p->wire->send(p->wire, pkt, IPV4_HDR_LEN + icmp_len);
    stack_receive(p->stack, p->now);
}

TEST(rfc1122_4_2_3_9_port_unreachable_while_connecting_refuses)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    /* RFC 5927 4.1: an error quoting a sequence number not in flight is
     * ignored */
    struct tcp_segment other = syn;
    other.seq += 5000;
    send_icmp_error(&p, ICMP_DEST_UNREACH, 3, &other);
    CHECK_EQ(stack_sock_state(p.stack, k), TCP_SYN_SENT);
    send_icmp_error(&p, ICMP_DEST_UNREACH, 3, &syn);
    CHECK_EQ(stack_sock_state(p.stack, k), TCP_CLOSED);
    CHECK_EQ(stack_sock_error(p.stack, k), ECONNREFUSED);
    probe_free(&p);
}

TEST(stack_icmp_error_for_no_connection_is_counted)
{
    struct probe p;
    probe_init(&p, NULL);
    struct tcp_segment ghost = seg_make(1234, 80, 1, 0, TCP_SYN, 0);
    send_icmp_error(&p, ICMP_DEST_UNREACH, 1, &ghost);
    CHECK_EQ(probe_drops(&p, DROP_ICMP_TYPE), 1);
    struct stack_stats st;
    stack_get_stats(p.stack, &st);
    CHECK_EQ(st.icmp_in, 1);
    probe_free(&p);
}

TEST(stack_notify_fires_when_readiness_changes)
{
    struct probe p;
    probe_init(&p, NULL);
    struct probe_notes n = { 0 };
    stack_set_notify(p.stack, probe_note, &n);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    unsigned before = n.count;
    peer_send_data(&p, &c, "hello", 5, 0);
    CHECK_EQ(n.count, before + 1);
    CHECK(n.last == c.sock);
    CHECK(stack_poll(p.stack, c.sock) & POLLIN);
    /* more data: still readable, nothing new to tell */
    peer_send_data(&p, &c, "again", 5, 0);
    CHECK_EQ(n.count, before + 1);
    char buf[16];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, STACK_MSG_PEEK, p.now), 10);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 10);
    CHECK(memcmp(buf, "helloagain", 10) == 0);
    CHECK(!(stack_poll(p.stack, c.sock) & POLLIN));
    peer_send_data(&p, &c, NULL, 0, TCP_FIN);
    CHECK(stack_poll(p.stack, c.sock) & POLLRDHUP);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    probe_free(&p);
}

TEST(stack_shutdown_read_gives_end_of_stream)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    char buf[4];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    CHECK_EQ(stack_shutdown(p.stack, c.sock, SHUT_RD, p.now), 0);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    CHECK(stack_poll(p.stack, c.sock) & POLLRDHUP);
    CHECK_EQ(stack_shutdown(p.stack, c.sock, SHUT_WR, p.now), 0);
    CHECK(stack_poll(p.stack, c.sock) & POLLHUP);
    CHECK(expect_seg(&p, NULL, TCP_FIN | TCP_ACK, c.rcv_nxt, c.snd_nxt));
    probe_free(&p);
}

TEST(rfc9293_3_10_5_abort_resets_and_frees_the_connection)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    stack_abort(p.stack, c.sock, p.now);
    CHECK(expect_seg(&p, NULL, TCP_RST | TCP_ACK, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(probe_conns_open(&p), 0);
    probe_free(&p);
}

TEST(stack_notify_fires_on_a_state_change_alone)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    struct probe_notes n = { 0 };
    stack_set_notify(p.stack, probe_note, &n);
    stack_shutdown(p.stack, c.sock, SHUT_WR, p.now);
    CHECK(expect_seg(&p, NULL, TCP_FIN | TCP_ACK, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    unsigned before = n.count;
    unsigned mask = stack_poll(p.stack, c.sock);
    /* the FIN's ACK: FIN-WAIT-1 to FIN-WAIT-2, readiness unchanged */
    peer_send_ack(&p, &c, 65535);
    CHECK_EQ(stack_poll(p.stack, c.sock), mask);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_FIN_WAIT_2);
    CHECK_EQ(n.count, before + 1);
    probe_free(&p);
}

TEST(stack_maxseg_limits_the_announced_and_the_sent_segment_size)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_MAXSEG, 50, p.now), -EINVAL);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_MAXSEG, 1000, p.now), 0);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    CHECK(syn.opt.has_mss && syn.opt.mss == 1000);
    struct tcp_segment sa = seg_make(80, syn.sport, 7000, syn.seq + 1, TCP_SYN | TCP_ACK, 65535);
    sa.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(&p, &sa, NULL);
    static const char data[3000];
    CHECK_EQ(stack_send(p.stack, k, data, sizeof data, p.now), 3000);
    struct tcp_segment s;
    unsigned total = 0;
    while (probe_recv(&p, &s)) {
        CHECK(s.len <= 1000);
        total += s.len;
    }
    CHECK_EQ(total, 3000);
    probe_free(&p);
}

TEST(linux_tcp_cork_holds_short_segments_until_uncorked)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_CORK, 1, p.now), 0);
    static const char data[2000];
    CHECK_EQ(stack_send(p.stack, c.sock, data, 100, p.now), 100);
    CHECK(probe_silent(&p));                          /* corked: held */
    CHECK_EQ(stack_send(p.stack, c.sock, data, 1400, p.now), 1400);
    struct tcp_segment s;
    CHECK(expect_seg(&p, &s, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(s.len, 1460);                            /* one full segment */
    c.rcv_nxt += 1460;
    peer_send_ack(&p, &c, 65535);
    CHECK(probe_silent(&p));                          /* nothing in flight, still held */
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_CORK, 0, p.now), 0);
    CHECK(expect_seg(&p, &s, TCP_ACK | TCP_PSH, c.rcv_nxt, c.snd_nxt));
    CHECK_EQ(s.len, 40);                              /* the rest at uncork */
    probe_free(&p);
}

TEST(linux_so_rcvlowat_sets_when_a_socket_is_readable)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_RCVLOWAT, 10, p.now), 0);
    peer_send_data(&p, &c, "12345", 5, TCP_PSH);
    CHECK(!(stack_poll(p.stack, c.sock) & POLLIN));
    peer_send_data(&p, &c, "67890", 5, TCP_PSH);
    CHECK(stack_poll(p.stack, c.sock) & POLLIN);
    probe_free(&p);
}

TEST(stack_connect_result_reports_a_completed_handshake_even_if_reset_since)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_active_open(&p, &c, 80, NULL);
    /* data and a reset arrive before the connecting caller looks */
    peer_send_data(&p, &c, "hi", 2, TCP_PSH);
    struct tcp_segment rst = seg_make(80, c.stack_port, c.snd_nxt, 0, TCP_RST, 0);
    probe_send(&p, &rst, NULL);
    CHECK_EQ(stack_connect_result(p.stack, c.sock), 0);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 2);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -ECONNRESET);
    probe_free(&p);
}

TEST(stack_connect_result_reports_a_refusal)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 80, p.now);
    CHECK_EQ(stack_connect_result(p.stack, k), -EAGAIN);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    struct tcp_segment rst = seg_make(80, syn.sport, 0, syn.seq + 1, TCP_RST | TCP_ACK, 0);
    probe_send(&p, &rst, NULL);
    CHECK_EQ(stack_connect_result(p.stack, k), -ECONNREFUSED);
    CHECK_EQ(stack_sock_error(p.stack, k), 0);
    probe_free(&p);
}

/* The relay of tuntcpd reads a connection's received bytes in place and
 * frees them once its program's socket has taken them. */
static void small_buffers(struct stack_config *cfg)
{
    cfg->tcp.rcvbuf = cfg->tcp.sndbuf = 4096;
}

/* The bytes `view` shows, joined into out; their count, or -1 if the
 * pieces do not add up to the total it returned. */
static long viewed(struct probe *p, struct sock *k, uint8_t *out, struct iovec iov[2])
{
    uint32_t n = stack_recv_view(p->stack, k, iov);
    memcpy(out, iov[0].iov_base, iov[0].iov_len);
    memcpy(out + iov[0].iov_len, iov[1].iov_base, iov[1].iov_len);
    return iov[0].iov_len + iov[1].iov_len == n ? (long)n : -1;
}

TEST(stack_recv_view_shows_received_bytes_in_order_across_the_buffer_end)
{
    struct probe p;
    probe_init(&p, small_buffers);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    uint8_t sent[3000], seen[4096];
    struct iovec iov[2];
    for (unsigned round = 0; round < 2; round++) {
        for (unsigned i = 0; i < sizeof sent; i++)
            sent[i] = (uint8_t)(i * 13 + round);
        for (unsigned off = 0; off < sizeof sent; off += 1000)
            peer_send_data(&p, &c, sent + off, 1000, TCP_PSH);
        CHECK_EQ(viewed(&p, c.sock, seen, iov), sizeof sent);
        CHECK(!memcmp(seen, sent, sizeof sent));
        /* the second round wraps around the end of the 4096-byte ring */
        CHECK_EQ(iov[1].iov_len, round ? 3000 - (4096 - 3000) : 0);
        stack_recv_consume(p.stack, c.sock, 1000, p.now);
        CHECK_EQ(viewed(&p, c.sock, seen, iov), 2000);
        CHECK(!memcmp(seen, sent + 1000, 2000));
        stack_recv_consume(p.stack, c.sock, 2000, p.now);
    }
    char buf[4];
    CHECK_EQ(stack_recv_view(p.stack, c.sock, iov), 0);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), -EAGAIN);
    CHECK_EQ(stack_recv_view(p.stack, probe_socket(&p), iov), 0);   /* no connection */
    probe_free(&p);
}

TEST(rfc9293_3_8_6_2_2_consuming_a_full_buffer_sends_a_window_update)
{
    struct probe p;
    probe_init(&p, small_buffers);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    uint8_t data[1024] = { 0 };
    for (int i = 0; i < 4; i++)
        peer_send_data(&p, &c, data, sizeof data, TCP_PSH);
    probe_advance(&p, 500000);      /* past any delayed ACK */
    struct tcp_segment seg;
    uint16_t wnd = 1;
    while (probe_recv(&p, &seg))
        wnd = seg.wnd;
    CHECK_EQ(wnd, 0);
    stack_recv_consume(p.stack, c.sock, 4096, p.now);
    CHECK(expect_seg(&p, &seg, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    CHECK(seg.wnd > 0);
    probe_free(&p);
}

TEST(stack_send_view_and_commit_send_in_place_across_the_buffer_end)
{
    struct probe p;
    probe_init(&p, small_buffers);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_NODELAY, 1, p.now), 0);
    struct iovec iov[2];
    CHECK_EQ(stack_send_view(p.stack, c.sock, iov), 4096);
    CHECK_EQ(iov[0].iov_len, 4096);
    struct tcp_segment seg;
    for (unsigned round = 0; round < 2; round++) {
        /* 3000 bytes written in place; the second round wraps */
        CHECK_EQ(stack_send_view(p.stack, c.sock, iov), 4096);
        CHECK_EQ(iov[0].iov_len, round ? 4096 - 3000 : 4096);
        for (unsigned i = 0; i < 3000; i++) {
            uint8_t byte = (uint8_t)(i * 7 + round);
            if (i < iov[0].iov_len)
                ((uint8_t *)iov[0].iov_base)[i] = byte;
            else
                ((uint8_t *)iov[1].iov_base)[i - iov[0].iov_len] = byte;
        }
        stack_send_commit(p.stack, c.sock, 3000, p.now);
        CHECK_EQ(stack_send_view(p.stack, c.sock, iov), 1096);
        for (uint32_t got = 0; got < 3000; got += seg.len) {
            CHECK(probe_recv(&p, &seg));
            CHECK_EQ(seg.seq, c.rcv_nxt);
            for (uint32_t i = 0; i < seg.len; i++)
                CHECK_EQ(seg.data[i], (uint8_t)((got + i) * 7 + round));
            c.rcv_nxt += seg.len;
        }
        peer_send_ack(&p, &c, 65535);
    }
    CHECK_EQ(stack_shutdown(p.stack, c.sock, SHUT_WR, p.now), 0);
    CHECK_EQ(stack_send_view(p.stack, c.sock, iov), 0);            /* FIN queued */
    CHECK_EQ(stack_send_view(p.stack, probe_socket(&p), iov), 0);  /* no connection */
    probe_free(&p);
}

TEST(rfc9293_3_5_a_connection_to_our_own_address_and_port_completes_as_a_simultaneous_open)
{
    /* Linux too: bound to port P, connecting to its own address and P */
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    CHECK_EQ(stack_bind(p.stack, k, PROBE_STACK_ADDR, 5000), 0);
    CHECK_EQ(stack_connect(p.stack, k, PROBE_STACK_ADDR, 5000, p.now), -EINPROGRESS);
    probe_advance(&p, 0);
    CHECK_EQ(stack_connect_result(p.stack, k), 0);
    CHECK_EQ(stack_sock_state(p.stack, k), TCP_ESTABLISHED);
    CHECK_EQ(stack_send(p.stack, k, "self", 4, p.now), 4);
    probe_advance(&p, 0);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, k, buf, sizeof buf, 0, p.now), 4);
    CHECK(!memcmp(buf, "self", 4));
    CHECK(probe_silent(&p));   /* nothing went out on the link */
    probe_free(&p);
}

TEST(rfc1122_3_2_1_3_a_connection_to_our_own_listener_is_delivered_locally)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = probe_listen(&p, 80, 5), *c = probe_socket(&p), *a;
    CHECK_EQ(stack_connect(p.stack, c, PROBE_STACK_ADDR, 80, p.now), -EINPROGRESS);
    probe_advance(&p, 0);
    CHECK_EQ(stack_connect_result(p.stack, c), 0);
    CHECK_EQ(stack_accept(p.stack, l, &a), 0);
    CHECK_EQ(stack_send(p.stack, c, "ping", 4, p.now), 4);
    probe_advance(&p, 0);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, a, buf, sizeof buf, 0, p.now), 4);
    CHECK_EQ(stack_send(p.stack, a, "pong", 4, p.now), 4);
    probe_advance(&p, 0);
    CHECK_EQ(stack_recv(p.stack, c, buf, sizeof buf, 0, p.now), 4);
    CHECK(!memcmp(buf, "pong", 4));
    /* both close: FINs cross locally, nothing reaches the link */
    stack_close(p.stack, c, p.now);
    stack_close(p.stack, a, p.now);
    probe_advance(&p, 0);
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* Linux keeps a small timewait record, not the socket's buffers: 100,000
 * connections a minute would otherwise hold 512 KiB each. */
TEST(stack_time_wait_keeps_no_send_buffer_and_frees_the_receive_buffer_once_read)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* we close our side first; the peer sends data, then its FIN */
    CHECK_EQ(stack_shutdown(p.stack, c.sock, SHUT_WR, p.now), 0);
    CHECK(expect_seg(&p, NULL, TCP_FIN | TCP_ACK, c.rcv_nxt, c.snd_nxt));
    c.rcv_nxt++;
    peer_send_ack(&p, &c, 65535);
    peer_send_data(&p, &c, "last words", 10, TCP_FIN);
    const struct tcp_conn *conn = stack_sock_conn(p.stack, c.sock);
    CHECK_EQ(conn->state, TCP_TIME_WAIT);
    CHECK_EQ(conn->sndbuf.alloc, 0);
    CHECK(conn->rcvbuf.alloc > 0);            /* "last words" wait to be read */
    char buf[16];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 10);
    CHECK_EQ(conn->rcvbuf.alloc, 0);
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);   /* end of stream */
    /* a retransmitted FIN is still acknowledged, with the window we had */
    uint16_t wnd = 0;
    struct tcp_segment seg;
    while (probe_recv(&p, &seg))
        wnd = seg.wnd;
    c.snd_nxt -= 1;
    peer_send_data(&p, &c, NULL, 0, TCP_FIN);
    CHECK(expect_seg(&p, &seg, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    CHECK(wnd > 0);
    CHECK_EQ(seg.wnd, wnd);
    probe_free(&p);
}

TEST(linux_ip_tos_and_ip_ttl_go_into_the_ip_header_of_every_segment)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* Linux: for TCP the ECN bits of IP_TOS stay the stack's (none) */
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_TOS, 0x13, p.now), 0);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_TTL, 5, p.now), 0);
    CHECK_EQ(stack_send(p.stack, c.sock, "x", 1, p.now), 1);
    struct tcp_segment seg;
    CHECK(probe_recv(&p, &seg));
    CHECK_EQ(p.rx_tos, 0x10);
    CHECK_EQ(p.rx_ttl, 5);
    int v;
    CHECK_EQ(stack_getopt(p.stack, c.sock, STACK_OPT_TOS, &v), 0);
    CHECK_EQ(v, 0x10);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_TTL, 0, p.now), -EINVAL);
    CHECK_EQ(stack_setopt(p.stack, c.sock, STACK_OPT_TTL, -1, p.now), 0);
    CHECK_EQ(stack_getopt(p.stack, c.sock, STACK_OPT_TTL, &v), 0);
    CHECK_EQ(v, 64);
    c.rcv_nxt += 1;
    peer_send_data(&p, &c, "y", 1, TCP_PSH);
    probe_advance(&p, 500000);
    CHECK(probe_recv(&p, &seg));
    CHECK_EQ(p.rx_ttl, 64);
    probe_free(&p);
}

/* A listener on `port` with SO_REUSEPORT (or without). */
static struct sock *reuseport_listener(struct probe *p, uint16_t port, bool reuseport)
{
    struct sock *l = probe_socket(p);
    stack_setopt(p->stack, l, STACK_OPT_REUSEPORT, reuseport, p->now);
    if (stack_bind(p->stack, l, PROBE_STACK_ADDR, port) < 0 || stack_listen(p->stack, l, 64) < 0) {
        stack_close(p->stack, l, p->now);
        return NULL;
    }
    return l;
}

/* Completes a handshake from the test's `port` to the stack's port 80. */
static void handshake_from(struct probe *p, uint16_t port)
{
    struct tcp_segment syn = seg_make(port, 80, 1000, 0, TCP_SYN, 65535);
    probe_send(p, &syn, NULL);
    struct tcp_segment sa;
    if (!probe_recv(p, &sa))
        return;
    struct tcp_segment ack = seg_make(port, 80, 1001, sa.seq + 1, TCP_ACK, 65535);
    probe_send(p, &ack, NULL);
}

/* Accepts and aborts every connection l has ready; the RSTs are read. */
static unsigned accept_all(struct probe *p, struct sock *l)
{
    unsigned n = 0;
    struct sock *k;
    while (stack_accept(p->stack, l, &k) == 0) {
        n++;
        stack_abort(p->stack, k, p->now);
    }
    probe_drain(p);
    return n;
}

TEST(linux_so_reuseport_listeners_share_a_port_and_take_connections_by_hash)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *a = reuseport_listener(&p, 80, true);
    struct sock *b = reuseport_listener(&p, 80, true);
    CHECK(a && b);
    for (uint16_t port = 40000; port < 40032; port++)
        handshake_from(&p, port);
    unsigned on_a = accept_all(&p, a), on_b = accept_all(&p, b);
    CHECK_EQ(on_a + on_b, 32);
    CHECK(on_a >= 4 && on_b >= 4);   /* spread: 32 fair coin tosses */
    probe_free(&p);
}

TEST(linux_so_reuseport_needs_the_option_on_every_socket_of_the_port)
{
    struct probe p;
    probe_init(&p, NULL);
    CHECK(reuseport_listener(&p, 80, true));
    CHECK(!reuseport_listener(&p, 80, false));
    CHECK(reuseport_listener(&p, 81, false));
    CHECK(!reuseport_listener(&p, 81, true));
    probe_free(&p);
}

TEST(linux_so_reuseport_a_listener_closing_resets_only_its_own_connections)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *a = reuseport_listener(&p, 80, true);
    struct sock *b = reuseport_listener(&p, 80, true);
    for (uint16_t port = 40000; port < 40016; port++)
        handshake_from(&p, port);
    CHECK_EQ(probe_conns_open(&p), 16);
    stack_close(p.stack, a, p.now);
    unsigned resets = 0;
    struct tcp_segment r;
    while (probe_recv(&p, &r))
        resets += (r.flags & TCP_RST) != 0;
    CHECK_EQ(probe_conns_open(&p), 16 - resets);
    CHECK_EQ(accept_all(&p, b), 16 - resets);
    /* b now takes every new connection */
    handshake_from(&p, 41000);
    CHECK_EQ(accept_all(&p, b), 1);
    probe_free(&p);
}

TEST(linux_so_priority_is_kept_and_accepted_connections_start_at_zero)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = probe_listen(&p, 80, 16);
    int v = -1;
    CHECK_EQ(stack_getopt(p.stack, l, STACK_OPT_PRIORITY, &v), 0);
    CHECK_EQ(v, 0);
    /* the stack takes any value: the interposer checks the caller may */
    CHECK_EQ(stack_setopt(p.stack, l, STACK_OPT_PRIORITY, 7, p.now), 0);
    CHECK_EQ(stack_getopt(p.stack, l, STACK_OPT_PRIORITY, &v), 0);
    CHECK_EQ(v, 7);
    struct tcp_segment syn = seg_make(1000, 80, 1, 0, TCP_SYN, 65535);
    probe_send(&p, &syn, NULL);
    struct tcp_segment sa;
    CHECK(probe_recv(&p, &sa));
    struct tcp_segment ack = seg_make(1000, 80, 2, sa.seq + 1, TCP_ACK, 65535);
    probe_send(&p, &ack, NULL);
    struct sock *k;
    CHECK_EQ(stack_accept(p.stack, l, &k), 0);
    /* Linux (sk_clone_lock): the child's priority is 0, whatever the
     * listener's */
    CHECK_EQ(stack_getopt(p.stack, k, STACK_OPT_PRIORITY, &v), 0);
    CHECK_EQ(v, 0);
    probe_free(&p);
}

TEST(linux_ip_tos_sets_so_priority_as_rt_tos2priority)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    /* Linux (__ip_sock_set_tos): a TOS that changes sets the priority
     * from its TOS bits (ip_tos2prio); the same TOS again leaves it */
    static const int tos_prio[][2] = { { 0x10, 6 }, { 0x08, 2 }, { 0x04, 0 },
                                       { 0x1e, 4 }, { 0xb8, 4 }, { 0x00, 0 } };
    int v;
    for (size_t i = 0; i < sizeof tos_prio / sizeof tos_prio[0]; i++) {
        CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_TOS, tos_prio[i][0], p.now), 0);
        CHECK_EQ(stack_getopt(p.stack, k, STACK_OPT_PRIORITY, &v), 0);
        CHECK_EQ(v, tos_prio[i][1]);
    }
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_TOS, 0x10, p.now), 0);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_PRIORITY, 3, p.now), 0);
    CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_TOS, 0x13, p.now), 0);   /* ECN bits aside, the same */
    CHECK_EQ(stack_getopt(p.stack, k, STACK_OPT_PRIORITY, &v), 0);
    CHECK_EQ(v, 3);
    stack_close(p.stack, k, p.now);
    probe_free(&p);
}

TEST(linux_tcp_defer_accept_reads_back_the_seconds_its_syn_ack_timeouts_cover)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k = probe_socket(&p);
    /* Linux (secs_to_retrans, retrans_to_secs): timeouts of 1, 2, 4 ...
     * up to 120 s, at most 255 of them; these pairs are what Linux 6.18
     * reads back */
    static const int set_got[][2] = {
        { 0, 0 }, { -1, 0 }, { 1, 1 }, { 2, 3 }, { 5, 7 }, { 30, 31 }, { 32, 63 },
        { 128, 247 }, { 1000, 1087 }, { 29888, 29887 }, { 0x7fffffff, 29887 },
    };
    int v;
    for (size_t i = 0; i < sizeof set_got / sizeof set_got[0]; i++) {
        CHECK_EQ(stack_setopt(p.stack, k, STACK_OPT_DEFER_ACCEPT, set_got[i][0], p.now), 0);
        CHECK_EQ(stack_getopt(p.stack, k, STACK_OPT_DEFER_ACCEPT, &v), 0);
        CHECK_EQ(v, set_got[i][1]);
    }
    stack_close(p.stack, k, p.now);
    probe_free(&p);
}

/* A handshake from the test's `port` to listener l (port 80) that ends
 * with a bare ACK. */
static void bare_ack_handshake(struct probe *p, struct peer *c, struct sock *l, uint16_t port)
{
    memset(c, 0, sizeof *c);
    c->port = port;
    c->stack_port = 80;
    c->snd_nxt = 1000;
    c->listener = l;
    struct tcp_segment syn = seg_make(port, 80, c->snd_nxt++, 0, TCP_SYN, 65535);
    probe_send(p, &syn, NULL);
    struct tcp_segment synack;
    if (probe_recv(p, &synack))
        c->rcv_nxt = synack.seq + 1;
    peer_send_ack(p, c, 65535);
}

static struct sock *defer_listener(struct probe *p, int backlog, int seconds)
{
    struct sock *l = probe_listen(p, 80, backlog);
    stack_setopt(p->stack, l, STACK_OPT_DEFER_ACCEPT, seconds, p->now);
    return l;
}

TEST(linux_tcp_defer_accept_queues_the_connection_only_once_data_arrives)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    bare_ack_handshake(&p, &c, defer_listener(&p, 16, 5), 40000);
    CHECK_EQ(stack_poll(p.stack, c.listener), 0);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), -EAGAIN);
    probe_advance(&p, 3 * SEC);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), -EAGAIN);
    peer_send_data(&p, &c, "GET /", 5, TCP_PSH);
    CHECK_EQ(stack_poll(p.stack, c.listener), POLLIN);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), 0);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 5);
    CHECK(memcmp(buf, "GET /", 5) == 0);
    /* Linux: the accepted connection does not inherit the option */
    int v = -1;
    CHECK_EQ(stack_getopt(p.stack, c.sock, STACK_OPT_DEFER_ACCEPT, &v), 0);
    CHECK_EQ(v, 0);
    probe_free(&p);
}

TEST(linux_tcp_defer_accept_queues_the_connection_once_a_fin_arrives)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    bare_ack_handshake(&p, &c, defer_listener(&p, 16, 5), 40000);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), -EAGAIN);
    peer_send_data(&p, &c, NULL, 0, TCP_FIN);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), 0);
    char buf[8];
    CHECK_EQ(stack_recv(p.stack, c.sock, buf, sizeof buf, 0, p.now), 0);
    probe_free(&p);
}

TEST(linux_tcp_defer_accept_queues_the_connection_after_the_period)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    /* 5 s: three SYN-ACK timeouts (1 + 2 + 4 s), counted from the SYN */
    bare_ack_handshake(&p, &c, defer_listener(&p, 16, 5), 40000);
    probe_advance(&p, 7 * SEC - 1);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), -EAGAIN);
    CHECK(probe_silent(&p));   /* the handshake is done: no SYN-ACK again */
    probe_advance(&p, 1);
    CHECK_EQ(stack_poll(p.stack, c.listener), POLLIN);
    CHECK_EQ(stack_accept(p.stack, c.listener, &c.sock), 0);
    CHECK_EQ(stack_sock_state(p.stack, c.sock), TCP_ESTABLISHED);
    probe_free(&p);
}

TEST(linux_tcp_defer_accept_drops_data_that_would_overfill_the_accept_queue)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = defer_listener(&p, 0, 5);   /* the accept queue holds one */
    struct peer a, b;
    bare_ack_handshake(&p, &a, l, 40000);
    bare_ack_handshake(&p, &b, l, 40001);
    peer_send_data(&p, &a, "a", 1, TCP_PSH);
    /* Linux (tcp_check_req): the child cannot be made, the data is
     * dropped unacknowledged and the peer sends it again */
    peer_send_data(&p, &b, "b", 1, TCP_PSH);
    CHECK_EQ(probe_drops(&p, DROP_TCP_BACKLOG), 1);
    CHECK_EQ(stack_accept(p.stack, l, &a.sock), 0);
    CHECK_EQ(stack_accept(p.stack, l, &b.sock), -EAGAIN);
    b.snd_nxt -= 1;
    peer_send_data(&p, &b, "b", 1, TCP_PSH);
    CHECK_EQ(stack_accept(p.stack, l, &b.sock), 0);
    char buf[2];
    CHECK_EQ(stack_recv(p.stack, b.sock, buf, sizeof buf, 0, p.now), 1);
    CHECK_EQ(buf[0], 'b');
    probe_free(&p);
}

TEST(linux_tcp_defer_accept_drops_a_connection_whose_period_ends_on_a_full_accept_queue)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *l = defer_listener(&p, 0, 1);
    struct peer a, b;
    bare_ack_handshake(&p, &a, l, 40000);
    bare_ack_handshake(&p, &b, l, 40001);
    peer_send_data(&p, &a, "a", 1, TCP_PSH);
    CHECK_EQ(probe_conns_open(&p), 2);
    /* Linux: the SYN-ACK sent at the end of the period draws an ACK that
     * finds the queue full, and the request expires without a word */
    probe_advance(&p, SEC);
    struct tcp_segment s;
    while (probe_recv(&p, &s))
        CHECK_EQ(s.dport, 40000);   /* a's delayed ACK at most */
    CHECK_EQ(probe_conns_open(&p), 1);
    CHECK_EQ(stack_accept(p.stack, l, &a.sock), 0);
    CHECK_EQ(stack_accept(p.stack, l, &b.sock), -EAGAIN);
    probe_free(&p);
}
