/* IPv4 (RFC 791): parse and check a datagram, build a header. */
#include "bytes.h"
#include "wire.h"

#define IP_FLAG_MF 0x2000
#define IP_FLAG_DF 0x4000
#define IP_FRAG_OFFSET 0x1fff

/* RFC 1122 3.2.1.3: a source address that names no single host: 0 (this
 * host, only for a host that does not know its address yet), limited
 * broadcast, class D (multicast) and class E. */
static bool source_valid(uint32_t src)
{
    return src != 0 && src >> 28 < 0xe;
}

enum drop_reason ipv4_parse(const uint8_t *pkt, size_t len, struct ipv4_packet *out)
{
    if (len < IPV4_HDR_LEN)
        return DROP_IP_SHORT;
    if (pkt[0] >> 4 != 4)
        return DROP_IP_VERSION;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    if (ihl < IPV4_HDR_LEN)
        return DROP_IP_HDRLEN;
    size_t total = get_be16(pkt + 2);
    if (total > len || total < IPV4_HDR_LEN)
        return DROP_IP_TOTLEN;
    if (ihl > total)
        return DROP_IP_HDRLEN;
    /* RFC 791 3.1: the header checksum covers the header, options too */
    if (csum_fold(csum_partial(pkt, ihl, 0)) != 0)
        return DROP_IP_CHECKSUM;
    /* no reassembly: a fragment can never make a whole segment */
    if (get_be16(pkt + 6) & (IP_FLAG_MF | IP_FRAG_OFFSET))
        return DROP_IP_FRAGMENT;
    /* RFC 1122 3.2.1.3: silently discard a datagram from such a source */
    if (!source_valid(get_be32(pkt + 12)))
        return DROP_IP_SOURCE;
    *out = (struct ipv4_packet){
        .src = get_be32(pkt + 12),
        .dst = get_be32(pkt + 16),
        .proto = pkt[9],
        .ttl = pkt[8],
        .tos = pkt[1],
        .id = get_be16(pkt + 4),
        .header = pkt,
        .header_len = ihl,          /* options skipped */
        .payload = pkt + ihl,
        .payload_len = total - ihl, /* link padding after `total` ignored */
    };
    return DROP_NONE;
}

void ipv4_build_header(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                       uint16_t payload_len, uint8_t tos, uint8_t ttl)
{
    buf[0] = 0x45;                  /* version 4, IHL 5 */
    buf[1] = tos;
    put_be16(buf + 4, id);
    put_be16(buf + 6, IP_FLAG_DF);  /* RFC 1191: path MTU discovery */
    buf[8] = ttl ? ttl : IP_DEFAULT_TTL;
    buf[9] = proto;
    put_be32(buf + 12, src);
    put_be32(buf + 16, dst);
    ipv4_set_total_len(buf, IPV4_HDR_LEN, (uint16_t)(IPV4_HDR_LEN + payload_len));
}

void ipv4_set_total_len(uint8_t *buf, size_t ihl, uint16_t total_len)
{
    put_be16(buf + 2, total_len);
    put_be16(buf + 10, 0);
    put_be16(buf + 10, csum_fold(csum_partial(buf, ihl, 0)));
}

const char *drop_reason_name(enum drop_reason r)
{
    static const char *const names[DROP_REASON_COUNT] = {
        [DROP_NONE] = "none",
        [DROP_IP_SHORT] = "ip_short",
        [DROP_IP_VERSION] = "ip_version",
        [DROP_IP_HDRLEN] = "ip_hdrlen",
        [DROP_IP_TOTLEN] = "ip_totlen",
        [DROP_IP_CHECKSUM] = "ip_checksum",
        [DROP_IP_FRAGMENT] = "ip_fragment",
        [DROP_IP_NOT_LOCAL] = "ip_not_local",
        [DROP_IP_SOURCE] = "ip_source",
        [DROP_IP_PROTO] = "ip_proto",
        [DROP_TCP_SHORT] = "tcp_short",
        [DROP_TCP_DATAOFF] = "tcp_dataoff",
        [DROP_TCP_OPTIONS] = "tcp_options",
        [DROP_TCP_CHECKSUM] = "tcp_checksum",
        [DROP_TCP_FLAGS] = "tcp_flags",
        [DROP_TCP_NO_SOCKET] = "tcp_no_socket",
        [DROP_TCP_BACKLOG] = "tcp_backlog",
        [DROP_TCP_STATE] = "tcp_state",
        [DROP_ICMP_SHORT] = "icmp_short",
        [DROP_ICMP_CHECKSUM] = "icmp_checksum",
        [DROP_ICMP_TYPE] = "icmp_type",
        [DROP_GSO_TYPE] = "gso_type",
        [DROP_GSO_SIZE] = "gso_size",
        [DROP_GSO_HEADER] = "gso_header",
    };
    return (unsigned)r < DROP_REASON_COUNT && names[r] ? names[r] : "unknown";
}
