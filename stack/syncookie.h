/* SYN cookies (RFC 4987 3.6): while a listener's SYN queue is full, the
 * initial sequence number of its SYN-ACK carries what the connection
 * needs, so a SYN costs no memory, and the ACK that completes the
 * handshake brings it back. Linux's encoding (net/ipv4/syncookies.c):
 *
 *   ISS = H(4-tuple) + SEG.SEQ + (minute << 24) + ((H(4-tuple, minute) + MSS index) mod 2^24)
 *
 * with H a keyed hash; the ACK is valid while the minute has changed at
 * most once since (one to two minutes). With timestamps,
 * the low 6 bits of our TSval carry the peer's window scale (4 bits, 15:
 * none) and SACK-permitted (1 bit), which its TSecr echoes; without them
 * the connection has neither (as on Linux). */
#ifndef TUNTCP_SYNCOOKIE_H
#define TUNTCP_SYNCOOKIE_H

#include <stdbool.h>
#include <stdint.h>

#include "isn.h"
#include "tcp.h"

/* What a cookie brings back. */
struct syncookie_opts {
    uint16_t mss;           /* the largest table value not above the peer's */
    bool has_wscale;
    uint8_t wscale;         /* the peer's shift */
    bool sack_permitted;
};

/* The ISS for a SYN from ep (ours the local side) with sequence number
 * `seq` and MSS option `mss` (0: none). */
uint32_t syncookie_make(const struct isn_key *key, const struct tcp_endpoints *ep, uint32_t seq,
                        uint16_t mss, uint64_t now_us);
/* For an ACK of `ack` with sequence number `seq` (the SYN's + 1): true if
 * ack - 1 is a cookie we made for ep this minute or the one before;
 * fills out->mss. */
bool syncookie_check(const struct isn_key *key, const struct tcp_endpoints *ep, uint32_t seq,
                     uint32_t ack, uint64_t now_us, struct syncookie_opts *out);
/* Our TSval for the SYN-ACK: `ts_now` with the options in its low bits,
 * never ahead of ts_now (the connection's clock goes on from it). */
uint32_t syncookie_tsval(uint32_t ts_now, const struct tcp_options *syn);
/* The options from the TSecr of the ACK, into out. */
void syncookie_ts_options(uint32_t ts_ecr, struct syncookie_opts *out);

#endif
