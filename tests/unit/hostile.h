/* A hostile link end for the simulations: it delivers what the link
 * carries and, after a genuine segment, sometimes a forged one aimed at
 * the same connection, built as a blind attacker could (RFC 5961 1.1: it
 * knows the 4-tuple, not the sequence numbers), or a replay of an earlier
 * genuine segment, as an attacker on the path could. Every forged segment
 * must be turned away; what the receiving stack should count for it is
 * counted here, so a test can check that the defences did the work. */
#ifndef TUNTCP_HOSTILE_H
#define TUNTCP_HOSTILE_H

#include <stdbool.h>

#include "link.h"
#include "stack.h"

/* How the receiver must deal with a forged segment. */
enum hostile_outcome {
    HOSTILE_UNACCEPTABLE,  /* outside the window (RFC 9293 3.10.7.4 first) */
    HOSTILE_PAWS,          /* an old TSval (RFC 7323 5.3 R1) */
    HOSTILE_CHALLENGE,     /* RST or SYN in the window, ACK out of range
                              (RFC 5961 3.2, 4.2, 5.2): a challenge ACK */
    HOSTILE_SILENT,        /* dropped uncounted: no timestamp (RFC 7323
                              3.2) or no ACK bit (RFC 9293 3.10.7.4 fifth) */
    HOSTILE_REPLAYED,      /* a genuine segment again: whatever it meets */
    HOSTILE_OUTCOMES
};

#define HOSTILE_REPLAYS 16
#define HOSTILE_MAX_PACKET 1500

struct hostile_link {
    struct link link;            /* first: the callbacks cast back */
    struct link *inner;
    struct stack *victim;        /* the stack this end delivers to */
    double rate;                 /* forged segments per genuine one */
    uint64_t rng;
    bool pending;                /* forge for `target` at the next recv */
    struct tcp_endpoints target; /* as the victim sees it */
    uint8_t replay[HOSTILE_REPLAYS][HOSTILE_MAX_PACKET];
    size_t replay_len[HOSTILE_REPLAYS];
    unsigned replays;            /* slots filled */
    uint64_t forged[HOSTILE_OUTCOMES];
};

/* `victim` may be set later, before the first packet. */
void hostile_init(struct hostile_link *h, struct link *inner, double rate,
                  uint64_t seed);

#endif
