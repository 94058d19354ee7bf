/* The TUN link: one IPv4 packet per read or write (IFF_NO_PI); with
 * offloads, each behind a vnet header (IFF_VNET_HDR, gso.h). */
#ifndef TUNTCP_TUN_H
#define TUNTCP_TUN_H

#include <stdbool.h>
#include <stddef.h>

#include "link.h"

struct tun_config {
    const char *dev;        /* e.g. "tun0" */
    uint32_t peer_addr;     /* the kernel side's address, host order */
    unsigned prefix_len;    /* of the subnet, e.g. 24 */
    uint32_t mtu;
    /* Ask for offloads: the kernel then hands us TCP super-packets of up
     * to 64 KB whose checksums it vouches for, and takes ours. */
    bool offload;
};

struct tun_link {
    struct link link;       /* first: the callbacks cast back */
    int fd;                 /* nonblocking */
    bool offload;           /* the device took IFF_VNET_HDR and TUNSETOFFLOAD */
    int offload_refused;    /* asked for but refused: the errno of the step
                               that failed; else 0 */
};

/* Attaches to the device, or creates it if it does not exist and the
 * process may (CAP_NET_ADMIN); a device this call creates gets the
 * kernel-side address, the MTU and link up. Offloads the kernel refuses
 * are done without (out->offload says). On failure returns -errno and
 * writes a one-line explanation (what to do about it) into err. */
int tun_open(const struct tun_config *cfg, struct tun_link *out, char *err,
             size_t errlen);
void tun_close(struct tun_link *t);

#endif
