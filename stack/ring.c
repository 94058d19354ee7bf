/* Byte ring buffer for a connection's send and receive data. */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ring_init(struct ring *r, uint32_t cap)
{
    *r = (struct ring){ .cap = cap };
}

void ring_free(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->alloc = r->head = r->len = 0;
}

/* Position of the byte `offset` past the head. */
static uint32_t ring_pos(const struct ring *r, uint32_t offset)
{
    uint32_t pos = r->head + offset;
    return pos >= r->alloc ? pos - r->alloc : pos;
}

void ring_view(const struct ring *r, uint32_t offset, uint32_t len,
               const uint8_t *base[2], uint32_t piece_len[2])
{
    if (!r->buf) {   /* nothing allocated: nothing to show */
        base[0] = base[1] = NULL;
        piece_len[0] = piece_len[1] = 0;
        return;
    }
    uint32_t pos = ring_pos(r, offset);
    uint32_t first = r->alloc - pos < len ? r->alloc - pos : len;
    base[0] = r->buf + pos;
    piece_len[0] = first;
    base[1] = r->buf;
    piece_len[1] = len - first;
}

void ring_peek(const struct ring *r, uint32_t offset, void *dst, uint32_t len)
{
    const uint8_t *base[2];
    uint32_t n[2];
    if (!len)
        return;
    ring_view(r, offset, len, base, n);
    memcpy(dst, base[0], n[0]);
    memcpy((uint8_t *)dst + n[0], base[1], n[1]);
}

void ring_write_at(struct ring *r, uint32_t offset, const void *src, uint32_t len)
{
    if (!len)
        return;
    uint32_t pos = ring_pos(r, r->len + offset);
    uint32_t first = r->alloc - pos < len ? r->alloc - pos : len;
    memcpy(r->buf + pos, src, first);
    memcpy(r->buf, (const uint8_t *)src + first, len - first);
}

void ring_commit(struct ring *r, uint32_t n)
{
    r->len += n;
}

uint32_t ring_write(struct ring *r, const void *src, uint32_t len)
{
    if (len > ring_room(r))
        len = ring_room(r);
    ring_write_at(r, 0, src, len);
    r->len += len;
    return len;
}

void ring_consume(struct ring *r, uint32_t n)
{
    r->head = ring_pos(r, n);
    r->len -= n;
    /* head stays put even when empty: the receive ring keeps
     * out-of-order bytes beyond the tail, at positions relative to it. */
}

int ring_realloc(struct ring *r, uint32_t alloc, uint32_t keep)
{
    uint8_t *buf = malloc(alloc);
    if (!buf)
        return -ENOMEM;
    ring_peek(r, 0, buf, keep);
    free(r->buf);
    r->buf = buf;
    r->alloc = alloc;
    r->head = 0;
    return 0;
}
