/* Congestion control behind a table of function pointers, so that more
 * than one algorithm can exist. Loss detection and recovery (RFC 5681
 * 3.2, RFC 6582) and limited transmit (RFC 3042) live in tcp_ack.c and
 * tcp_output.c; an algorithm decides how the window grows and how far it
 * falls. */
#ifndef TUNTCP_TCP_CC_H
#define TUNTCP_TCP_CC_H

#include <stdint.h>

struct tcp_conn;

struct tcp_cc_ops {
    const char *name;
    /* Sets the initial cwnd and ssthresh once the MSS is known. */
    void (*init)(struct tcp_conn *c);
    /* `acked` new bytes were acknowledged outside loss recovery. */
    void (*on_ack)(struct tcp_conn *c, uint32_t acked, uint64_t now);
    /* A loss was detected (three duplicate ACKs or a timeout): returns
     * the new ssthresh. `flight_size` is RFC 5681's FlightSize, without
     * what limited transmit sent (RFC 5681 3.2 step 2). */
    uint32_t (*ssthresh)(struct tcp_conn *c, uint32_t flight_size);
};

extern const struct tcp_cc_ops tcp_cc_newreno;

#endif
