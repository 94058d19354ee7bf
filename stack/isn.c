/* RFC 6528 initial sequence numbers and the SipHash-2-4 they use. */
#include "isn.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline void sip_round(uint64_t v[4])
{
    v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
    v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
    v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
    v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--)
        x = (x << 8) | p[i];
    return x;
}

/* SipHash-2-4 (Aumasson and Bernstein, 2012): 2 compression rounds per
 * 8-byte word, 4 finalization rounds. */
uint64_t siphash24(const struct isn_key *key, const void *data, size_t len)
{
    const uint8_t *p = data;
    uint64_t v[4] = {
        key->k0 ^ 0x736f6d6570736575ull, key->k1 ^ 0x646f72616e646f6dull,
        key->k0 ^ 0x6c7967656e657261ull, key->k1 ^ 0x7465646279746573ull,
    };
    size_t words = len / 8;
    for (size_t i = 0; i < words; i++, p += 8) {
        uint64_t m = load_le64(p);
        v[3] ^= m;
        sip_round(v);
        sip_round(v);
        v[0] ^= m;
    }
    uint8_t tail[8] = { 0 };
    memcpy(tail, p, len % 8);
    tail[7] = (uint8_t)len;
    uint64_t m = load_le64(tail);
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
    v[2] ^= 0xff;
    for (int i = 0; i < 4; i++)
        sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int isn_key_random(struct isn_key *key)
{
    uint8_t *p = (uint8_t *)key;
    size_t got = 0;
    while (got < sizeof *key) {
        ssize_t n = getrandom(p + got, sizeof *key - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    return 0;
}

uint64_t endpoints_hash(const struct isn_key *key, const struct tcp_endpoints *ep)
{
    uint8_t tuple[12];
    memcpy(tuple, &ep->laddr, 4);
    memcpy(tuple + 4, &ep->raddr, 4);
    memcpy(tuple + 8, &ep->lport, 2);
    memcpy(tuple + 10, &ep->rport, 2);
    return siphash24(key, tuple, sizeof tuple);
}

/* RFC 6528 3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a timer ticking every 4 microseconds. */
uint32_t isn_generate(const struct isn_key *key, const struct tcp_endpoints *ep,
                      uint64_t now_us)
{
    return (uint32_t)(now_us / 4) + (uint32_t)endpoints_hash(key, ep);
}
