/* Packet lines and pcap capture (the pcap format of libpcap: a global
 * header, then a record header per packet; LINKTYPE_RAW = 101, raw IP). */
#include "pktlog.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "bytes.h"
#include "gso.h"
#include "wire.h"

#define LINKTYPE_RAW 101
/* a copy of the largest packet a link with offloads moves (a read of up
 * to 64 KB) */
#define PKTLOG_SCRATCH 65536

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void pcap_write(struct pktlog *p, const uint8_t *pkt, size_t len)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    uint32_t rec[4] = { (uint32_t)tv.tv_sec, (uint32_t)tv.tv_usec, (uint32_t)len,
                        (uint32_t)len };
    fwrite(rec, sizeof rec, 1, p->pcap);
    fwrite(pkt, len, 1, p->pcap);
    fflush(p->pcap);
}

static void show(struct pktlog *p, const uint8_t *pkt, size_t len)
{
    if (p->pcap)
        pcap_write(p, pkt, len);
    if (p->print) {
        char line[384];
        pktlog_format(p, pkt, len, line, sizeof line);
        fprintf(stderr, "%s\n", line);
    }
}

static void show_segment(void *ctx, const uint8_t *seg, size_t len)
{
    show(ctx, seg, len);
}

/* A packet with a vnet header, in pieces, shown as it is (or would be)
 * on the wire: a super-packet as its segments, a partial checksum
 * completed (gso.h), on a copy: the packet itself goes on untouched. */
static void show_offloaded(struct pktlog *p, const struct gso_hdr *h, const struct iovec *pkt,
                           int pieces)
{
    size_t len = 0;
    for (int i = 0; i < pieces; i++) {
        size_t n = pkt[i].iov_len < PKTLOG_SCRATCH - len ? pkt[i].iov_len : PKTLOG_SCRATCH - len;
        memcpy(p->scratch + len, pkt[i].iov_base, n);
        len += n;
    }
    struct gso_plan plan;
    bool partial = (h->flags & GSO_F_NEEDS_CSUM) && h->csum_start < len &&
                   (size_t)h->csum_start + h->csum_offset + 2 <= len;
    if (len > GSO_MAX_PACKET || gso_inspect(h, p->scratch, len, &plan) != DROP_NONE ||
        (!plan.seg_size && !partial)) {
        show(p, p->scratch, len);
        return;
    }
    if (plan.seg_size) {
        gso_split(p->scratch, &plan, true, show_segment, p);
        return;
    }
    /* the field holds the pseudo-header sum: summed with the rest from
     * csum_start, it gives the checksum (as the kernel completes it) */
    uint16_t c = csum_fold(csum_partial(p->scratch + h->csum_start, len - h->csum_start, 0));
    put_be16(p->scratch + h->csum_start + h->csum_offset, c);
    show(p, p->scratch, len);
}

static int log_send_gso(struct link *l, const struct gso_hdr *h, const struct iovec *pkt,
                        int pieces)
{
    struct pktlog *p = (struct pktlog *)l;
    show_offloaded(p, h, pkt, pieces);
    return p->inner->send_gso(p->inner, h, pkt, pieces);
}

static ssize_t log_recv_gso(struct link *l, uint8_t *buf, size_t cap, struct gso_hdr *h)
{
    struct pktlog *p = (struct pktlog *)l;
    ssize_t n = p->inner->recv_gso(p->inner, buf, cap, h);
    if (n > 0)
        show_offloaded(p, h, &(struct iovec){ buf, (size_t)n }, 1);
    return n;
}

static int log_send(struct link *l, const uint8_t *pkt, size_t len)
{
    struct pktlog *p = (struct pktlog *)l;
    show(p, pkt, len);
    return p->inner->send(p->inner, pkt, len);
}

static ssize_t log_recv(struct link *l, uint8_t *buf, size_t cap)
{
    struct pktlog *p = (struct pktlog *)l;
    ssize_t n = p->inner->recv(p->inner, buf, cap);
    if (n > 0)
        show(p, buf, (size_t)n);
    return n;
}

int pktlog_init(struct pktlog *p, struct link *inner, bool print, const char *pcap_path,
                char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    p->link = (struct link){ .send = log_send, .recv = log_recv, .mtu = inner->mtu };
    p->inner = inner;
    p->print = print;
    if (inner->send_gso && inner->recv_gso) {
        p->scratch = malloc(PKTLOG_SCRATCH);
        if (!p->scratch) {
            snprintf(err, errlen, "tuntcp: out of memory");
            return -ENOMEM;
        }
        p->link.send_gso = log_send_gso;
        p->link.recv_gso = log_recv_gso;
    }
    p->start_us = mono_us();
    if (pcap_path) {
        p->pcap = fopen(pcap_path, "we");
        if (!p->pcap) {
            int e = errno;
            snprintf(err, errlen, "tuntcp: TUNTCP_PCAP: cannot write %s: %s", pcap_path,
                     strerror(e));
            return -e;
        }
        uint32_t magic = 0xa1b2c3d4, snaplen = 65535, linktype = LINKTYPE_RAW, zero = 0;
        uint16_t major = 2, minor = 4;
        fwrite(&magic, 4, 1, p->pcap);
        fwrite(&major, 2, 1, p->pcap);
        fwrite(&minor, 2, 1, p->pcap);
        fwrite(&zero, 4, 1, p->pcap);   /* thiszone */
        fwrite(&zero, 4, 1, p->pcap);   /* sigfigs */
        fwrite(&snaplen, 4, 1, p->pcap);
        fwrite(&linktype, 4, 1, p->pcap);
        fflush(p->pcap);
    }
    return 0;
}

void pktlog_close(struct pktlog *p)
{
    if (p->pcap)
        fclose(p->pcap);
    p->pcap = NULL;
    free(p->scratch);
    p->scratch = NULL;
}

/* The initial sequence number of a direction: learnt from its SYN. */
static uint32_t flow_isn(struct pktlog *p, uint32_t src, uint32_t dst,
                         const struct tcp_segment *s)
{
    for (unsigned i = 0; i < PKTLOG_FLOWS; i++) {
        if (p->flows[i].src == src && p->flows[i].dst == dst &&
            p->flows[i].sport == s->sport && p->flows[i].dport == s->dport) {
            if (s->flags & TCP_SYN)
                p->flows[i].isn = s->seq;
            return p->flows[i].isn;
        }
    }
    if (!(s->flags & TCP_SYN))
        return 0;
    unsigned i = p->next_flow++ % PKTLOG_FLOWS;
    p->flows[i].src = src;
    p->flows[i].dst = dst;
    p->flows[i].sport = s->sport;
    p->flows[i].dport = s->dport;
    p->flows[i].isn = s->seq;
    return s->seq;
}

static void flag_names(uint8_t f, char *out, size_t cap)
{
    static const struct { uint8_t bit; const char *name; } names[] = {
        { TCP_FIN, "FIN" }, { TCP_SYN, "SYN" }, { TCP_RST, "RST" }, { TCP_PSH, "PSH" },
        { TCP_ACK, "ACK" }, { TCP_URG, "URG" },
    };
    /* tshark's order: SYN, FIN, RST, PSH then ACK reads as [SYN, ACK], [FIN, ACK] */
    static const int order[] = { 1, 0, 2, 3, 4, 5 };
    size_t n = 0;
    out[0] = '\0';
    for (int k = 0; k < 6; k++) {
        int i = order[k];
        if (f & names[i].bit)
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s", n ? ", " : "",
                                  names[i].name);
    }
}

static void ip_str(uint32_t a, char *out)
{
    sprintf(out, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

void pktlog_format(struct pktlog *p, const uint8_t *pkt, size_t len, char *buf, size_t cap)
{
    double t = (double)(mono_us() - p->start_us) / 1e6;
    struct ipv4_packet ip;
    struct tcp_segment s;
    char src[16], dst[16];
    if (ipv4_parse(pkt, len, &ip) != DROP_NONE) {
        snprintf(buf, cap, "%12.6f %s packet, %zu bytes (dropped)", t,
                 len && pkt[0] >> 4 == 6 ? "IPv6" : "malformed", len);
        return;
    }
    ip_str(ip.src, src);
    ip_str(ip.dst, dst);
    if (ip.proto != IPPROTO_TCP_ ||
        tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &s) != DROP_NONE) {
        snprintf(buf, cap, "%12.6f %s → %s %s %zu", t, src, dst,
                 ip.proto == IPPROTO_ICMP_ ? "ICMP" : "IP", len);
        return;
    }
    char flags[48], opts[224] = "";
    flag_names(s.flags, flags, sizeof flags);
    uint32_t isn = flow_isn(p, ip.src, ip.dst, &s);
    uint32_t peer_isn = flow_isn(p, ip.dst, ip.src, &(struct tcp_segment){
                                     .sport = s.dport, .dport = s.sport });
    size_t o = 0;
    if (s.opt.has_mss)
        o += (size_t)snprintf(opts + o, sizeof opts - o, " MSS=%u", s.opt.mss);
    if (s.opt.sack_permitted)
        o += (size_t)snprintf(opts + o, sizeof opts - o, " SACK_PERM");
    if (s.opt.has_ts)
        o += (size_t)snprintf(opts + o, sizeof opts - o, " TSval=%u TSecr=%u", s.opt.ts_val,
                              s.opt.ts_ecr);
    if (s.opt.has_wscale)
        o += (size_t)snprintf(opts + o, sizeof opts - o, " WS=%u",
                              1u << (s.opt.wscale > 14 ? 14 : s.opt.wscale));
    /* SACK blocks (RFC 2018 3) as tshark shows them: edges relative to
     * the ISN of the data they acknowledge */
    for (unsigned i = 0; i < s.opt.sack_count && o < sizeof opts; i++)
        o += (size_t)snprintf(opts + o, sizeof opts - o, " SLE=%u SRE=%u",
                              s.opt.sack[i].left - peer_isn, s.opt.sack[i].right - peer_isn);
    snprintf(buf, cap, "%12.6f %s → %s TCP %zu %u → %u [%s] Seq=%u%s%.0u Win=%u Len=%u%s", t,
             src, dst, len, s.sport, s.dport, flags, s.seq - isn,
             (s.flags & TCP_ACK) ? " Ack=" : "", (s.flags & TCP_ACK) ? s.ack - peer_isn : 0,
             s.wnd, s.len, opts);
}
