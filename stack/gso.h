/* Segmentation and checksum offload: the header a TUN device opened with
 * IFF_VNET_HDR puts before each packet (struct virtio_net_hdr,
 * linux/virtio_net.h). A TCP "super-packet" of up to 64 KB stands for the
 * series of segments of gso_size bytes of payload it would be cut into on
 * a wire; a partial checksum (NEEDS_CSUM) is left for the other side to
 * complete. Pure functions over byte buffers: cutting a received
 * super-packet into its segments, and building one from the segments a
 * connection sends in one go. */
#ifndef TUNTCP_GSO_H
#define TUNTCP_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "wire.h"

/* struct virtio_net_hdr, its fields in host byte order (a TUN device's
 * default on a little-endian host). */
struct gso_hdr {
    uint8_t flags, gso_type;
    uint16_t hdr_len, gso_size, csum_start, csum_offset;
};
enum {
    GSO_F_NEEDS_CSUM = 1,   /* the checksum is partial: csum_start, csum_offset */
    GSO_F_DATA_VALID = 2,   /* the checksum was verified */
};
enum { GSO_NONE = 0, GSO_TCPV4 = 1, GSO_ECN = 0x80 };
#define GSO_MAX_PACKET 65535   /* an IPv4 total length */

/* A received packet as its vnet header describes it. */
struct gso_plan {
    bool csum_trusted;       /* NEEDS_CSUM or DATA_VALID: not to be verified */
    uint32_t seg_size;       /* payload per segment; 0: not a super-packet */
    size_t hdr_len;          /* IP + TCP headers of a super-packet */
    size_t payload_len;      /* its payload */
};
/* Checks a received packet against its vnet header: DROP_NONE and the
 * plan, or why to drop it (a super-packet that is not IPv4 TCP, whose
 * gso_size is 0, whose headers or hdr_len run past it, or that is a SYN
 * or RST). A packet that is no super-packet is left to ipv4_parse. */
enum drop_reason gso_inspect(const struct gso_hdr *h, const uint8_t *pkt, size_t len,
                             struct gso_plan *out);
/* The number of segments of a super-packet. */
unsigned gso_segments(const struct gso_plan *p);
/* Cuts super-packet pkt (p from gso_inspect) into its segments in place,
 * in order, and calls fn with each: headers copied from the super-packet
 * with the IP total length, ID (+1 per segment) and header checksum, the
 * TCP sequence number advanced, PSH and FIN only on the last segment and
 * CWR only on the first (as Linux's tcp_gso_segment). Each segment's
 * header is written over the end of the previous one's payload, so pkt is
 * consumed and no byte is copied twice. With fill_csum each segment gets
 * its full TCP checksum (for a packet log); otherwise the field is left
 * as it came (the sender vouched for the data). Returns the count. */
unsigned gso_split(uint8_t *pkt, const struct gso_plan *p, bool fill_csum,
                   void (*fn)(void *ctx, const uint8_t *seg, size_t len), void *ctx);

/* A super-packet being built from consecutive segments of one
 * connection: each segment's header is built with tcp_build_header, then
 * offered. The headers are copied; the payload is not: the super-packet
 * is iov, the headers and then pieces of the caller's memory (merged
 * where one continues the last), which must stay as they are until it is
 * sent. */
#define GSO_MAX_HDR_LEN (60 + 60)   /* IP and TCP, options included */
#define GSO_MAX_PIECES 4            /* of payload: a ring's data wraps once */
struct gso_builder {
    uint8_t hdr[GSO_MAX_HDR_LEN];
    struct iovec iov[1 + GSO_MAX_PIECES];
    int iovcnt;
    size_t len;              /* bytes in it; 0: empty */
    size_t hdr_len;          /* IP + TCP headers */
    uint32_t seg_size;       /* payload of the first segment: every one but the last */
    uint32_t first_seq, next_seq;   /* the payload's sequence space */
    unsigned segs;
    bool closed;             /* a short segment, PSH or FIN ended it */
};
/* Adds the segment whose header (hl bytes, from tcp_build_header) is hdr
 * and whose payload is `payload`: to the super-packet in b if it
 * continues it (same connection, headers and options but for the
 * sequence number, no segment longer than the first, room left), else
 * not at all (false: the caller finishes b and starts again). An empty b
 * takes any segment with data and no SYN, RST or URG. */
bool gso_add(struct gso_builder *b, const uint8_t *hdr, size_t hl,
             const struct tcp_payload *payload);
/* Whether b holds segments from src:sport to dst:dport. */
bool gso_carries(const struct gso_builder *b, uint32_t src, uint32_t dst, uint16_t sport,
                 uint16_t dport);
/* Completes the super-packet in b (IP total length and checksum, the
 * last segment's flags, and in the TCP checksum field the pseudo-header
 * sum the receiver completes: NEEDS_CSUM) and its vnet header; empties b
 * and returns the number of pieces of b->iov that hold the packet (valid
 * until the next gso_add). */
int gso_finish(struct gso_builder *b, struct gso_hdr *out);

#endif
