/* A link moves whole IPv4 packets: the TUN device, or an in-memory link
 * for tests. */
#ifndef TUNTCP_LINK_H
#define TUNTCP_LINK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct link {
    /* Sends one packet. 0, or -errno (the packet is lost). */
    int (*send)(struct link *l, const uint8_t *pkt, size_t len);
    /* Receives one packet into buf: its length, 0 if none is ready, or
     * -errno. */
    ssize_t (*recv)(struct link *l, uint8_t *buf, size_t cap);
    uint32_t mtu;
};

#endif
