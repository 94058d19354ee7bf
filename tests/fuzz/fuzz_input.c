/* libFuzzer target: the packet input path, for a stack on a link with
 * offloads (a TUN device with IFF_VNET_HDR) that listens on port 80 and
 * keeps two connections ESTABLISHED: one it opened to the peer's port
 * 40000, one the peer opened to port 80 (reopened whenever the fuzzer
 * ends them). The first byte picks how the rest is used:
 *   plain: a raw IP packet; or a TCP segment or ICMP message given a
 *     valid IPv4 header and checksums (stack_input);
 *   vnet: a virtio_net_hdr (10 bytes, as the device puts it) and a raw
 *     packet; or the header and a TCP segment wrapped as above; or a
 *     segment built to continue one of the connections at its RCV.NXT
 *     (continuation()), valid but for what the fuzzer chose, as a
 *     packet or super-packet (stack_receive: offloaded_input, the
 *     coalesced path or gso_split, and the in-order data path).
 * Built and run by `make fuzz` (clang). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "gso.h"
#include "stack.h"
#include "wire.h"

#define STACK_ADDR 0x0a000002u
#define PEER_ADDR 0x0a000001u
#define LISTEN_PORT 80
#define AWAY_MAX 64   /* inputs a connection may spend past ESTABLISHED */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t now = 1000000;
static struct stack *stack;
static struct sock *listener;
static uint16_t peer_ip_id;
static uint8_t pkt[GSO_MAX_PACKET];

/* A connection kept open with the stack, and the peer's side of it. */
struct peer {
    bool active;                /* the stack opened it */
    uint16_t port;              /* the peer's */
    struct sock *sock;          /* NULL: to be opened */
    unsigned away;              /* inputs since it left ESTABLISHED */
    struct tcp_segment last;    /* the last segment the stack sent it
                                   (its header: no payload) */
    bool sent;                  /* `last` came since `sent` was cleared */
};
static struct peer peers[2] = { { .active = true, .port = 40000 }, { .port = 40001 } };

/* The peer's RFC 7323 clock: milliseconds, as Linux's. */
static uint32_t peer_tsval(void)
{
    return (uint32_t)(now / 1000);
}

/* ---- the link ---- */

/* What recv_gso hands the stack next, once. */
static struct {
    const uint8_t *pkt;
    size_t len;
    struct gso_hdr hdr;
    bool pending;
} link_in;

/* Keeps the headers of a segment the stack sends to a peer, so that the
 * handshake can be answered and timestamps echoed. */
static void capture(const uint8_t *p, size_t len)
{
    if (len < IPV4_HDR_LEN + TCP_HDR_LEN || p[0] >> 4 != 4 || p[9] != IPPROTO_TCP_)
        return;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    if (ihl + TCP_HDR_LEN > len)
        return;
    size_t thl = (size_t)(p[ihl + 12] >> 4) * 4;
    struct tcp_segment seg;
    if (ihl + thl > len ||
        tcp_parse_csum(p + ihl, thl, STACK_ADDR, PEER_ADDR, false, &seg) != DROP_NONE)
        return;
    for (size_t i = 0; i < sizeof peers / sizeof *peers; i++) {
        if (peers[i].port == seg.dport) {
            peers[i].last = seg;
            peers[i].sent = true;
        }
    }
}

static int link_send(struct link *l, const uint8_t *p, size_t len)
{
    (void)l;
    capture(p, len);
    return 0;
}

/* The headers are the first piece (gso.h). */
static int link_send_gso(struct link *l, const struct gso_hdr *h, const struct iovec *iov,
                         int pieces)
{
    (void)l, (void)h, (void)pieces;
    capture(iov[0].iov_base, iov[0].iov_len);
    return 0;
}

static ssize_t link_recv_gso(struct link *l, uint8_t *buf, size_t cap, struct gso_hdr *h)
{
    (void)l;
    if (!link_in.pending)
        return 0;
    link_in.pending = false;
    size_t n = link_in.len < cap ? link_in.len : cap;
    memcpy(buf, link_in.pkt, n);
    *h = link_in.hdr;
    return (ssize_t)n;
}

/* recv is never called: the stack reads a link with offloads through
 * recv_gso. */
static struct link link = {
    .send = link_send, .send_gso = link_send_gso, .recv_gso = link_recv_gso, .mtu = 1500,
};

/* The stack takes packet p as if read from the device with vnet header h. */
static void deliver(const uint8_t *p, size_t len, const struct gso_hdr *h)
{
    link_in.pkt = p;
    link_in.len = len;
    link_in.hdr = *h;
    link_in.pending = true;
    stack_receive(stack, now);
}

static const struct gso_hdr no_offload;

/* The peer sends seg with len bytes of payload p (checksums valid). */
static void peer_send(const struct tcp_segment *seg, const uint8_t *p, size_t len,
                      const struct gso_hdr *h)
{
    struct tcp_payload payload = { .base = { p }, .len = { (uint32_t)len } };
    size_t n = tcp_build_packet(pkt, sizeof pkt, PEER_ADDR, STACK_ADDR, peer_ip_id++, seg,
                                &payload);
    if (n)
        deliver(pkt, n, h);
}

/* ---- the connections ---- */

/* The options of a Linux SYN or SYN-ACK: MSS, SACK permitted,
 * timestamps, window scale 7. */
static struct tcp_options linux_syn_options(uint32_t ts_ecr)
{
    return (struct tcp_options){
        .has_mss = true, .mss = 1460, .sack_permitted = true, .has_wscale = true,
        .wscale = 7, .has_ts = true, .ts_val = peer_tsval(), .ts_ecr = ts_ecr,
    };
}

/* Connections the peer opened or answered so far. */
static uint32_t peer_opens;

/* A new initial sequence number for the peer, spread over the space so
 * that connections meet its wrap. */
static uint32_t peer_iss(void)
{
    return ++peer_opens * 0x9e3779b9u;
}

/* The stack connects; the peer answers its SYN as Linux would, and the
 * stack's ACK ends the handshake. */
static void open_active(struct peer *p)
{
    stack_socket(stack, &p->sock);
    p->sent = false;
    stack_connect(stack, p->sock, PEER_ADDR, p->port, now);
    if (!p->sent || p->last.flags != TCP_SYN)
        return;
    struct tcp_segment synack = {
        .sport = p->port, .dport = p->last.sport, .seq = peer_iss(), .ack = p->last.seq + 1,
        .flags = TCP_SYN | TCP_ACK, .wnd = 65160, .opt = linux_syn_options(p->last.opt.ts_val),
    };
    peer_send(&synack, NULL, 0, &no_offload);
}

/* Accepts what the listener has queued: the passive peer's connection,
 * or ones the fuzzer made, which are aborted. */
static void adopt_accepted(void)
{
    struct peer *p = &peers[1];
    struct sock *k;
    while (stack_accept(stack, listener, &k) == 0) {
        uint32_t addr;
        uint16_t port;
        if (!p->sock && stack_getpeername(stack, k, &addr, &port) == 0 && addr == PEER_ADDR &&
            port == p->port) {
            p->sock = k;
            p->away = 0;
        } else {
            stack_abort(stack, k, now);
        }
    }
}

/* The peer connects to the listener (from a port of its own each time,
 * clear of any earlier attempt) and ACKs the SYN-ACK; the stack's user
 * accepts the connection. */
static void open_passive(struct peer *p)
{
    uint32_t iss = peer_iss();
    p->port = (uint16_t)(40001 + peer_opens % 20000);
    struct tcp_segment syn = {
        .sport = p->port, .dport = LISTEN_PORT, .seq = iss, .flags = TCP_SYN, .wnd = 64240,
        .opt = linux_syn_options(0),
    };
    p->sent = false;
    peer_send(&syn, NULL, 0, &no_offload);
    if (!p->sent || p->last.flags != (TCP_SYN | TCP_ACK) || p->last.ack != iss + 1)
        return;
    struct tcp_segment ack = {
        .sport = p->port, .dport = LISTEN_PORT, .seq = iss + 1, .ack = p->last.seq + 1,
        .flags = TCP_ACK, .wnd = 502,
        .opt = { .has_ts = true, .ts_val = peer_tsval(), .ts_ecr = p->last.opt.ts_val },
    };
    peer_send(&ack, NULL, 0, &no_offload);
    adopt_accepted();
}

/* Whether p's connection is worth keeping: ESTABLISHED, or for a while
 * after it (closing states), not CLOSED. */
static bool keeps(struct peer *p)
{
    enum tcp_state st = stack_sock_state(stack, p->sock);
    if (st == TCP_ESTABLISHED) {
        p->away = 0;
        return true;
    }
    return st != TCP_CLOSED && ++p->away < AWAY_MAX;
}

/* Reopens the connections the last input ended (or left too long in
 * another state). */
static void tend(void)
{
    adopt_accepted();
    for (size_t i = 0; i < sizeof peers / sizeof *peers; i++) {
        struct peer *p = &peers[i];
        if (p->sock && !keeps(p)) {
            stack_abort(stack, p->sock, now);
            p->sock = NULL;
        }
        if (!p->sock && p->active)
            open_active(p);
        else if (!p->sock)
            open_passive(p);
    }
}

static void setup(void)
{
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.addr = STACK_ADDR;
    cfg.random_isn_key = false;
    stack = stack_new(&cfg, &link);
    stack_socket(stack, &listener);
    stack_bind(stack, listener, 0, LISTEN_PORT);
    stack_listen(stack, listener, 64);
    tend();
}

/* The stack's user reads everything that has come (so that the window
 * stays open), but on the connection held. */
static void read_all(const struct peer *held)
{
    static uint8_t buf[65536];
    for (size_t i = 0; i < sizeof peers / sizeof *peers; i++)
        if (peers[i].sock && &peers[i] != held)
            while (stack_recv(stack, peers[i].sock, buf, sizeof buf, 0, now) > 0)
                ;
}

/* ---- the input ---- */

/* Reads the fuzz input field by field; zeros once it runs out. */
struct cursor {
    const uint8_t *p;
    size_t n;
};

static uint8_t take8(struct cursor *c)
{
    if (!c->n)
        return 0;
    c->n--;
    return *c->p++;
}

static uint16_t take16(struct cursor *c)
{
    uint16_t lo = take8(c);
    return (uint16_t)(lo | take8(c) << 8);
}

/* struct virtio_net_hdr as the device puts it: little-endian fields. */
static struct gso_hdr take_vnet_hdr(struct cursor *c)
{
    struct gso_hdr h;
    h.flags = take8(c);
    h.gso_type = take8(c);
    h.hdr_len = take16(c);
    h.gso_size = take16(c);
    h.csum_start = take16(c);
    h.csum_offset = take16(c);
    return h;
}

/* Wraps a transport payload in IPv4 from the peer, checksums made right. */
static size_t wrap(const uint8_t *data, size_t size, uint8_t proto)
{
    if (size > GSO_MAX_PACKET - IPV4_HDR_LEN)
        size = GSO_MAX_PACKET - IPV4_HDR_LEN;
    ipv4_build_header(pkt, PEER_ADDR, STACK_ADDR, proto, peer_ip_id++, (uint16_t)size, 0, 0);
    uint8_t *t = pkt + IPV4_HDR_LEN;
    memcpy(t, data, size);
    size_t at = proto == IPPROTO_TCP_ ? 16 : 2;   /* the checksum field */
    if (size >= at + 2) {
        t[at] = t[at + 1] = 0;
        uint32_t sum = proto == IPPROTO_TCP_
                           ? csum_pseudo(PEER_ADDR, STACK_ADDR, proto, (uint16_t)size) : 0;
        uint16_t c = csum_fold(csum_partial(t, size, sum));
        t[at] = (uint8_t)(c >> 8);
        t[at + 1] = (uint8_t)c;
    }
    return IPV4_HDR_LEN + size;
}

/* What the stack's user does before a continuation's segment arrives. */
enum user_action { USER_NONE, USER_SEND, USER_SHUTDOWN, USER_QUICKACK };

/* A segment continuing a connection, as the input describes it in this
 * order. Each field's all-zero value gives the plain case: an in-order
 * ACK with data, timestamps, no SACK, full window, one super-packet of
 * 1448-byte segments.
 *   u8  which: bit 0 the connection (0 active, 1 passive); bit 1 hold
 *       its received data unread (the window closes)
 *   u8  extra milliseconds on the clock (timers fire after the segment)
 *   u8  user: enum user_action in bits 0-1; bits 2-7 * 256 bytes sent
 *   u8  TCP flags, XOR ACK
 *   s16 SEG.SEQ - RCV.NXT
 *   u8  SEG.ACK: 0 SND.UNA, 1 SND.MAX, 2 SND.UNA + u16 % (in flight + 1),
 *       3 SND.UNA + (s16)u16;  then that u16
 *   u16 SEG.WND XOR 0xffff
 *   u8  options: bit 0 no timestamps; bits 1-2 SACK blocks (then that
 *       many u16 offsets from SND.UNA and u16 lengths, after the next);
 *       s8 TSval - the peer's clock
 *   u8  IP TOS (ECN)
 *   u8  vnet flags; u8 vnet type: 0 TCPV4, 1 TCPV4|ECN, 2 NONE, else as
 *       is; u16 gso_size XOR 1448
 *   u16 payload length: 0 the rest of the input, else the rest padded
 *       with zeros (or cut) to it
 *   the rest: payload */
static const struct peer *continuation(struct cursor *c)
{
    uint8_t which = take8(c);
    struct peer *p = &peers[which & 1];
    now += take8(c) * 1000ull;
    uint8_t user = take8(c);
    if (!p->sock || stack_sock_state(stack, p->sock) == TCP_CLOSED)
        return NULL;
    static const uint8_t zeros[64 * 256];
    switch ((enum user_action)(user & 3)) {
    case USER_NONE:
        break;
    case USER_SEND:
        stack_send(stack, p->sock, zeros, (user >> 2) * 256u + 1, now);
        break;
    case USER_SHUTDOWN:
        stack_shutdown(stack, p->sock, SHUT_WR, now);
        break;
    case USER_QUICKACK:
        stack_setopt(stack, p->sock, STACK_OPT_QUICKACK, 1, now);
        break;
    }
    stack_flush(stack);
    const struct tcp_conn *conn = stack_sock_conn(stack, p->sock);
    struct tcp_segment seg = {
        .sport = conn->ep.rport, .dport = conn->ep.lport, .flags = (uint8_t)(take8(c) ^ TCP_ACK),
    };
    seg.seq = conn->rcv_nxt + (uint32_t)(int16_t)take16(c);
    uint8_t ack_kind = take8(c) & 3;
    uint16_t ack_arg = take16(c);
    uint32_t flight = conn->snd_max - conn->snd_una;
    seg.ack = conn->snd_una + (ack_kind == 1   ? flight
                               : ack_kind == 2 ? ack_arg % (flight + 1)
                               : ack_kind == 3 ? (uint32_t)(int16_t)ack_arg : 0);
    seg.wnd = take16(c) ^ 0xffff;
    uint8_t opts = take8(c);
    int8_t ts_delta = (int8_t)take8(c);
    seg.opt.has_ts = !(opts & 1);
    seg.opt.ts_val = peer_tsval() + (uint32_t)ts_delta;
    seg.opt.ts_ecr = p->last.opt.ts_val;
    seg.opt.sack_count = (opts >> 1) & 3;
    for (unsigned i = 0; i < seg.opt.sack_count; i++) {
        seg.opt.sack[i].left = conn->snd_una + take16(c);
        seg.opt.sack[i].right = seg.opt.sack[i].left + take16(c);
    }
    seg.ip_tos = take8(c);
    struct gso_hdr h = { .flags = take8(c) };
    uint8_t type = take8(c);
    h.gso_type = type == 0 ? GSO_TCPV4 : type == 1 ? GSO_TCPV4 | GSO_ECN
                 : type == 2 ? GSO_NONE : type;
    h.gso_size = take16(c) ^ 1448;
    size_t len = take16(c);
    if (!len)
        len = c->n;
    size_t room = GSO_MAX_PACKET - IPV4_HDR_LEN - TCP_HDR_LEN - tcp_options_len(&seg.opt);
    if (len > room)
        len = room;
    static uint8_t payload[GSO_MAX_PACKET];
    size_t given = c->n < len ? c->n : len;
    memcpy(payload, c->p, given);
    memset(payload + given, 0, len - given);
    h.hdr_len = (uint16_t)(IPV4_HDR_LEN + TCP_HDR_LEN + tcp_options_len(&seg.opt));
    h.csum_start = IPV4_HDR_LEN;
    h.csum_offset = 16;
    peer_send(&seg, payload, len, &h);
    return which & 2 ? p : NULL;
}

enum mode { PLAIN_RAW, PLAIN_TCP, PLAIN_ICMP, VNET_RAW, VNET_TCP, VNET_CONTINUATION, MODES };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!stack)
        setup();
    if (size == 0)
        return 0;
    now += 1000;
    struct cursor c = { data + 1, size - 1 };
    const struct peer *held = NULL;
    switch (data[0] % MODES) {
    case PLAIN_RAW:
        stack_input(stack, c.p, c.n, now);
        break;
    case PLAIN_TCP:
        stack_input(stack, pkt, wrap(c.p, c.n, IPPROTO_TCP_), now);
        break;
    case PLAIN_ICMP:
        stack_input(stack, pkt, wrap(c.p, c.n, IPPROTO_ICMP_), now);
        break;
    case VNET_RAW: {
        struct gso_hdr h = take_vnet_hdr(&c);
        deliver(c.p, c.n, &h);
        break;
    }
    case VNET_TCP: {
        struct gso_hdr h = take_vnet_hdr(&c);
        deliver(pkt, wrap(c.p, c.n, IPPROTO_TCP_), &h);
        break;
    }
    case VNET_CONTINUATION:
        held = continuation(&c);
        break;
    }
    stack_timers(stack, now);
    read_all(held);
    tend();
    return 0;
}
