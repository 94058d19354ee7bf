/* The test plays the remote TCP: it crafts segments, sends them into one
 * stack over the in-memory link, and parses exactly what comes back. */
#ifndef TUNTCP_PROBE_H
#define TUNTCP_PROBE_H

#include "link_mem.h"
#include "stack.h"

#define PROBE_STACK_ADDR 0x0a000002u  /* 10.0.0.2, the stack under test */
#define PROBE_PEER_ADDR 0x0a000001u   /* 10.0.0.1, the test */
#define MSEC 1000ull
#define SEC 1000000ull

struct probe {
    uint64_t now;
    struct stack_config cfg;
    struct link_mem *link;
    struct link *wire;          /* the test's end */
    struct stack *stack;
    uint16_t ip_id;
    uint8_t rx_data[65536];     /* payload of the last received segment */
    uint8_t rx_tos, rx_ttl;     /* and its IP header's TOS and TTL */
};

/* The remote side of one connection, as the test tracks it. */
struct peer {
    uint16_t port;              /* the test's port */
    uint16_t stack_port;
    uint32_t snd_nxt;           /* next sequence number the test sends */
    uint32_t rcv_nxt;           /* next sequence number expected from the stack */
    uint32_t stack_iss;
    struct sock *sock;          /* the stack's socket */
    struct sock *listener;
    bool ts;                    /* timestamps negotiated: the test sends them */
    uint32_t ts_val;
};

/* `tweak` may adjust the config (may be NULL). The stack has a fixed ISN
 * key so runs repeat exactly. */
void probe_init(struct probe *p, void (*tweak)(struct stack_config *cfg));
void probe_free(struct probe *p);
/* Advances the clock by `us`, firing the stack's timers on the way. */
void probe_advance(struct probe *p, uint64_t us);

/* A new socket of the stack. */
struct sock *probe_socket(struct probe *p);
/* A listening socket of the stack on `port`. */
struct sock *probe_listen(struct probe *p, uint16_t port, int backlog);

struct tcp_segment seg_make(uint16_t sport, uint16_t dport, uint32_t seq,
                            uint32_t ack, uint8_t flags, uint16_t wnd);
/* Puts `seg` on the link to the stack without letting the stack run (so
 * that several arrive in one batch). */
void probe_queue(struct probe *p, const struct tcp_segment *seg, const void *data);
/* Sends `seg` (with seg->len bytes of `data`) from the test to the stack
 * and lets the stack process it. */
void probe_send(struct probe *p, const struct tcp_segment *seg, const void *data);
/* The next segment the stack sent, if any (payload in p->rx_data). Drops
 * anything that is not TCP. */
bool probe_recv(struct probe *p, struct tcp_segment *seg);
/* Reads and discards everything the stack sent; returns how many segments. */
unsigned probe_drain(struct probe *p);
/* True if the stack sent nothing. */
bool probe_silent(struct probe *p);

/* Handshakes. The test's SYN carries MSS 1460 and no other option unless
 * `opt` says so. */
void peer_passive_open(struct probe *p, struct peer *c, uint16_t stack_port,
                       const struct tcp_options *opt);
/* The stack connects to the test; the test answers with SYN-ACK. */
void peer_active_open(struct probe *p, struct peer *c, uint16_t peer_port,
                      const struct tcp_options *opt);
/* Sends data from the test at c->snd_nxt with ACK c->rcv_nxt. */
void peer_send_data(struct probe *p, struct peer *c, const void *data,
                    uint32_t len, uint8_t extra_flags);
/* Sends a pure ACK of c->rcv_nxt with the given window. */
void peer_send_ack(struct probe *p, struct peer *c, uint16_t wnd);
/* Sends [from, to) of the test's stream (zeros), counted from
 * c->snd_nxt, with ACK c->rcv_nxt: out of order, or again; c->snd_nxt
 * stays. */
void peer_send_range(struct probe *p, struct peer *c, uint32_t from, uint32_t to);
/* The options of a SYN of the test: MSS 1460, SACK-permitted and
 * timestamps (TSval 100) as asked. */
struct tcp_options probe_syn_options(bool sack_permitted, bool ts);
/* peer_passive_open to port 80 with a SYN that offers SACK, and
 * timestamps if `ts`. */
void peer_sack_open(struct probe *p, struct peer *c, bool ts);
/* peer_sack_open without timestamps, the test's ACK of the SYN-ACK
 * `handshake_rtt` after it (at once if 0), so that SRTT is that; NewReno
 * (whose halving the tests' figures assume: CUBIC's beta is 0.7); `bytes`
 * (zeros, at most 65535) queued and what the initial window lets out
 * drained. Returns the first data segment's sequence number. */
uint32_t peer_sack_open_and_send(struct probe *p, struct peer *c, uint64_t handshake_rtt,
                                 uint32_t bytes);
/* The pure ACK of `ack` (SEQ c->snd_nxt, window 65535, timestamps as
 * peer_send_ack) carrying the n SACK blocks in `edges` (left, right,
 * left, right ..., as expect_sack reads them; n at most
 * TCP_MAX_SACK_BLOCKS). */
struct tcp_segment peer_sack_segment(struct peer *c, uint32_t ack, unsigned n,
                                     const uint32_t *edges);
/* Sends peer_sack_segment(c, ack, n, edges). */
void peer_send_sack(struct probe *p, struct peer *c, uint32_t ack, unsigned n,
                    const uint32_t *edges);


/* Receives the next segment and checks its flags, SEQ and (if ACK is
 * set) ACK exactly; reports a test failure and returns false otherwise. */
bool expect_seg(struct probe *p, struct tcp_segment *out, uint8_t flags,
                uint32_t seq, uint32_t ack);
/* Receives the next segment and checks that it ACKs `ack` and carries
 * exactly the n SACK blocks in `edges` (left, right, left, right ...). */
bool expect_sack(struct probe *p, struct tcp_segment *out, uint32_t ack, unsigned n,
                 const uint32_t *edges);
/* What stack_set_notify(s, probe_note, &notes) saw: how many calls, and
 * the socket of the last. */
struct probe_notes {
    unsigned count;
    struct sock *last;
};
void probe_note(void *ctx, struct sock *k);
/* Connections in the stack's tables now (TIME-WAIT records too). */
uint64_t probe_conns_open(struct probe *p);
/* The stack's counter for a drop reason. */
uint64_t probe_drops(struct probe *p, enum drop_reason r);

#endif
