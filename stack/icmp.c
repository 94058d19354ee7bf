/* ICMP (RFC 792): echo, and the errors that concern a TCP connection. */
#include <string.h>

#include "bytes.h"
#include "wire.h"

#define ICMP_HDR_LEN 8
#define ICMP_CODE_FRAG_NEEDED 4
#define QUOTED_TCP_BYTES 8   /* RFC 792: header + 64 bits of the datagram */

/* The quoted datagram of an error: IP header + the first TCP octets
 * (ports and sequence number). */
static void parse_quoted(const uint8_t *q, size_t len, struct icmp_message *m)
{
    if (len < IPV4_HDR_LEN || q[0] >> 4 != 4)
        return;
    size_t ihl = (size_t)(q[0] & 0x0f) * 4;
    if (ihl < IPV4_HDR_LEN || len < ihl + QUOTED_TCP_BYTES || q[9] != IPPROTO_TCP_)
        return;
    const uint8_t *t = q + ihl;
    m->has_quoted_tcp = true;
    m->q_src = get_be32(q + 12);
    m->q_dst = get_be32(q + 16);
    m->q_sport = get_be16(t);
    m->q_dport = get_be16(t + 2);
    m->q_seq = get_be32(t + 4);
}

enum drop_reason icmp_parse(const uint8_t *buf, size_t len, struct icmp_message *out)
{
    if (len < ICMP_HDR_LEN)
        return DROP_ICMP_SHORT;
    if (csum_fold(csum_partial(buf, len, 0)) != 0)
        return DROP_ICMP_CHECKSUM;
    memset(out, 0, sizeof *out);
    out->type = buf[0];
    out->code = buf[1];
    out->data = buf + ICMP_HDR_LEN;
    out->data_len = len - ICMP_HDR_LEN;
    switch (out->type) {
    case ICMP_ECHO_REQUEST:
    case ICMP_ECHO_REPLY:
        out->id = get_be16(buf + 4);
        out->seqno = get_be16(buf + 6);
        break;
    case ICMP_DEST_UNREACH:
    case ICMP_TIME_EXCEEDED:
        /* RFC 1191 4: the next-hop MTU is in the low 16 bits */
        if (out->type == ICMP_DEST_UNREACH && out->code == ICMP_CODE_FRAG_NEEDED)
            out->mtu = get_be16(buf + 6);
        parse_quoted(out->data, out->data_len, out);
        break;
    default:
        break;
    }
    return DROP_NONE;
}

size_t icmp_build_echo_reply(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                             uint16_t ip_id, const struct icmp_message *req)
{
    size_t len = ICMP_HDR_LEN + req->data_len;
    if (IPV4_HDR_LEN + len > cap || IPV4_HDR_LEN + len > 65535)
        return 0;
    ipv4_build_header(buf, src, dst, IPPROTO_ICMP_, ip_id, (uint16_t)len, 0, 0);
    uint8_t *m = buf + IPV4_HDR_LEN;
    m[0] = ICMP_ECHO_REPLY;
    m[1] = 0;
    put_be16(m + 2, 0);
    put_be16(m + 4, req->id);
    put_be16(m + 6, req->seqno);
    uint32_t sum = csum_partial(m, ICMP_HDR_LEN, 0);
    if (req->data_len)
        sum = csum_copy(m + ICMP_HDR_LEN, req->data, req->data_len, sum, false);
    put_be16(m + 2, csum_fold(sum));
    return IPV4_HDR_LEN + len;
}
