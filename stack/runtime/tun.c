/* The TUN device (Documentation/networking/tuntap.rst): attach or create,
 * configure the kernel side with ioctls, and move packets. */
#include "tun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int tun_send(struct link *l, const uint8_t *pkt, size_t len)
{
    struct tun_link *t = (struct tun_link *)l;
    ssize_t n = write(t->fd, pkt, len);
    return n < 0 ? -errno : 0;
}

static ssize_t tun_recv(struct link *l, uint8_t *buf, size_t cap)
{
    struct tun_link *t = (struct tun_link *)l;
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

int tun_open(const struct tun_config *cfg, struct tun_link *out, char *err, size_t errlen)
{
    bool existed = if_nametoindex(cfg->dev) != 0;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errlen, "tuntcp: cannot open /dev/net/tun: %s (is the tun module "
                 "loaded? run as root, or `tuntcp up` first)", strerror(e));
        return -e;
    }
    struct ifreq ifr = { 0 };
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", cfg->dev);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        int e = errno;
        if (e == EBUSY)
            snprintf(err, errlen, "tuntcp: %s is in use by another program (not a tuntcp "
                     "stack): give tuntcp a device of its own with TUNTCP_DEV and TUNTCP_NET",
                     cfg->dev);
        else
            snprintf(err, errlen, "tuntcp: cannot %s TUN device %s: %s (run `sudo tuntcp up "
                 "--user $USER` to make a device you may use, or run as root)",
                 existed ? "attach to" : "create", cfg->dev, strerror(e));
        close(fd);
        return -e;
    }
    if (!existed) {
        int rc = configure(cfg, err, errlen);
        if (rc < 0) {
            close(fd);
            return rc;
        }
    }
    *out = (struct tun_link){
        .link = { .send = tun_send, .recv = tun_recv, .mtu = cfg->mtu },
        .fd = fd,
    };
    return 0;
}

void tun_close(struct tun_link *t)
{
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
