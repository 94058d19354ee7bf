/* A byte ring buffer: the send and receive buffers of a connection. Its
 * size (cap, the socket's buffer size) is what it may hold; the memory
 * behind it is allocated only as data comes, and grown (tcp_mem.c). */
#ifndef TUNTCP_RING_H
#define TUNTCP_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    uint32_t cap;   /* the most it may hold */
    uint32_t alloc; /* bytes allocated (0: none), at most cap */
    uint32_t head;  /* offset of the first byte held */
    uint32_t len;   /* bytes held */
};

/* A ring of size cap with nothing allocated. */
void ring_init(struct ring *r, uint32_t cap);
/* Frees the allocation (nothing is held any more); the size stays. */
void ring_free(struct ring *r);
/* Room left by the ring's size. */
static inline uint32_t ring_space(const struct ring *r) { return r->cap - r->len; }
/* Room left in the allocation now. */
static inline uint32_t ring_room(const struct ring *r) { return r->alloc - r->len; }
/* Appends up to len bytes (as ring_room allows); returns how many. */
uint32_t ring_write(struct ring *r, const void *src, uint32_t len);
/* Writes len bytes at `offset` past the held bytes (offset 0 = the tail);
 * the caller guarantees offset + len <= ring_room(). Used to place
 * out-of-order data. */
void ring_write_at(struct ring *r, uint32_t offset, const void *src, uint32_t len);
/* Marks n bytes written by ring_write_at (at offset 0) as held. */
void ring_commit(struct ring *r, uint32_t n);
/* Copies len bytes starting `offset` past the head, without consuming. */
void ring_peek(const struct ring *r, uint32_t offset, void *dst, uint32_t len);
/* Describes len bytes at `offset` past the head as up to two pieces. */
void ring_view(const struct ring *r, uint32_t offset, uint32_t len,
               const uint8_t *base[2], uint32_t piece_len[2]);
void ring_consume(struct ring *r, uint32_t n);
/* Moves the contents to a new allocation of `alloc` bytes (at most cap),
 * keeping the first `keep` bytes from the head: those held and, beyond
 * them, what the caller placed there (out-of-order data); keep <= both
 * allocations. 0 or -ENOMEM (then nothing changed). */
int ring_realloc(struct ring *r, uint32_t alloc, uint32_t keep);

#endif
