/* A lossy link for kernel TCP: forwards IPv4 packets between two TUN
 * devices, each in a network namespace of its own, through the stack's
 * impairment code (stack/impair.c) with the parameters of TUNTCP_IMPAIR,
 * read from that variable by the runtime's own parser. This kernel has no
 * sch_netem; with this relay kernel TCP crosses the same seeded loss,
 * duplication and reordering that TUNTCP_IMPAIR gives the tuntcp stack.
 *
 *   TUNTCP_IMPAIR=loss=0.01,seed=1 lossy_relay [-t] NS_A DEV_A ADDR_A/PREFIX \
 *                                                   NS_B DEV_B ADDR_B/PREFIX
 *
 * NS_x is a name from `ip netns` (or a path to a netns file, or "-" for
 * the relay's own namespace). Each device is created in its namespace with
 * the address and link up (stack/runtime/tun.c, with TUNTCP_MTU); routes
 * between the two subnets are the caller's (ip route add B_SUBNET dev
 * DEV_A in NS_A, and back).
 *
 * Side A plays the kernel side of tun0, side B the stack: the impair link
 * wraps A's device as the daemon's wraps tun0, so a packet from A to B
 * goes through the impaired receive path (impair_recv) and a packet from B
 * to A through the impaired send path (impair_send), with one generator,
 * and a packet held back for reordering is flushed at the end of each turn
 * of the loop, as in the daemon. Both directions are impaired, each once.
 * One thread, like the daemon: the kernel's own TCP work for both ends
 * (B's receive path on each write into B's device, A's ACK processing and
 * next segments on each write into A's) runs in it. -t: a thread for each
 * way, each with its own impair link (the second on seed + 1), for a
 * machine with cores to spare.
 *
 * Prints "lossy_relay: ready" on stderr once both devices are up, and on
 * SIGTERM/SIGINT the packets it moved and dropped, then exits. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "impair.h"
#include "tun.h"

#define BATCH 64               /* packets one way before looking the other way */
#define SPIN_NS 50000          /* polling without sleeping after work, as the daemon */

static atomic_int stop;

static int usage(void)
{
    fprintf(stderr, "usage: [TUNTCP_IMPAIR=loss=P,dup=P,reorder=P,seed=N] lossy_relay [-t] "
            "NS_A DEV_A ADDR_A/PREFIX NS_B DEV_B ADDR_B/PREFIX\n");
    return 2;
}

static int enter_netns(const char *ns)
{
    if (!strcmp(ns, "-"))
        return 0;
    char path[4096];
    snprintf(path, sizeof path, "%s%s", strchr(ns, '/') ? "" : "/run/netns/", ns);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
        fprintf(stderr, "lossy_relay: cannot enter network namespace %s: %s\n", path,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* Creates DEV with ADDR/PREFIX in namespace NS, then returns to `home`. */
static int open_side(int home, const char *ns, const char *dev, const char *cidr,
                     uint32_t mtu, struct tun_link *out)
{
    char addr[32];
    const char *slash = strchr(cidr, '/');
    struct in_addr a;
    if (!slash || (size_t)(slash - cidr) >= sizeof addr)
        return usage(), -1;
    memcpy(addr, cidr, (size_t)(slash - cidr));
    addr[slash - cidr] = '\0';
    int prefix = atoi(slash + 1);
    if (inet_pton(AF_INET, addr, &a) != 1 || prefix < 8 || prefix > 30)
        return usage(), -1;
    if (enter_netns(ns) < 0)
        return -1;
    struct tun_config tc = { .dev = dev, .peer_addr = ntohl(a.s_addr),
                             .prefix_len = (unsigned)prefix, .mtu = mtu };
    char err[512];
    int rc = tun_open(&tc, out, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    if (setns(home, CLONE_NEWNET) < 0) {
        perror("lossy_relay: setns back");
        return -1;
    }
    return rc < 0 ? -1 : 0;
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct way {
    struct link *from, *to;
    struct impair_link *flush;   /* the link that may hold a packet back */
    int fd;                      /* from's device */
    size_t cap;                  /* room for the largest packet */
    unsigned long long moved, failed;
};

struct worker {
    struct way *ways;
    int n;
    pthread_t thread;
};

/* Up to BATCH packets one way: how many moved. */
static int pump(struct way *w, uint8_t *buf)
{
    int i;
    ssize_t n;
    for (i = 0; i < BATCH && (n = w->from->recv(w->from, buf, w->cap)) > 0; i++) {
        w->failed += w->to->send(w->to, buf, (size_t)n) < 0;
        w->moved++;
    }
    return i;
}

/* Moves packets until told to stop: spins a little after work, then
 * sleeps in poll (bounded, to see the stop). */
static void *work(void *arg)
{
    struct worker *wk = arg;
    uint8_t *buf = malloc(wk->ways[0].cap);
    struct pollfd pfd[2];
    for (int i = 0; i < wk->n; i++)
        pfd[i] = (struct pollfd){ .fd = wk->ways[i].fd, .events = POLLIN };
    uint64_t last_work = 0;
    while (buf && !stop) {
        int moved = 0;
        for (int i = 0; i < wk->n; i++)
            moved += pump(&wk->ways[i], buf);
        /* a packet held back for reordering goes at the end of the turn if
         * nothing followed it, as the daemon flushes once per turn */
        for (int i = 0; i < wk->n; i++)
            impair_flush(wk->ways[i].flush);
        if (moved) {
            last_work = now_ns();
            continue;
        }
        if (now_ns() - last_work < SPIN_NS)
            continue;
        if (poll(pfd, (nfds_t)wk->n, 100) < 0 && errno != EINTR) {
            perror("lossy_relay: poll");
            exit(1);
        }
    }
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = 0;
    if (argc > 1 && !strcmp(argv[1], "-t")) {
        threads = 1;
        argc--, argv++;
    }
    if (argc != 7)
        return usage();
    /* TUNTCP_IMPAIR as the daemon reads it (and TUNTCP_MTU for the devices) */
    struct tuntcp_config cfg;
    config_read(&cfg);
    int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home < 0) {
        perror("lossy_relay: /proc/self/ns/net");
        return 1;
    }
    struct tun_link a, b;
    if (open_side(home, argv[1], argv[2], argv[3], cfg.mtu, &a) < 0 ||
        open_side(home, argv[4], argv[5], argv[6], cfg.mtu, &b) < 0)
        return 1;
    close(home);

    struct impair_config none = { .seed = 1 };
    const struct impair_config *ic = cfg.impaired ? &cfg.impair : &none;
    /* one impair link for both ways, as the daemon; with threads one
     * each (it is not thread-safe), the second on the next seed */
    struct impair_config ic2 = *ic;
    ic2.seed = ic->seed + 1;
    struct impair_link imp_in, imp_out;
    if (impair_init(&imp_in, &a.link, ic) < 0 ||
        (threads && impair_init(&imp_out, &a.link, &ic2) < 0)) {
        fprintf(stderr, "lossy_relay: out of memory\n");
        return 1;
    }
    struct impair_link *out = threads ? &imp_out : &imp_in;
    struct way ways[2] = {
        { .from = &imp_in.link, .to = &b.link, .flush = &imp_in, .fd = a.fd, .cap = cfg.mtu + 64 },
        { .from = &b.link, .to = &out->link, .flush = out, .fd = b.fd, .cap = cfg.mtu + 64 },
    };

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct worker workers[2] = { { .ways = ways, .n = threads ? 1 : 2 },
                                 { .ways = ways + 1, .n = 1 } };
    int nworkers = threads ? 2 : 1;
    for (int i = 0; i < nworkers; i++)
        if (pthread_create(&workers[i].thread, NULL, work, &workers[i])) {
            fprintf(stderr, "lossy_relay: cannot start a thread\n");
            return 1;
        }
    fprintf(stderr, "lossy_relay: ready (loss %g dup %g reorder %g seed %llu, MTU %u, %d thread%s)\n",
            ic->loss, ic->dup, ic->reorder, (unsigned long long)ic->seed, cfg.mtu, nworkers,
            nworkers > 1 ? "s" : "");
    int sig;
    sigwait(&sigs, &sig);
    stop = 1;
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i].thread, NULL);
    fprintf(stderr, "lossy_relay: %llu packets A to B (after impairment), %llu B to A "
            "(before), %llu writes failed\n", ways[0].moved, ways[1].moved,
            ways[0].failed + ways[1].failed);
    impair_free(&imp_in);
    if (threads)
        impair_free(&imp_out);
    tun_close(&a);
    tun_close(&b);
    return 0;
}
