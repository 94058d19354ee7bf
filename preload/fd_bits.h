/* One bit per fd number, set and read from any thread without a lock
 * (the interposer's marks: kernel inet sockets that may move, known stack
 * connections, listeners). fds past PRELOAD_MAX_FDS read as unset. */
#ifndef TUNTCP_FD_BITS_H
#define TUNTCP_FD_BITS_H

#include <stdbool.h>
#include <stdint.h>

#include "preload.h"

struct fd_bits {
    uint64_t w[PRELOAD_MAX_FDS / 64];
};

static inline bool fd_bit(const struct fd_bits *b, int fd)
{
    return fd >= 0 && fd < PRELOAD_MAX_FDS &&
           (__atomic_load_n(&b->w[fd / 64], __ATOMIC_RELAXED) >> (fd % 64) & 1);
}

static inline void fd_bit_set(struct fd_bits *b, int fd, bool on)
{
    if (fd < 0 || fd >= PRELOAD_MAX_FDS || fd_bit(b, fd) == on)
        return;
    uint64_t bit = 1ull << (fd % 64);
    if (on)
        __atomic_fetch_or(&b->w[fd / 64], bit, __ATOMIC_RELAXED);
    else
        __atomic_fetch_and(&b->w[fd / 64], ~bit, __ATOMIC_RELAXED);
}

#endif
