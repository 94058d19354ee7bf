/* A link moves whole IPv4 packets: the TUN device, or an in-memory link
 * for tests. */
#ifndef TUNTCP_LINK_H
#define TUNTCP_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct gso_hdr;

struct link {
    /* Sends one packet. 0, or -errno (the packet is lost). */
    int (*send)(struct link *l, const uint8_t *pkt, size_t len);
    /* Receives one packet into buf: its length, 0 if none is ready, or
     * -errno. */
    ssize_t (*recv)(struct link *l, uint8_t *buf, size_t cap);
    uint32_t mtu;
    /* A link with offloads (gso.h) has these too, else NULL: packets
     * with their vnet header, super-packets of up to 64 KB among them.
     * The stack then uses them instead of send and recv; send_gso takes
     * the packet in `pieces` pieces (its headers, then payload from the
     * send buffers: gso.h), used only during the call. */
    int (*send_gso)(struct link *l, const struct gso_hdr *h, const struct iovec *pkt,
                    int pieces);
    ssize_t (*recv_gso)(struct link *l, uint8_t *buf, size_t cap, struct gso_hdr *h);
};

#endif
