/* SYN cookies: see syncookie.h. */
#include <string.h>

#include "syncookie.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define COOKIE_MAX_AGE 2            /* minutes (Linux: MAX_SYNCOOKIE_AGE) */
#define MINUTE_US 60000000ull
#define TS_OPT_BITS 6               /* Linux: TSBITS */
#define TS_OPT_MASK ((1u << TS_OPT_BITS) - 1)
#define TS_NO_WSCALE 0xf
#define TS_SACK_BIT 0x10

/* MSS values a cookie can carry (Linux's four, and those of larger MTUs). */
static const uint16_t mss_table[] = { 536, 1300, 1440, 1460, 4036, 8960, 16344, 65480 };
#define MSS_TABLE_LEN (sizeof mss_table / sizeof mss_table[0])

static uint32_t cookie_hash(const struct isn_key *key, const struct tcp_endpoints *ep,
                            uint32_t minute, uint32_t which)
{
    struct {
        uint32_t laddr, raddr;
        uint16_t lport, rport;
        uint32_t minute, which;
    } in;
    memset(&in, 0, sizeof in);
    in.laddr = ep->laddr;
    in.raddr = ep->raddr;
    in.lport = ep->lport;
    in.rport = ep->rport;
    in.minute = minute;
    in.which = which + 1;   /* 0 would hash as the connection table does */
    return (uint32_t)siphash24(key, &in, sizeof in);
}

uint32_t syncookie_make(const struct isn_key *key, const struct tcp_endpoints *ep, uint32_t seq,
                        uint16_t mss, uint64_t now_us)
{
    /* RFC 9293 3.7.1: no MSS option means 536 */
    if (!mss)
        mss = mss_table[0];
    uint32_t index = 0;
    while (index + 1 < MSS_TABLE_LEN && mss_table[index + 1] <= mss)
        index++;
    uint32_t minute = (uint32_t)(now_us / MINUTE_US);
    return cookie_hash(key, ep, 0, 0) + seq + (minute << COOKIE_BITS) +
           ((cookie_hash(key, ep, minute, 1) + index) & COOKIE_MASK);
}

bool syncookie_check(const struct isn_key *key, const struct tcp_endpoints *ep, uint32_t seq,
                     uint32_t ack, uint64_t now_us, struct syncookie_opts *out)
{
    uint32_t minute = (uint32_t)(now_us / MINUTE_US);
    uint32_t cookie = ack - 1 - (cookie_hash(key, ep, 0, 0) + (seq - 1));
    uint32_t age = (minute - (cookie >> COOKIE_BITS)) & (UINT32_MAX >> COOKIE_BITS);
    if (age >= COOKIE_MAX_AGE)
        return false;
    uint32_t index = (cookie - cookie_hash(key, ep, minute - age, 1)) & COOKIE_MASK;
    if (index >= MSS_TABLE_LEN)
        return false;
    *out = (struct syncookie_opts){ .mss = mss_table[index] };
    return true;
}

uint32_t syncookie_tsval(uint32_t ts_now, const struct tcp_options *syn)
{
    uint32_t opts = syn->has_wscale ? (syn->wscale < TS_NO_WSCALE ? syn->wscale : TCP_MAX_WSCALE)
                                    : TS_NO_WSCALE;
    if (syn->sack_permitted)
        opts |= TS_SACK_BIT;
    uint32_t ts = (ts_now & ~TS_OPT_MASK) | opts;
    /* Linux (cookie_init_timestamp): never ahead of the clock, or the
     * connection's next TSval would look older to the peer's PAWS */
    if ((int32_t)(ts - ts_now) > 0)
        ts -= TS_OPT_MASK + 1;
    return ts;
}

void syncookie_ts_options(uint32_t ts_ecr, struct syncookie_opts *out)
{
    uint32_t ws = ts_ecr & TS_NO_WSCALE;
    out->has_wscale = ws != TS_NO_WSCALE;
    out->wscale = out->has_wscale ? (uint8_t)ws : 0;
    out->sack_permitted = ts_ecr & TS_SACK_BIT;
}
