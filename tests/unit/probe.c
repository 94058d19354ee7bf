#include "probe.h"

#include <stdlib.h>
#include <string.h>

#include "test.h"

/* What the test sends where the bytes do not matter. */
static const uint8_t zeros[65535];

void probe_init(struct probe *p, void (*tweak)(struct stack_config *cfg))
{
    memset(p, 0, sizeof *p);
    p->now = 1000 * SEC;
    stack_config_default(&p->cfg);
    p->cfg.addr = PROBE_STACK_ADDR;
    p->cfg.random_isn_key = false;
    p->cfg.isn_key = (struct isn_key){ 0x0123456789abcdefull, 0xfedcba9876543210ull };
    if (tweak)
        tweak(&p->cfg);
    p->link = link_mem_new(1500, NULL, &p->now);
    p->wire = link_mem_end(p->link, 1);
    p->stack = stack_new(&p->cfg, link_mem_end(p->link, 0));
}

void probe_free(struct probe *p)
{
    stack_free(p->stack);
    link_mem_free(p->link);
}

void probe_advance(struct probe *p, uint64_t us)
{
    uint64_t end = p->now + us;
    for (;;) {
        uint64_t next = stack_next_deadline(p->stack);
        if (!next || next > end)
            break;
        if (next > p->now)
            p->now = next;
        stack_timers(p->stack, p->now);
    }
    p->now = end;
    stack_timers(p->stack, p->now);
}

struct sock *probe_socket(struct probe *p)
{
    struct sock *k = NULL;
    stack_socket(p->stack, &k);
    return k;
}

struct sock *probe_listen(struct probe *p, uint16_t port, int backlog)
{
    struct sock *l = probe_socket(p);
    stack_bind(p->stack, l, PROBE_STACK_ADDR, port);
    stack_listen(p->stack, l, backlog);
    return l;
}

struct tcp_segment seg_make(uint16_t sport, uint16_t dport, uint32_t seq,
                            uint32_t ack, uint8_t flags, uint16_t wnd)
{
    return (struct tcp_segment){
        .sport = sport, .dport = dport, .seq = seq, .ack = ack,
        .flags = flags, .wnd = wnd,
    };
}

void probe_queue(struct probe *p, const struct tcp_segment *seg, const void *data)
{
    uint8_t pkt[70000];
    struct tcp_payload payload = { { data, NULL }, { seg->len, 0 } };
    size_t n = tcp_build_packet(pkt, sizeof pkt, PROBE_PEER_ADDR, PROBE_STACK_ADDR,
                                p->ip_id++, seg, seg->len ? &payload : NULL);
    if (n)
        p->wire->send(p->wire, pkt, n);
}

void probe_send(struct probe *p, const struct tcp_segment *seg, const void *data)
{
    probe_queue(p, seg, data);
    stack_receive(p->stack, p->now);
}

bool probe_recv(struct probe *p, struct tcp_segment *seg)
{
    uint8_t pkt[70000];
    for (;;) {
        ssize_t n = p->wire->recv(p->wire, pkt, sizeof pkt);
        if (n <= 0)
            return false;
        struct ipv4_packet ip;
        if (ipv4_parse(pkt, (size_t)n, &ip) != DROP_NONE || ip.proto != IPPROTO_TCP_)
            continue;
        if (tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, seg) != DROP_NONE)
            continue;
        memcpy(p->rx_data, seg->data, seg->len);
        seg->data = p->rx_data;
        p->rx_tos = ip.tos;
        p->rx_ttl = ip.ttl;
        return true;
    }
}

bool probe_silent(struct probe *p)
{
    struct tcp_segment seg;
    return !probe_recv(p, &seg);
}

/* peer_passive_open, with the test's ACK `handshake_rtt` after the
 * stack's SYN-ACK (at once if 0): the stack's first RTT sample. */
static void passive_open(struct probe *p, struct peer *c, uint16_t stack_port,
                         const struct tcp_options *opt, uint64_t handshake_rtt)
{
    memset(c, 0, sizeof *c);
    c->port = 40000;
    c->stack_port = stack_port;
    c->snd_nxt = 1000;
    c->listener = probe_listen(p, stack_port, 16);
    struct tcp_segment syn = seg_make(c->port, stack_port, c->snd_nxt, 0, TCP_SYN, 65535);
    if (opt)
        syn.opt = *opt;
    else
        syn.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(p, &syn, NULL);
    c->snd_nxt++;
    struct tcp_segment synack;
    if (probe_recv(p, &synack)) {
        c->stack_iss = synack.seq;
        c->rcv_nxt = synack.seq + 1;
        c->ts = synack.opt.has_ts;
        c->ts_val = syn.opt.ts_val;
    }
    if (handshake_rtt)
        probe_advance(p, handshake_rtt);
    peer_send_ack(p, c, 65535);
    stack_accept(p->stack, c->listener, &c->sock);
}

void peer_passive_open(struct probe *p, struct peer *c, uint16_t stack_port,
                       const struct tcp_options *opt)
{
    passive_open(p, c, stack_port, opt, 0);
}

void peer_active_open(struct probe *p, struct peer *c, uint16_t peer_port,
                      const struct tcp_options *opt)
{
    memset(c, 0, sizeof *c);
    c->port = peer_port;
    c->snd_nxt = 5000;
    stack_socket(p->stack, &c->sock);
    stack_connect(p->stack, c->sock, PROBE_PEER_ADDR, peer_port, p->now);
    struct tcp_segment syn;
    if (!probe_recv(p, &syn))
        return;
    c->stack_port = syn.sport;
    c->stack_iss = syn.seq;
    c->rcv_nxt = syn.seq + 1;
    struct tcp_segment synack = seg_make(peer_port, c->stack_port, c->snd_nxt,
                                         c->rcv_nxt, TCP_SYN | TCP_ACK, 65535);
    if (opt)
        synack.opt = *opt;
    else
        synack.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(p, &synack, NULL);
    c->snd_nxt++;
    c->ts = synack.opt.has_ts && syn.opt.has_ts;
    c->ts_val = synack.opt.ts_val;
}

/* RFC 7323 3.2: once negotiated, every segment of the test carries them. */
static void peer_stamp(struct peer *c, struct tcp_segment *s)
{
    if (c->ts) {
        s->opt.has_ts = true;
        s->opt.ts_val = ++c->ts_val;
    }
}

void peer_send_data(struct probe *p, struct peer *c, const void *data,
                    uint32_t len, uint8_t extra_flags)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt, c->rcv_nxt,
                                    TCP_ACK | extra_flags, 65535);
    peer_stamp(c, &s);
    s.len = len;
    probe_send(p, &s, data);
    c->snd_nxt += len + !!(extra_flags & TCP_FIN);
}

void peer_send_ack(struct probe *p, struct peer *c, uint16_t wnd)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt,
                                    c->rcv_nxt, TCP_ACK, wnd);
    peer_stamp(c, &s);
    probe_send(p, &s, NULL);
}

void peer_send_range(struct probe *p, struct peer *c, uint32_t from, uint32_t to)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt + from, c->rcv_nxt,
                                    TCP_ACK, 65535);
    peer_stamp(c, &s);
    s.len = to - from;
    probe_send(p, &s, zeros);
}

struct tcp_options probe_syn_options(bool sack_permitted, bool ts)
{
    return (struct tcp_options){ .has_mss = true, .mss = 1460,
                                 .sack_permitted = sack_permitted, .has_ts = ts, .ts_val = 100 };
}

void peer_sack_open(struct probe *p, struct peer *c, bool ts)
{
    struct tcp_options opt = probe_syn_options(true, ts);
    peer_passive_open(p, c, 80, &opt);
}

uint32_t peer_sack_open_and_send(struct probe *p, struct peer *c, uint64_t handshake_rtt,
                                 uint32_t bytes)
{
    struct tcp_options opt = probe_syn_options(true, false);
    passive_open(p, c, 80, &opt, handshake_rtt);
    stack_setopt(p->stack, c->sock, STACK_OPT_CONGESTION, TCP_CC_RENO, p->now);
    uint32_t base = c->rcv_nxt;
    stack_send(p->stack, c->sock, zeros, bytes, p->now);
    probe_drain(p);
    return base;
}

struct tcp_segment peer_sack_segment(struct peer *c, uint32_t ack, unsigned n,
                                     const uint32_t *edges)
{
    struct tcp_segment s = seg_make(c->port, c->stack_port, c->snd_nxt, ack, TCP_ACK, 65535);
    peer_stamp(c, &s);
    s.opt.sack_count = (uint8_t)n;
    for (unsigned i = 0; i < n; i++) {
        s.opt.sack[i].left = edges[2 * i];
        s.opt.sack[i].right = edges[2 * i + 1];
    }
    return s;
}

void peer_send_sack(struct probe *p, struct peer *c, uint32_t ack, unsigned n,
                    const uint32_t *edges)
{
    struct tcp_segment s = peer_sack_segment(c, ack, n, edges);
    probe_send(p, &s, NULL);
}

bool expect_seg(struct probe *p, struct tcp_segment *out, uint8_t flags,
                uint32_t seq, uint32_t ack)
{
    struct tcp_segment s;
    if (!probe_recv(p, &s)) {
        test_fail(__FILE__, __LINE__, "expected flags 0x%02x seq %u, got nothing",
                  flags, seq);
        return false;
    }
    if (out)
        *out = s;
    if (s.flags != flags || s.seq != seq || ((flags & TCP_ACK) && s.ack != ack)) {
        test_fail(__FILE__, __LINE__,
                  "expected flags 0x%02x seq %u ack %u, got flags 0x%02x seq %u ack %u len %u",
                  flags, seq, ack, s.flags, s.seq, s.ack, s.len);
        return false;
    }
    return true;
}

bool expect_sack(struct probe *p, struct tcp_segment *out, uint32_t ack, unsigned n,
                 const uint32_t *edges)
{
    struct tcp_segment s;
    if (!probe_recv(p, &s)) {
        test_fail(__FILE__, __LINE__, "expected an ACK of %u, got nothing", ack);
        return false;
    }
    if (out)
        *out = s;
    bool same = (s.flags & TCP_ACK) && s.ack == ack && s.opt.sack_count == n;
    for (unsigned i = 0; same && i < n; i++)
        same = s.opt.sack[i].left == edges[2 * i] && s.opt.sack[i].right == edges[2 * i + 1];
    if (!same) {
        char got[160] = "";
        size_t o = 0;
        for (unsigned i = 0; i < s.opt.sack_count && i < TCP_MAX_SACK_BLOCKS; i++)
            o += (size_t)snprintf(got + o, sizeof got - o, " [%u, %u)", s.opt.sack[i].left,
                                  s.opt.sack[i].right);
        test_fail(__FILE__, __LINE__, "expected ACK %u with %u blocks, got flags 0x%02x ACK %u "
                  "with%s%s", ack, n, s.flags, s.ack, o ? "" : " none", got);
        return false;
    }
    return true;
}

uint64_t probe_drops(struct probe *p, enum drop_reason r)
{
    struct stack_stats st;
    stack_get_stats(p->stack, &st);
    return st.drops[r];
}

uint64_t probe_conns_open(struct probe *p)
{
    struct stack_stats st;
    stack_get_stats(p->stack, &st);
    return st.conns_open + st.time_wait;
}

void probe_note(void *ctx, struct sock *k)
{
    struct probe_notes *n = ctx;
    n->count++;
    n->last = k;
}

unsigned probe_drain(struct probe *p)
{
    struct tcp_segment seg;
    unsigned n = 0;
    while (probe_recv(p, &seg))
        n++;
    return n;
}
