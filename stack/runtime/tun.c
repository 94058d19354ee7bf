/* The TUN device (Documentation/networking/tuntap.rst): attach or create,
 * configure the kernel side with ioctls, and move packets. */
#include "tun.h"
#include "gso.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stddef.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* struct gso_hdr is struct virtio_net_hdr, field for field, in the byte
 * order a TUN device uses by default (the host's). */
_Static_assert(sizeof(struct gso_hdr) == sizeof(struct virtio_net_hdr) &&
               offsetof(struct gso_hdr, gso_size) == offsetof(struct virtio_net_hdr, gso_size) &&
               offsetof(struct gso_hdr, csum_offset) ==
                   offsetof(struct virtio_net_hdr, csum_offset),
               "gso_hdr is virtio_net_hdr");

/* The vnet header and the packet's pieces in one writev: the payload
 * goes from the send buffer to the kernel with no copy in between. */
static int tun_send_gso(struct link *l, const struct gso_hdr *h, const struct iovec *pkt,
                        int pieces)
{
    struct tun_link *t = (struct tun_link *)l;
    struct iovec iov[1 + 1 + GSO_MAX_PIECES];
    if (pieces < 1 || pieces >= (int)(sizeof iov / sizeof *iov))
        return -EINVAL;
    iov[0] = (struct iovec){ (void *)h, sizeof *h };
    memcpy(iov + 1, pkt, (size_t)pieces * sizeof *pkt);
    return writev(t->fd, iov, 1 + pieces) < 0 ? -errno : 0;
}

static ssize_t tun_recv_gso(struct link *l, uint8_t *buf, size_t cap, struct gso_hdr *h)
{
    struct tun_link *t = (struct tun_link *)l;
    struct iovec iov[2] = { { h, sizeof *h }, { buf, cap } };
    ssize_t n = readv(t->fd, iov, 2);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    return n < (ssize_t)sizeof *h ? -EPROTO : n - (ssize_t)sizeof *h;
}

static int tun_send(struct link *l, const uint8_t *pkt, size_t len)
{
    struct tun_link *t = (struct tun_link *)l;
    if (t->offload)
        return tun_send_gso(l, &(struct gso_hdr){ 0 },
                            &(struct iovec){ (void *)pkt, len }, 1);
    ssize_t n = write(t->fd, pkt, len);
    return n < 0 ? -errno : 0;
}

/* Without the vnet header (a caller that does not look at it would take
 * a super-packet for one packet: the stack uses recv_gso). */
static ssize_t tun_recv(struct link *l, uint8_t *buf, size_t cap)
{
    struct tun_link *t = (struct tun_link *)l;
    if (t->offload)
        return tun_recv_gso(l, buf, cap, &(struct gso_hdr){ 0 });
    ssize_t n = read(t->fd, buf, cap);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
    return n;
}

static void set_sockaddr(struct sockaddr *sa, uint32_t addr)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(addr) };
    memcpy(sa, &sin, sizeof sin);
}

/* Address, netmask (which gives the kernel its route to the subnet), MTU
 * and IFF_UP, as `ip addr add` and `ip link set up` would. */
static int configure(const struct tun_config *cfg, char *err, size_t errlen)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -errno;
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", cfg->dev);
    uint32_t mask = cfg->prefix_len ? ~0u << (32 - cfg->prefix_len) : 0;
    int rc = 0;
    const char *step = "address";
    set_sockaddr(&ifr.ifr_addr, cfg->peer_addr);
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
        goto fail;
    step = "netmask";
    set_sockaddr(&ifr.ifr_netmask, mask);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
        goto fail;
    step = "MTU";
    ifr.ifr_mtu = (int)cfg->mtu;
    if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
        goto fail;
    step = "flags";
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        goto fail;
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        goto fail;
    close(s);
    return 0;
fail:
    rc = -errno;
    snprintf(err, errlen, "tuntcp: cannot set the %s of %s: %s", step, cfg->dev,
             strerror(errno));
    close(s);
    return rc;
}

static int open_tun(char *err, size_t errlen)
{
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "tuntcp: cannot open /dev/net/tun: %s (is the tun module "
                 "loaded? run as root, or `tuntcp up` first)", strerror(e));
        return -e;
    }
    return fd;
}

static int set_iff(int fd, const char *dev, short flags)
{
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
    ifr.ifr_flags = flags;
    return ioctl(fd, TUNSETIFF, &ifr) < 0 ? -errno : 0;
}

/* The vnet header before each packet, checksum offload both ways and TSO
 * for IPv4 (Documentation/networking/tuntap.rst; TUNSETOFFLOAD says what
 * we can take: the kernel then sends us super-packets). An fd with all
 * of it, or -errno of the step that failed. */
static int open_offloaded(const char *dev, char *err, size_t errlen)
{
    int fd = open_tun(err, errlen);
    if (fd < 0)
        return fd;
    int hdr_size = sizeof(struct virtio_net_hdr);
    int rc = set_iff(fd, dev, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR);
    if (rc == 0 && (ioctl(fd, TUNSETVNETHDRSZ, &hdr_size) < 0 ||
                    ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0))
        rc = -errno;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    return fd;
}

int tun_open(const struct tun_config *cfg, struct tun_link *out, char *err, size_t errlen)
{
    bool existed = if_nametoindex(cfg->dev) != 0;
    int fd = cfg->offload ? open_offloaded(cfg->dev, err, errlen) : -1;
    bool offload = fd >= 0;
    int refused = cfg->offload && !offload ? -fd : 0;
    if (!offload) {
        /* without offloads, as the kernel refused them */
        fd = open_tun(err, errlen);
        if (fd < 0)
            return fd;
        int rc = set_iff(fd, cfg->dev, IFF_TUN | IFF_NO_PI);
        if (rc < 0) {
            if (rc == -EBUSY)
                snprintf(err, errlen, "tuntcp: %s is in use by another program (not a tuntcp "
                         "stack): give tuntcp a device of its own with TUNTCP_DEV and "
                         "TUNTCP_NET", cfg->dev);
            else
                snprintf(err, errlen, "tuntcp: cannot %s TUN device %s: %s (run `sudo tuntcp "
                         "up --user $USER` to make a device you may use, or run as root)",
                         existed ? "attach to" : "create", cfg->dev, strerror(-rc));
            close(fd);
            return rc;
        }
    }
    if (!existed) {
        int rc = configure(cfg, err, errlen);
        if (rc < 0) {
            close(fd);
            return rc;
        }
    }
    *out = (struct tun_link){
        .link = { .send = tun_send, .recv = tun_recv, .mtu = cfg->mtu,
                  .send_gso = offload ? tun_send_gso : NULL,
                  .recv_gso = offload ? tun_recv_gso : NULL },
        .fd = fd,
        .offload = offload,
        .offload_refused = refused,
    };
    return 0;
}

void tun_close(struct tun_link *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
