/* A link that wraps another and shows what crosses it: one line per
 * segment on stderr in the style of tshark, and/or a pcap file. Over a
 * link with offloads, as on the wire: a super-packet as its segments,
 * partial checksums completed. */
#ifndef TUNTCP_PKTLOG_H
#define TUNTCP_PKTLOG_H

#include <stdbool.h>
#include <stdio.h>

#include "link.h"

#define PKTLOG_FLOWS 64

struct pktlog {
    struct link link;           /* first: the callbacks cast back */
    struct link *inner;
    bool print;
    FILE *pcap;
    uint8_t *scratch;           /* with offloads: a copy to cut up */
    uint64_t start_us;
    /* initial sequence numbers per direction, for relative numbers */
    struct { uint32_t src, dst; uint16_t sport, dport; uint32_t isn; } flows[PKTLOG_FLOWS];
    unsigned next_flow;
};

/* 0, or -errno with a one-line message in err (the pcap file). */
int pktlog_init(struct pktlog *p, struct link *inner, bool print, const char *pcap_path,
                char *err, size_t errlen);
void pktlog_close(struct pktlog *p);
/* Formats one IPv4 packet as a line (no newline) into buf. */
void pktlog_format(struct pktlog *p, const uint8_t *pkt, size_t len, char *buf, size_t cap);

#endif
