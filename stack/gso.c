/* Super-packets (gso.h): cut the received ones into the segments they
 * stand for, build outgoing ones from consecutive segments. */
#include "gso.h"

#include <string.h>

#include "bytes.h"

#define IP_OFF_TOTLEN 2
#define IP_OFF_ID 4
#define IP_OFF_CSUM 10
#define TCP_OFF_SEQ 4
#define TCP_OFF_FLAGS 13
#define TCP_OFF_CSUM 16

enum drop_reason gso_inspect(const struct gso_hdr *h, const uint8_t *pkt, size_t len,
                             struct gso_plan *out)
{
    *out = (struct gso_plan){
        .csum_trusted = h->flags & (GSO_F_NEEDS_CSUM | GSO_F_DATA_VALID),
    };
    uint8_t type = h->gso_type & (uint8_t)~GSO_ECN;
    if (type == GSO_NONE)
        return DROP_NONE;
    if (type != GSO_TCPV4 || len < IPV4_HDR_LEN || pkt[0] >> 4 != 4 ||
        pkt[9] != IPPROTO_TCP_)
        return DROP_GSO_TYPE;
    if (h->gso_size == 0)
        return DROP_GSO_SIZE;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    size_t total = get_be16(pkt + IP_OFF_TOTLEN);
    if (h->hdr_len > len || total > len || ihl < IPV4_HDR_LEN || ihl + TCP_HDR_LEN > total)
        return DROP_GSO_HEADER;
    const uint8_t *t = pkt + ihl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (thl < TCP_HDR_LEN || ihl + thl > total || (t[TCP_OFF_FLAGS] & (TCP_SYN | TCP_RST)))
        return DROP_GSO_HEADER;
    if (ihl + thl == total)
        return DROP_GSO_SIZE;
    /* the kernel vouches for what it segmented itself */
    out->csum_trusted = true;
    out->seg_size = h->gso_size;
    out->hdr_len = ihl + thl;
    out->payload_len = total - out->hdr_len;
    return DROP_NONE;
}

unsigned gso_segments(const struct gso_plan *p)
{
    return (unsigned)((p->payload_len + p->seg_size - 1) / p->seg_size);
}

static void set_tcp_csum(uint8_t *pkt, size_t ihl, size_t tcp_len)
{
    uint8_t *t = pkt + ihl;
    put_be16(t + TCP_OFF_CSUM, 0);
    uint32_t sum = csum_pseudo(get_be32(pkt + 12), get_be32(pkt + 16), IPPROTO_TCP_,
                               (uint16_t)tcp_len);
    put_be16(t + TCP_OFF_CSUM, csum_fold(csum_partial(t, tcp_len, sum)));
}

unsigned gso_split(uint8_t *pkt, const struct gso_plan *p, bool fill_csum,
                   void (*fn)(void *ctx, const uint8_t *seg, size_t len), void *ctx)
{
    size_t hl = p->hdr_len, ihl = (size_t)(pkt[0] & 0x0f) * 4;
    uint8_t tmpl[GSO_MAX_HDR_LEN];
    memcpy(tmpl, pkt, hl);
    uint16_t id = get_be16(tmpl + IP_OFF_ID);
    uint32_t seq = get_be32(tmpl + ihl + TCP_OFF_SEQ);
    uint8_t flags = tmpl[ihl + TCP_OFF_FLAGS];
    unsigned n = gso_segments(p);
    for (unsigned i = 0; i < n; i++) {
        size_t off = (size_t)i * p->seg_size;
        size_t len = p->payload_len - off < p->seg_size ? p->payload_len - off : p->seg_size;
        /* segment i's payload starts at hl + off: its header goes before it */
        uint8_t *seg = pkt + off;
        memcpy(seg, tmpl, hl);
        put_be16(seg + IP_OFF_ID, (uint16_t)(id + i));
        ipv4_set_total_len(seg, ihl, (uint16_t)(hl + len));
        uint8_t *t = seg + ihl;
        put_be32(t + TCP_OFF_SEQ, seq + (uint32_t)off);
        uint8_t f = flags;
        if (i + 1 < n)
            f &= (uint8_t)~(TCP_PSH | TCP_FIN);
        if (i > 0)
            f &= (uint8_t)~TCP_CWR;
        t[TCP_OFF_FLAGS] = f;
        if (fill_csum)
            set_tcp_csum(seg, ihl, hl - ihl + len);
        fn(ctx, seg, hl + len);
    }
    return n;
}

/* Whether a segment header hdr may follow those in b: every byte the
 * same but the IP total length, ID and checksum, the TCP sequence number
 * (which must continue b's), PSH and FIN, and the TCP checksum. */
static bool continues(const struct gso_builder *b, const uint8_t *hdr, size_t hl)
{
    const uint8_t *have = b->hdr;
    if (hl != b->hdr_len || b->closed || get_be32(hdr + IPV4_HDR_LEN + TCP_OFF_SEQ) != b->next_seq)
        return false;
    static const struct { size_t from, to; } same[] = {
        { 0, IP_OFF_TOTLEN }, { IP_OFF_ID + 2, IP_OFF_CSUM }, { IP_OFF_CSUM + 2, IPV4_HDR_LEN },
        { IPV4_HDR_LEN, IPV4_HDR_LEN + TCP_OFF_SEQ },
        { IPV4_HDR_LEN + TCP_OFF_SEQ + 4, IPV4_HDR_LEN + TCP_OFF_FLAGS },
        { IPV4_HDR_LEN + TCP_OFF_FLAGS + 1, IPV4_HDR_LEN + TCP_OFF_CSUM },
    };
    for (size_t i = 0; i < sizeof same / sizeof *same; i++)
        if (memcmp(have + same[i].from, hdr + same[i].from, same[i].to - same[i].from))
            return false;
    const size_t after_csum = IPV4_HDR_LEN + TCP_OFF_CSUM + 2;
    uint8_t last = TCP_PSH | TCP_FIN;
    return (have[IPV4_HDR_LEN + TCP_OFF_FLAGS] & (uint8_t)~last) ==
               (hdr[IPV4_HDR_LEN + TCP_OFF_FLAGS] & (uint8_t)~last) &&
           !memcmp(have + after_csum, hdr + after_csum, hl - after_csum);
}

/* Appends the payload's pieces to b->iov, a piece that starts where the
 * last one ends extending it; false (b unchanged) if they need more than
 * GSO_MAX_PIECES. */
static bool add_pieces(struct gso_builder *b, const struct tcp_payload *payload)
{
    struct iovec iov[1 + GSO_MAX_PIECES];
    int n = b->iovcnt;
    memcpy(iov, b->iov, sizeof iov);
    for (int i = 0; i < 2 && payload->len[i]; i++) {
        struct iovec *last = &iov[n - 1];
        if (n > 1 && (const uint8_t *)last->iov_base + last->iov_len == payload->base[i])
            last->iov_len += payload->len[i];
        else if (n == 1 + GSO_MAX_PIECES)
            return false;
        else
            iov[n++] = (struct iovec){ (void *)payload->base[i], payload->len[i] };
    }
    memcpy(b->iov, iov, sizeof iov);
    b->iovcnt = n;
    return true;
}

bool gso_add(struct gso_builder *b, const uint8_t *hdr, size_t hl,
             const struct tcp_payload *payload)
{
    size_t len = tcp_payload_len(payload);
    uint8_t flags = hdr[IPV4_HDR_LEN + TCP_OFF_FLAGS];
    if (len == 0 || (flags & (TCP_SYN | TCP_RST | TCP_URG)) || hl > GSO_MAX_HDR_LEN)
        return false;
    if (b->len) {
        if (!continues(b, hdr, hl) || len > b->seg_size || b->len + len > GSO_MAX_PACKET ||
            !add_pieces(b, payload))
            return false;
        b->hdr[IPV4_HDR_LEN + TCP_OFF_FLAGS] = flags;
    } else {
        if (hl + len > GSO_MAX_PACKET)
            return false;
        memcpy(b->hdr, hdr, hl);
        b->iov[0] = (struct iovec){ b->hdr, hl };
        b->iovcnt = 1;
        add_pieces(b, payload);   /* an empty b has room for two */
        b->len = b->hdr_len = hl;
        b->seg_size = (uint32_t)len;
        b->first_seq = get_be32(hdr + IPV4_HDR_LEN + TCP_OFF_SEQ);
        b->segs = 0;
    }
    b->len += len;
    b->segs++;
    b->next_seq = get_be32(hdr + IPV4_HDR_LEN + TCP_OFF_SEQ) + (uint32_t)len;
    b->closed = len < b->seg_size || (flags & (TCP_PSH | TCP_FIN));
    return true;
}

bool gso_carries(const struct gso_builder *b, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport)
{
    const uint8_t *t = b->hdr + IPV4_HDR_LEN;
    return b->len && get_be32(b->hdr + 12) == src && get_be32(b->hdr + 16) == dst &&
           get_be16(t) == sport && get_be16(t + 2) == dport;
}

int gso_finish(struct gso_builder *b, struct gso_hdr *out)
{
    uint8_t *pkt = b->hdr;
    size_t len = b->len;
    ipv4_set_total_len(pkt, IPV4_HDR_LEN, (uint16_t)len);
    /* The pseudo-header sum, folded but not complemented: the receiver
     * adds the segment from csum_start and complements (Linux's
     * tcp_v4_send_check for CHECKSUM_PARTIAL). So no one sums the
     * payload, which goes from where it is (no copy). */
    uint32_t pseudo = csum_pseudo(get_be32(pkt + 12), get_be32(pkt + 16), IPPROTO_TCP_,
                                  (uint16_t)(len - IPV4_HDR_LEN));
    put_be16(pkt + IPV4_HDR_LEN + TCP_OFF_CSUM, (uint16_t)~csum_fold(pseudo));
    bool super = b->segs > 1;
    *out = (struct gso_hdr){
        .flags = GSO_F_NEEDS_CSUM,
        .gso_type = super ? GSO_TCPV4 : GSO_NONE,
        .hdr_len = (uint16_t)b->hdr_len,
        .gso_size = super ? (uint16_t)b->seg_size : 0,
        .csum_start = IPV4_HDR_LEN,
        .csum_offset = TCP_OFF_CSUM,
    };
    b->len = 0;
    return b->iovcnt;
}
