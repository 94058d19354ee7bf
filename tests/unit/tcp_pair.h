/* Two tcp_conns wired back to back through a queue of copied segments,
 * on a virtual clock: tests the tcp layer without wire, stack or link. */
#ifndef TUNTCP_TCP_PAIR_H
#define TUNTCP_TCP_PAIR_H

#include "tcp.h"

struct pair_seg {
    struct tcp_segment seg;
    uint8_t *data;
    int to;
    struct pair_seg *next;
};

struct tcp_pair;
struct pair_host {
    struct tcp_host host;   /* first: the emit callback casts back */
    struct tcp_pair *pair;
    int side;
};

struct tcp_pair {
    struct tcp_config cfg;
    struct pair_host host[2];
    struct tcp_conn conn[2];
    uint64_t now;
    struct pair_seg *head, **tail;
    /* Return false to drop a segment sent by side `from`. */
    bool (*filter)(struct tcp_pair *p, int from, const struct tcp_segment *seg);
    void *filter_ctx;
    unsigned sent[2];
};

/* Sets up two CLOSED conns (10.0.0.1:1000 <-> 10.0.0.2:2000) with the
 * given config (NULL: defaults). */
void pair_init(struct tcp_pair *p, const struct tcp_config *cfg);
void pair_free(struct tcp_pair *p);
/* Side 0 opens actively to side 1, which listens; runs the handshake. */
void pair_connect(struct tcp_pair *p);
/* Delivers queued segments until none is left (timers not run). */
void pair_deliver(struct tcp_pair *p);
/* Delivers, then advances the clock to the next deadline and fires it,
 * repeatedly, until `done` says so or `limit_us` of virtual time passed.
 * Returns done's last answer. */
bool pair_run(struct tcp_pair *p, bool (*done)(struct tcp_pair *p, void *ctx),
              void *ctx, uint64_t limit_us);

#endif
