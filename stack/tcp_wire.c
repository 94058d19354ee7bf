/* TCP segments on the wire (RFC 9293 3.1): header, options (RFC 9293
 * 3.2, RFC 7323, RFC 2018) and the checksum over the pseudo-header. */
#include <string.h>

#include "bytes.h"
#include "wire.h"

enum {
    OPT_EOL = 0, OPT_NOP = 1, OPT_MSS = 2, OPT_WSCALE = 3,
    OPT_SACK_PERMITTED = 4, OPT_SACK = 5, OPT_TIMESTAMPS = 8,
};

/* RFC 9293 3.2: each option but EOL and NOP has a length octet counting
 * kind and length; a length that is too small, does not fit its kind or
 * runs past the header makes the segment malformed. Unknown kinds are
 * skipped by their length (RFC 9293 3.2, MUST-6/MUST-68). */
static enum drop_reason parse_options(const uint8_t *p, size_t n, struct tcp_options *o)
{
    size_t i = 0;
    while (i < n && p[i] != OPT_EOL) {
        if (p[i] == OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= n)
            return DROP_TCP_OPTIONS;
        uint8_t kind = p[i], len = p[i + 1];
        const uint8_t *v = p + i + 2;
        if (len < 2 || len > n - i)
            return DROP_TCP_OPTIONS;
        switch (kind) {
        case OPT_MSS:
            if (len != 4)
                return DROP_TCP_OPTIONS;
            o->has_mss = true;
            o->mss = get_be16(v);
            break;
        case OPT_WSCALE:
            if (len != 3)
                return DROP_TCP_OPTIONS;
            o->has_wscale = true;
            o->wscale = v[0];
            break;
        case OPT_SACK_PERMITTED:
            if (len != 2)
                return DROP_TCP_OPTIONS;
            o->sack_permitted = true;
            break;
        case OPT_SACK:
            if (len < 10 || (len - 2) % 8)
                return DROP_TCP_OPTIONS;
            o->sack_count = (uint8_t)((len - 2) / 8);   /* at most 4 in 40 bytes */
            for (unsigned b = 0; b < o->sack_count; b++) {
                o->sack[b].left = get_be32(v + 8 * b);
                o->sack[b].right = get_be32(v + 8 * b + 4);
            }
            break;
        case OPT_TIMESTAMPS:
            if (len != 10)
                return DROP_TCP_OPTIONS;
            o->has_ts = true;
            o->ts_val = get_be32(v);
            o->ts_ecr = get_be32(v + 4);
            break;
        default:
            break;
        }
        i += len;
    }
    return DROP_NONE;
}

enum drop_reason tcp_parse_csum(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                bool verify_csum, struct tcp_segment *out)
{
    if (len < TCP_HDR_LEN)
        return DROP_TCP_SHORT;
    size_t hl = (size_t)(buf[12] >> 4) * 4;
    if (hl < TCP_HDR_LEN || hl > len)
        return DROP_TCP_DATAOFF;
    uint32_t sum = csum_pseudo(src, dst, IPPROTO_TCP_, (uint16_t)len);
    if (verify_csum && csum_fold(csum_partial(buf, len, sum)) != 0)
        return DROP_TCP_CHECKSUM;
    uint8_t flags = buf[13];
    /* A SYN that also opens and closes or resets is no real segment */
    if ((flags & TCP_SYN) && (flags & (TCP_FIN | TCP_RST)))
        return DROP_TCP_FLAGS;
    memset(out, 0, sizeof *out);
    enum drop_reason r = parse_options(buf + TCP_HDR_LEN, hl - TCP_HDR_LEN, &out->opt);
    if (r != DROP_NONE)
        return r;
    out->sport = get_be16(buf);
    out->dport = get_be16(buf + 2);
    out->seq = get_be32(buf + 4);
    out->ack = get_be32(buf + 8);
    out->flags = flags;
    out->wnd = get_be16(buf + 14);
    out->urp = get_be16(buf + 18);
    out->data = buf + hl;
    out->len = (uint32_t)(len - hl);
    return DROP_NONE;
}

#define SACK_OPT_HDR_LEN 4      /* NOP, NOP, kind, length */
#define SACK_BLOCK_LEN 8

/* The SACK blocks that fit in `space` bytes of options. */
static unsigned sack_blocks_in(size_t space)
{
    if (space < SACK_OPT_HDR_LEN + SACK_BLOCK_LEN)
        return 0;
    size_t n = (space - SACK_OPT_HDR_LEN) / SACK_BLOCK_LEN;
    return n < TCP_MAX_SACK_BLOCKS ? (unsigned)n : TCP_MAX_SACK_BLOCKS;
}

/* The layout Linux uses, so that timestamps stay 4-byte aligned: MSS,
 * SACK-permitted sharing a word with timestamps (or padded with NOPs),
 * then NOP and window scale, then two NOPs and the SACK blocks (RFC 2018
 * 3). Every option ends on a 4-byte boundary, so no trailing padding is
 * needed. At most TCP_MAX_OPT_LEN bytes, whatever `o` asks: SACK blocks
 * that do not fit are left out. Returns the end of what was written. */
static uint8_t *write_options(uint8_t *p, const struct tcp_options *o)
{
    uint8_t *start = p;
    if (o->has_mss) {
        p[0] = OPT_MSS;
        p[1] = 4;
        put_be16(p + 2, o->mss);
        p += 4;
    }
    if (o->has_ts) {
        if (o->sack_permitted) {
            p[0] = OPT_SACK_PERMITTED;
            p[1] = 2;
        } else {
            p[0] = p[1] = OPT_NOP;
        }
        p[2] = OPT_TIMESTAMPS;
        p[3] = 10;
        put_be32(p + 4, o->ts_val);
        put_be32(p + 8, o->ts_ecr);
        p += 12;
    } else if (o->sack_permitted) {
        p[0] = p[1] = OPT_NOP;
        p[2] = OPT_SACK_PERMITTED;
        p[3] = 2;
        p += 4;
    }
    if (o->has_wscale) {
        p[0] = OPT_NOP;
        p[1] = OPT_WSCALE;
        p[2] = 3;
        p[3] = o->wscale;
        p += 4;
    }
    unsigned blocks = sack_blocks_in(TCP_MAX_OPT_LEN - (size_t)(p - start));
    if (o->sack_count < blocks)
        blocks = o->sack_count;
    if (blocks) {
        p[0] = p[1] = OPT_NOP;
        p[2] = OPT_SACK;
        p[3] = (uint8_t)(2 + SACK_BLOCK_LEN * blocks);
        p += SACK_OPT_HDR_LEN;
        for (unsigned b = 0; b < blocks; b++) {
            put_be32(p, o->sack[b].left);
            put_be32(p + 4, o->sack[b].right);
            p += SACK_BLOCK_LEN;
        }
    }
    return p;
}

/* The length is what the writer writes, so the two cannot disagree. */
size_t tcp_options_len(const struct tcp_options *o)
{
    uint8_t scratch[TCP_MAX_OPT_LEN];
    return (size_t)(write_options(scratch, o) - scratch);
}

unsigned tcp_sack_blocks_fit(const struct tcp_options *opt, size_t room)
{
    struct tcp_options others = *opt;
    others.sack_count = 0;
    size_t space = TCP_MAX_OPT_LEN - tcp_options_len(&others);
    return sack_blocks_in(room < space ? room : space);
}

size_t tcp_sack_option_len(const struct tcp_options *opt, unsigned blocks)
{
    unsigned fit = tcp_sack_blocks_fit(opt, TCP_MAX_OPT_LEN);
    if (blocks > fit)
        blocks = fit;
    return blocks ? SACK_OPT_HDR_LEN + (size_t)blocks * SACK_BLOCK_LEN : 0;
}

size_t tcp_build_header(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t ip_id,
                        const struct tcp_segment *seg, size_t payload_len)
{
    uint8_t *t = buf + IPV4_HDR_LEN;
    /* the options encoded once, in place, and their length taken from that */
    size_t hl = (size_t)(write_options(t + TCP_HDR_LEN, &seg->opt) - t);
    if (IPV4_HDR_LEN + hl + payload_len > 65535)
        return 0;
    ipv4_build_header(buf, src, dst, IPPROTO_TCP_, ip_id, (uint16_t)(hl + payload_len),
                      seg->ip_tos, seg->ip_ttl);
    put_be16(t, seg->sport);
    put_be16(t + 2, seg->dport);
    put_be32(t + 4, seg->seq);
    put_be32(t + 8, seg->ack);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = seg->flags;
    put_be16(t + 14, seg->wnd);
    put_be16(t + 16, 0);
    put_be16(t + 18, seg->urp);
    return IPV4_HDR_LEN + hl;
}

size_t tcp_build_packet(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                        uint16_t ip_id, const struct tcp_segment *seg,
                        const struct tcp_payload *payload)
{
    size_t payload_len = tcp_payload_len(payload);
    if (IPV4_HDR_LEN + TCP_HDR_LEN + tcp_options_len(&seg->opt) + payload_len > cap)
        return 0;
    size_t all_hl = tcp_build_header(buf, src, dst, ip_id, seg, payload_len);
    if (!all_hl)
        return 0;
    uint8_t *t = buf + IPV4_HDR_LEN;
    size_t hl = all_hl - IPV4_HDR_LEN;
    uint32_t sum = csum_pseudo(src, dst, IPPROTO_TCP_, (uint16_t)(hl + payload_len));
    sum = csum_partial(t, hl, sum);
    /* The header is whole words, so a piece starts at an odd offset
     * exactly when the pieces before it add up to an odd length. */
    size_t off = hl;
    for (int i = 0; payload && i < 2; i++) {
        if (payload->len[i]) {
            sum = csum_copy(t + off, payload->base[i], payload->len[i], sum,
                            (off - hl) & 1);
            off += payload->len[i];
        }
    }
    put_be16(t + 16, csum_fold(sum));
    return all_hl + payload_len;
}
