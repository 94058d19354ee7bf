/* A link that wraps another and impairs both directions with seeded loss,
 * duplication and reordering (a packet swapped with the next one): the
 * job of `tc netem`, inside the process, for kernels without sch_netem and
 * for testing against real peers. */
#ifndef TUNTCP_IMPAIR_H
#define TUNTCP_IMPAIR_H

#include <stdbool.h>

#include "link.h"

struct impair_config {
    double loss, dup, reorder;   /* probabilities, 0..1, each direction */
    uint64_t seed;
};

struct impair_link {
    struct link link;            /* first: the callbacks cast back */
    struct link *inner;
    struct impair_config cfg;
    uint64_t rng;
    uint8_t *held_out;           /* an outgoing packet waiting for the next */
    size_t held_out_len;
    uint8_t *held_in;            /* an incoming packet to deliver next */
    size_t held_in_len;
};

/* 0 or -ENOMEM. */
int impair_init(struct impair_link *l, struct link *inner, const struct impair_config *cfg);
void impair_free(struct impair_link *l);
/* Sends an outgoing packet still held for reordering (nothing followed it). */
void impair_flush(struct impair_link *l);

#endif
