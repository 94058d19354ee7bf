/* The forger of hostile.h. It reads the victim's connection (sequence
 * numbers, window, TS.Recent) when it builds a segment, at the moment the
 * stack will process it: not to aim better than a blind attacker, whose
 * guesses land anywhere, but to land its guesses on the edges of each
 * check, where a defence that is off by one shows, and never on the values
 * that the RFCs let through: a RST at exactly RCV.NXT (RFC 5961 3.2), or a
 * segment in the window with an acceptable ACK and a TSval not older than
 * TS.Recent (RFC 5961 5.2 and RFC 7323 5.3 leave that to chance: a blind
 * guess gets there once in about 2^65 / window^2). Each forged segment is
 * built to fail one named check, and says which. */
#include "hostile.h"

#include <string.h>

#include "bytes.h"
#include "rng.h"
#include "stack_internal.h"
#include "tcp_internal.h"

/* Farther than any window reaches: 65535 << 14 < 2^30. */
#define FAR (1u << 30)
#define MAX_TEXT (HOSTILE_MAX_PACKET - IPV4_HDR_LEN - TCP_HDR_LEN - TCP_TS_OPT_LEN)
/* One genuine segment in this many is kept for a later replay. */
#define REPLAY_SAMPLE 8

static uint32_t below(struct hostile_link *h, uint32_t n)
{
    return (uint32_t)(rng_next(&h->rng) % n);
}

static uint32_t any32(struct hostile_link *h)
{
    return (uint32_t)rng_next(&h->rng);
}

/* TSvals newer than TS.Recent, by a little or by up to 2^31, or older. */
static uint32_t ts_newer(struct hostile_link *h, const struct tcp_conn *c)
{
    return c->ts_recent + (below(h, 2) ? below(h, 1000) : FAR + below(h, FAR));
}

static uint32_t ts_older(struct hostile_link *h, const struct tcp_conn *c)
{
    return c->ts_recent - 1 - below(h, FAR);
}

/* The 4-tuple of a TCP packet to the victim, as the victim sees it. */
static struct tcp_endpoints victim_endpoints(const struct ipv4_packet *ip)
{
    return (struct tcp_endpoints){
        .laddr = ip->dst, .raddr = ip->src,
        .rport = get_be16(ip->payload), .lport = get_be16(ip->payload + 2),
    };
}

/* The victim's connection on `ep`, if it is synchronized. The handshake
 * is left alone: RFC 5961 does not cover it (a SYN into SYN-SENT is a
 * simultaneous open, RFC 9293 3.10.7.3). */
static struct tcp_conn *victim_conn(const struct hostile_link *h,
                                    const struct tcp_endpoints *ep)
{
    struct sock *k = table_lookup(h->victim, ep);
    return k && k->kind == SOCK_CONN && tcp_synchronized(&k->conn) ? &k->conn : NULL;
}

/* A segment out of the window meets PAWS first (RFC 7323 5.3: R1 before
 * R2), which does not judge RSTs. */
static enum hostile_outcome out_of_window_outcome(const struct tcp_conn *c,
                                                  const struct tcp_segment *seg)
{
    if (!(seg->flags & TCP_RST) && c->ts_on) {
        if (!seg->opt.has_ts)
            return HOSTILE_SILENT;
        if (seq_lt(seg->opt.ts_val, c->ts_recent))
            return HOSTILE_PAWS;
    }
    return HOSTILE_UNACCEPTABLE;
}

/* Fills *seg (its text length in seg->len) for connection c and says how
 * c must deal with it. */
static enum hostile_outcome forge(struct hostile_link *h, const struct tcp_conn *c,
                                  struct tcp_segment *seg)
{
    uint32_t wnd = tcp_rcv_window(c);
    *seg = (struct tcp_segment){
        .sport = c->ep.rport, .dport = c->ep.lport,
        .seq = c->rcv_nxt + below(h, wnd ? wnd : 1),   /* in the window */
        .ack = any32(h),
        .flags = TCP_ACK,
        .wnd = (uint16_t)any32(h),
        .len = below(h, 2) ? 1 + below(h, MAX_TEXT) : 0,
        .opt = { .has_ts = true, .ts_val = ts_newer(h, c), .ts_ecr = any32(h) },
    };
    enum hostile_outcome out;
    unsigned kind = below(h, 100);
    if (kind < 30) {
        /* A blind guess, at least 2^30 away from RCV.NXT either way: RSTs
         * mostly, as an attacker resetting connections would send. */
        static const uint8_t flags[] = {
            TCP_RST, TCP_RST, TCP_RST | TCP_ACK, TCP_SYN, TCP_SYN | TCP_ACK,
            TCP_ACK, TCP_ACK | TCP_FIN, TCP_ACK | TCP_PSH,
        };
        seg->seq = c->rcv_nxt + FAR + below(h, 2 * FAR);
        seg->flags = flags[below(h, sizeof flags)];
        switch (below(h, 4)) {
        case 0: seg->opt.ts_val = any32(h); break;
        case 1: seg->opt.ts_val = ts_older(h, c); break;
        case 2: seg->opt.has_ts = false; break;
        default: break;
        }
        out = out_of_window_outcome(c, seg);
    } else if (kind < 45 && wnd >= 2) {
        /* RFC 5961 3.2: a RST in the window, not at RCV.NXT */
        seg->seq = c->rcv_nxt + 1 + below(h, wnd - 1);
        seg->flags = below(h, 2) ? TCP_RST : TCP_RST | TCP_ACK;
        out = HOSTILE_CHALLENGE;
    } else if (kind < 55) {
        /* RFC 5961 4.2: a SYN in the window */
        seg->flags = below(h, 2) ? TCP_SYN : TCP_SYN | TCP_ACK;
        out = HOSTILE_CHALLENGE;
    } else if (kind < 75) {
        /* RFC 5961 5.2: in the window, the ACK beyond SND.NXT or before
         * SND.UNA - MAX.SND.WND, text and FIN with it */
        seg->ack = below(h, 2) ? c->snd_max + 1 + below(h, FAR)
                               : c->snd_una - c->max_snd_wnd - 1 - below(h, FAR);
        seg->flags |= below(h, 4) ? TCP_PSH : TCP_FIN;
        out = HOSTILE_CHALLENGE;
    } else if (kind < 90 && c->ts_on) {
        /* RFC 7323 5.3 R1: an old TSval, or none (3.2), on a segment
         * whose ACK is anywhere: before SND.UNA - MAX.SND.WND, in the
         * range RFC 5961 5.2 accepts, between SND.UNA and SND.NXT (one
         * that acknowledges data not yet delivered), beyond SND.NXT */
        uint32_t range = c->snd_max - c->snd_una + c->max_snd_wnd + 1;
        switch (below(h, 4)) {
        case 0: seg->ack = c->snd_una - c->max_snd_wnd - 1 - below(h, FAR); break;
        case 1: seg->ack = c->snd_una - c->max_snd_wnd + below(h, range); break;
        case 2: seg->ack = c->snd_una + below(h, c->snd_max - c->snd_una + 1); break;
        default: seg->ack = c->snd_max + 1 + below(h, FAR); break;
        }
        seg->flags |= below(h, 4) ? TCP_PSH : TCP_FIN;
        seg->opt.has_ts = below(h, 4) != 0;
        seg->opt.ts_val = ts_older(h, c);
        out = seg->opt.has_ts ? HOSTILE_PAWS : HOSTILE_SILENT;
    } else {
        /* RFC 9293 3.10.7.4 fifth: text in the window without the ACK bit */
        seg->flags = below(h, 2) ? TCP_PSH : TCP_FIN;
        seg->len = 1 + below(h, MAX_TEXT);
        out = HOSTILE_SILENT;
    }
    if (seg->flags & (TCP_RST | TCP_SYN))
        seg->len = 0;
    /* A SYN without ACK into TIME-WAIT may open a new connection (RFC
     * 6191), which is no attack on this one. */
    if (c->state == TCP_TIME_WAIT && seg->flags == TCP_SYN)
        seg->flags |= TCP_ACK;
    return out;
}

/* A forged packet for the target, or a replay: its length, 0 if there is
 * nothing to aim at. */
static size_t hostile_packet(struct hostile_link *h, uint8_t *buf, size_t cap)
{
    if (h->replays && below(h, 10) == 0) {
        /* An earlier genuine segment again, into a live connection (one
         * that is gone would meet the listener, where a replayed SYN or
         * SYN-cookie ACK opens a connection, as on Linux). */
        unsigned i = below(h, h->replays);
        struct ipv4_packet ip;
        if (h->replay_len[i] > cap ||
            ipv4_parse(h->replay[i], h->replay_len[i], &ip) != DROP_NONE)
            return 0;
        struct tcp_endpoints ep = victim_endpoints(&ip);
        if (!victim_conn(h, &ep))
            return 0;
        memcpy(buf, h->replay[i], h->replay_len[i]);
        h->forged[HOSTILE_REPLAYED]++;
        return h->replay_len[i];
    }
    struct tcp_conn *c = victim_conn(h, &h->target);
    if (!c)
        return 0;
    struct tcp_segment seg;
    enum hostile_outcome out = forge(h, c, &seg);
    uint8_t text[MAX_TEXT];
    for (uint32_t i = 0; i < seg.len; i++)
        text[i] = (uint8_t)rng_next(&h->rng);
    struct tcp_payload payload = { { text }, { seg.len } };
    size_t n = tcp_build_packet(buf, cap, c->ep.raddr, c->ep.laddr,
                                (uint16_t)any32(h), &seg, &payload);
    if (n)
        h->forged[out]++;
    return n;
}

/* A genuine packet on its way to the victim: the attacker learns its
 * 4-tuple (RFC 5961 1.1 assumes it known) and may keep a copy. */
static void notice(struct hostile_link *h, const uint8_t *pkt, size_t len)
{
    struct ipv4_packet ip;
    struct tcp_segment seg;
    if (ipv4_parse(pkt, len, &ip) != DROP_NONE || ip.proto != IPPROTO_TCP_ ||
        ip.payload_len < TCP_HDR_LEN)
        return;
    h->target = victim_endpoints(&ip);
    h->pending = rng_chance(&h->rng, h->rate);
    /* No RST is replayed: while the receiver has not moved it is at
     * RCV.NXT, which RFC 5961 lets reset the connection. */
    if (len <= HOSTILE_MAX_PACKET && below(h, REPLAY_SAMPLE) == 0 &&
        tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &seg) == DROP_NONE &&
        !(seg.flags & TCP_RST)) {
        unsigned i = h->replays < HOSTILE_REPLAYS ? h->replays++ : below(h, HOSTILE_REPLAYS);
        memcpy(h->replay[i], pkt, len);
        h->replay_len[i] = len;
    }
}

static ssize_t hostile_recv(struct link *link, uint8_t *buf, size_t cap)
{
    struct hostile_link *h = (struct hostile_link *)link;
    if (h->pending) {
        h->pending = false;
        size_t n = hostile_packet(h, buf, cap);
        if (n)
            return (ssize_t)n;
    }
    ssize_t n = h->inner->recv(h->inner, buf, cap);
    if (n > 0)
        notice(h, buf, (size_t)n);
    return n;
}

static int hostile_send(struct link *link, const uint8_t *pkt, size_t len)
{
    struct hostile_link *h = (struct hostile_link *)link;
    return h->inner->send(h->inner, pkt, len);
}

void hostile_init(struct hostile_link *h, struct link *inner, double rate,
                  uint64_t seed)
{
    memset(h, 0, sizeof *h);
    h->link = (struct link){ .send = hostile_send, .recv = hostile_recv, .mtu = inner->mtu };
    h->inner = inner;
    h->rate = rate;
    h->rng = seed;
}
