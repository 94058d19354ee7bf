/* A byte ring buffer: the send and receive buffers of a connection. */
#ifndef TUNTCP_RING_H
#define TUNTCP_RING_H

#include <stddef.h>
#include <stdint.h>

struct ring {
    uint8_t *buf;
    uint32_t cap;   /* bytes allocated */
    uint32_t head;  /* offset of the first byte held */
    uint32_t len;   /* bytes held */
};

int ring_init(struct ring *r, uint32_t cap); /* 0 or -ENOMEM */
void ring_free(struct ring *r);
static inline uint32_t ring_space(const struct ring *r) { return r->cap - r->len; }
/* Appends up to len bytes; returns how many were appended. */
uint32_t ring_write(struct ring *r, const void *src, uint32_t len);
/* Writes len bytes at `offset` past the held bytes (offset 0 = the tail);
 * the caller guarantees offset + len <= ring_space(). Used to place
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
/* Changes the capacity (it never drops held bytes: cap >= len). */
int ring_resize(struct ring *r, uint32_t cap);

#endif
