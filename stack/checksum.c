/* The Internet checksum (RFC 1071). The sum is byte-order independent
 * (RFC 1071 2(B)): words are added in the machine's order, 64 bits at a
 * time with end-around carry, and the folded result is converted to the
 * big-endian value once. Partial sums are host-order numbers. */
#include <string.h>

#include "wire.h"

/* Ones'-complement addition in 32 bits: 2^32 = 1 (mod 0xffff), so the
 * carry out goes back in at the bottom (RFC 1071 2(C)). */
static inline uint32_t add32(uint32_t a, uint32_t b)
{
    a += b;
    return a + (a < b);
}

/* Folds a 128-bit sum of native-order 64-bit words to the big-endian
 * 16-bit ones'-complement sum (not complemented). */
static uint16_t fold_wide(unsigned __int128 wide)
{
    uint64_t lo = (uint64_t)wide, hi = (uint64_t)(wide >> 64);
    uint64_t acc = lo + hi;
    acc += acc < hi;
    uint32_t s = add32((uint32_t)acc, (uint32_t)(acc >> 32));
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    uint16_t native = (uint16_t)s;
    uint8_t b[2];
    memcpy(b, &native, 2);
    return (uint16_t)(b[0] << 8 | b[1]);
}

/* The sum of len bytes at p, copying them to dst on the way when dst is
 * not NULL: one pass, so a cold source is read from memory only once.
 * 64-bit words go into a 128-bit accumulator: the carries collect in the
 * high half instead of forming a dependency chain. Loads and stores go
 * through memcpy, so any alignment is fine. Always inlined so that each
 * caller gets a loop without the dst test. */
static inline __attribute__((always_inline)) uint16_t
sum_bytes(uint8_t *dst, const uint8_t *p, size_t len)
{
    unsigned __int128 wide = 0;
    uint64_t w[4];
    for (; len >= sizeof w; p += sizeof w, len -= sizeof w) {
        memcpy(w, p, sizeof w);
        if (dst) {
            memcpy(dst, w, sizeof w);
            dst += sizeof w;
        }
        wide += w[0];
        wide += w[1];
        wide += w[2];
        wide += w[3];
    }
    /* the last 0..31 bytes, zero-padded, keep their place in the words */
    if (len) {
        memset(w, 0, sizeof w);
        memcpy(w, p, len);
        if (dst)
            memcpy(dst, p, len);
        wide += w[0];
        wide += w[1];
        wide += w[2];
        wide += w[3];
    }
    return fold_wide(wide);
}

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
    return add32(sum, sum_bytes(NULL, data, len));
}

uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum,
                   bool offset_odd)
{
    uint16_t s = sum_bytes(dst, src, len);
    /* Data at an odd offset lands in the other half of each 16-bit word:
     * swapping its sum is the same as summing it shifted (RFC 1071 2(B)). */
    if (offset_odd)
        s = (uint16_t)(s << 8 | s >> 8);
    return add32(sum, s);
}

uint16_t csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* RFC 9293 3.1: source, destination, zero + protocol, TCP length. */
uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
           proto + len;
}
