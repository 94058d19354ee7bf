/* The Internet checksum (RFC 1071). The sum is byte-order independent
 * (RFC 1071 2(B)): words are added in the machine's order, 64 bits at a
 * time with end-around carry, and the folded result is converted to the
 * big-endian value once. Partial sums are host-order numbers. */
#include <string.h>

#include "wire.h"

static inline uint64_t add_carry(uint64_t acc, uint64_t w)
{
    acc += w;
    return acc + (acc < w);
}

/* The ones'-complement sum of len bytes, as the big-endian 16-bit value.
 * 64-bit words go into a 128-bit accumulator: the carries collect in the
 * high half instead of forming a dependency chain, and are added back
 * once at the end. */
static uint16_t sum16(const uint8_t *p, size_t len)
{
    unsigned __int128 wide = 0;
    uint64_t w[4];
    for (; len >= 32; p += 32, len -= 32) {
        memcpy(w, p, 32);
        wide += w[0];
        wide += w[1];
        wide += w[2];
        wide += w[3];
    }
    for (; len >= 8; p += 8, len -= 8) {
        memcpy(w, p, 8);
        wide += w[0];
    }
    /* the tail, zero-padded to 8 bytes, keeps its position in the word */
    if (len) {
        w[0] = 0;
        memcpy(w, p, len);
        wide += w[0];
    }
    uint64_t acc = add_carry((uint64_t)wide, (uint64_t)(wide >> 64));
    uint32_t s = (uint32_t)(acc & 0xffffffffu);
    s += (uint32_t)(acc >> 32);
    if (s < (uint32_t)(acc >> 32))
        s++;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    uint16_t native = (uint16_t)s;
    uint8_t b[2];
    memcpy(b, &native, 2);
    return (uint16_t)(b[0] << 8 | b[1]);
}

static inline uint16_t swap16(uint16_t v)
{
    return (uint16_t)(v << 8 | v >> 8);
}

uint32_t csum_partial(const void *data, size_t len, uint32_t sum)
{
    return sum + sum16(data, len);
}

uint32_t csum_copy(void *dst, const void *src, size_t len, uint32_t sum,
                   bool offset_odd)
{
    /* Copy, then sum the copy while it is in the L1 cache. Data at an odd
     * offset lands in the other half of each word: swapping the 16-bit
     * sum is the same as summing it shifted (RFC 1071 2(B)). */
    memcpy(dst, src, len);
    uint16_t s = sum16(dst, len);
    return sum + (offset_odd ? swap16(s) : s);
}

uint16_t csum_fold(uint32_t sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

uint32_t csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
           proto + len;
}
