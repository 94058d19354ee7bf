/* The wire layer: parse and build IPv4, TCP and ICMP. Pure functions over
 * byte buffers. Every length is checked against the buffer; a malformed
 * packet yields a drop reason, never an assertion. Addresses and ports in
 * the structs below are in host byte order. */
#ifndef TUNTCP_WIRE_H
#define TUNTCP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why a packet was dropped. Counted per reason by the stack. */
enum drop_reason {
    DROP_NONE = 0,
    DROP_IP_SHORT,        /* shorter than an IPv4 header */
    DROP_IP_VERSION,      /* not IPv4 */
    DROP_IP_HDRLEN,       /* IHL < 5 or beyond the buffer/total length */
    DROP_IP_TOTLEN,       /* total length < header or > buffer */
    DROP_IP_CHECKSUM,
    DROP_IP_FRAGMENT,     /* MF set or fragment offset != 0: no reassembly */
    DROP_IP_NOT_LOCAL,    /* destination is not the stack's address */
    DROP_IP_SOURCE,       /* source no host can have: 0, broadcast, multicast, class E */
    DROP_IP_PROTO,        /* neither TCP nor ICMP */
    DROP_TCP_SHORT,       /* shorter than a TCP header */
    DROP_TCP_DATAOFF,     /* data offset < 5 or beyond the segment */
    DROP_TCP_OPTIONS,     /* an option overruns the header or has a bad length */
    DROP_TCP_CHECKSUM,
    DROP_TCP_FLAGS,       /* nonsense flag combination (e.g. SYN+FIN, SYN+RST) */
    DROP_TCP_NO_SOCKET,   /* no connection or listener; answered with RST */
    DROP_TCP_BACKLOG,     /* listener's SYN or accept queue full */
    DROP_TCP_STATE,       /* unacceptable for the connection's state */
    DROP_ICMP_SHORT,
    DROP_ICMP_CHECKSUM,
    DROP_ICMP_TYPE,       /* a type the stack does not handle */
    DROP_GSO_TYPE,        /* a super-packet (gso.h) that is not IPv4 TCP */
    DROP_GSO_SIZE,        /* a super-packet with gso_size 0 or no payload */
    DROP_GSO_HEADER,      /* its headers or hdr_len run past it, or SYN/RST */
    DROP_REASON_COUNT
};
const char *drop_reason_name(enum drop_reason r);

/* ---- checksums (RFC 1071) ---- */
/* Partial ones'-complement sum, to be folded; chainable through `sum`. */
uint32_t csum_partial(const void *data, size_t len, uint32_t sum);
/* Copy len bytes and add them into the partial sum in one pass. `offset_odd`
 * says the copied data starts at an odd byte offset of the checksummed
 * region (so the bytes must be summed swapped). */
uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum,
                   bool offset_odd);
uint16_t csum_fold(uint32_t sum); /* fold and complement */
/* The TCP/UDP pseudo-header partial sum (RFC 9293 3.1). */
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* ---- IPv4 (RFC 791) ---- */
#define IPV4_HDR_LEN 20
#define IPPROTO_TCP_ 6
#define IPPROTO_ICMP_ 1

struct ipv4_packet {
    uint32_t src, dst;
    uint8_t proto, ttl, tos;
    uint16_t id;
    const uint8_t *header;   /* start of the IP header */
    size_t header_len;       /* IHL * 4, options included (and skipped) */
    const uint8_t *payload;  /* after the header */
    size_t payload_len;      /* total length - header length */
};
/* Returns DROP_NONE and fills *out, or the reason to drop. Bytes after the
 * IP total length (link padding) are ignored. Does not check the
 * destination address (the stack does). */
enum drop_reason ipv4_parse(const uint8_t *pkt, size_t len,
                            struct ipv4_packet *out);
#define IP_DEFAULT_TTL 64   /* Linux's net.ipv4.ip_default_ttl */
#define IP_ECN_MASK 3       /* RFC 3168 5: the TOS field's low two bits */
/* Writes a 20-byte header (no options, DF set) with its checksum; TTL 0
 * means IP_DEFAULT_TTL. */
void ipv4_build_header(uint8_t *buf, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
                       uint16_t payload_len, uint8_t tos, uint8_t ttl);
/* Sets the total length of the IPv4 header at buf (ihl bytes, options
 * included) and its checksum anew (RFC 791): for headers built, and for
 * those of the segments a super-packet is cut into (gso.c). */
void ipv4_set_total_len(uint8_t *buf, size_t ihl, uint16_t total_len);

/* ---- TCP (RFC 9293, RFC 7323, RFC 2018) ---- */
#define TCP_HDR_LEN 20
#define TCP_MAX_OPT_LEN 40
enum {
    TCP_FIN = 0x01, TCP_SYN = 0x02, TCP_RST = 0x04,
    TCP_PSH = 0x08, TCP_ACK = 0x10, TCP_URG = 0x20,
    TCP_ECE = 0x40, TCP_CWR = 0x80,
};
#define TCP_MAX_SACK_BLOCKS 4

struct tcp_options {
    bool has_mss, has_wscale, sack_permitted, has_ts;
    uint16_t mss;
    uint8_t wscale;              /* as received; the user clamps to 14 */
    uint32_t ts_val, ts_ecr;
    uint8_t sack_count;          /* SACK blocks (RFC 2018 3), received or to send */
    struct { uint32_t left, right; } sack[TCP_MAX_SACK_BLOCKS];
};

/* A segment's header fields. For parsed segments `data`/`len` is the
 * payload; for built segments the payload is passed separately. */
struct tcp_segment {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;                /* raw 16-bit field, unscaled */
    uint16_t urp;
    struct tcp_options opt;
    const uint8_t *data;
    uint32_t len;
    uint8_t ip_tos, ip_ttl;      /* sent: the IP header's (TTL 0: the default) */
};

/* Parses a TCP segment carried in IPv4 from src to dst; with
 * verify_csum, verifies the checksum over the pseudo-header (only a packet
 * whose sender vouched for it, a TUN device's NEEDS_CSUM or DATA_VALID,
 * goes without: gso.h). Unknown options are skipped by their length; an
 * option that overruns the header is DROP_TCP_OPTIONS. */
enum drop_reason tcp_parse_csum(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst,
                                bool verify_csum, struct tcp_segment *out);
static inline enum drop_reason tcp_parse(const uint8_t *buf, size_t len, uint32_t src,
                                         uint32_t dst, struct tcp_segment *out)
{
    return tcp_parse_csum(buf, len, src, dst, true, out);
}

/* Payload for a built segment: up to two pieces (a ring buffer may wrap). */
struct tcp_payload {
    const uint8_t *base[2];
    uint32_t len[2];
};
/* Summed in size_t: two 32-bit lengths cannot wrap to a small one. */
static inline size_t tcp_payload_len(const struct tcp_payload *p)
{
    return p ? (size_t)p->len[0] + p->len[1] : 0;
}

/* Options the builder writes: only those flagged in `opt` (MSS, window
 * scale, SACK-permitted, timestamps) and its first sack_count SACK blocks,
 * as many as fit (tcp_sack_blocks_fit), NOP-padded to a multiple of 4. */
size_t tcp_options_len(const struct tcp_options *opt);
/* The bytes a SACK option of `blocks` blocks takes beside the other
 * options in opt (as many blocks as fit: 0 if none). */
size_t tcp_sack_option_len(const struct tcp_options *opt, unsigned blocks);
/* How many SACK blocks a segment with the other options of `opt` can
 * carry: in the 40 bytes of option space (RFC 2018 3: 4 blocks, 3 beside
 * timestamps) and in `room` more bytes of header. */
unsigned tcp_sack_blocks_fit(const struct tcp_options *opt, size_t room);

/* Writes the IPv4 and TCP headers (options included, TCP checksum 0) of
 * a segment with payload_len bytes of payload into buf, which has room
 * for IPV4_HDR_LEN + TCP_HDR_LEN + tcp_options_len(&seg->opt); returns
 * their length, or 0 if the packet would exceed 65535 bytes. */
size_t tcp_build_header(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t ip_id,
                        const struct tcp_segment *seg, size_t payload_len);
/* Builds a complete IPv4+TCP packet into buf (cap bytes): IP header, TCP
 * header with options, payload copied in, both checksums set. Returns the
 * packet length, or 0 if it does not fit in cap. `ip_id` is the IP ID. */
size_t tcp_build_packet(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                        uint16_t ip_id, const struct tcp_segment *seg,
                        const struct tcp_payload *payload);

/* ---- ICMP (RFC 792) ---- */
enum {
    ICMP_ECHO_REPLY = 0, ICMP_DEST_UNREACH = 3, ICMP_ECHO_REQUEST = 8,
    ICMP_TIME_EXCEEDED = 11,
};
struct icmp_message {
    uint8_t type, code;
    /* echo: */
    uint16_t id, seqno;
    const uint8_t *data;     /* echo data, or the quoted datagram */
    size_t data_len;
    /* destination unreachable / time exceeded, when the quoted datagram is
     * TCP and at least IP header + 8 bytes are quoted: */
    bool has_quoted_tcp;
    uint32_t q_src, q_dst;   /* quoted IP addresses */
    uint16_t q_sport, q_dport;
    uint32_t q_seq;
    uint16_t mtu;            /* next-hop MTU for code 4 (RFC 1191), else 0 */
};
/* Parses and verifies the checksum of an ICMP message (the IP payload). */
enum drop_reason icmp_parse(const uint8_t *buf, size_t len,
                            struct icmp_message *out);
/* Builds an IPv4 packet carrying an echo reply to `req` (id, seqno and data
 * echoed). Returns the packet length, or 0 if it does not fit in cap. */
size_t icmp_build_echo_reply(uint8_t *buf, size_t cap, uint32_t src,
                             uint32_t dst, uint16_t ip_id,
                             const struct icmp_message *req);

#endif
