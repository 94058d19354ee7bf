/* Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport,
 * remoteip, remoteport, secretkey), M a 4-microsecond clock and F a keyed
 * hash (SipHash-2-4). */
#ifndef TUNTCP_ISN_H
#define TUNTCP_ISN_H

#include <stdint.h>

#include "tcp.h"

struct isn_key { uint64_t k0, k1; };

/* Fills the key from getrandom(2). 0 or -errno. */
int isn_key_random(struct isn_key *key);
uint32_t isn_generate(const struct isn_key *key,
                      const struct tcp_endpoints *ep, uint64_t now_us);
/* SipHash-2-4 of `len` bytes . */
uint64_t siphash24(const struct isn_key *key, const void *data, size_t len);
/* SipHash of a 4-tuple. */
uint64_t endpoints_hash(const struct isn_key *key, const struct tcp_endpoints *ep);

#endif
