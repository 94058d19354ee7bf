/* Byte ring buffer for a connection's send and receive data. */
#include "ring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ring_init(struct ring *r, uint32_t cap)
{
    r->buf = malloc(cap ? cap : 1);
    if (!r->buf)
        return -ENOMEM;
    r->cap = cap;
    r->head = 0;
    r->len = 0;
    return 0;
}

void ring_free(struct ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}

/* Position of the byte `offset` past the head. */
static uint32_t ring_pos(const struct ring *r, uint32_t offset)
{
    uint32_t pos = r->head + offset;
    return pos >= r->cap ? pos - r->cap : pos;
}

void ring_view(const struct ring *r, uint32_t offset, uint32_t len,
               const uint8_t *base[2], uint32_t piece_len[2])
{
    if (!r->buf) {   /* freed (TIME-WAIT): nothing to show */
        base[0] = base[1] = NULL;
        piece_len[0] = piece_len[1] = 0;
        return;
    }
    uint32_t pos = ring_pos(r, offset);
    uint32_t first = r->cap - pos < len ? r->cap - pos : len;
    base[0] = r->buf + pos;
    piece_len[0] = first;
    base[1] = r->buf;
    piece_len[1] = len - first;
}

void ring_peek(const struct ring *r, uint32_t offset, void *dst, uint32_t len)
{
    const uint8_t *base[2];
    uint32_t n[2];
    ring_view(r, offset, len, base, n);
    memcpy(dst, base[0], n[0]);
    memcpy((uint8_t *)dst + n[0], base[1], n[1]);
}

void ring_write_at(struct ring *r, uint32_t offset, const void *src, uint32_t len)
{
    uint32_t pos = ring_pos(r, r->len + offset);
    uint32_t first = r->cap - pos < len ? r->cap - pos : len;
    memcpy(r->buf + pos, src, first);
    memcpy(r->buf, (const uint8_t *)src + first, len - first);
}

void ring_commit(struct ring *r, uint32_t n)
{
    r->len += n;
}

uint32_t ring_write(struct ring *r, const void *src, uint32_t len)
{
    if (len > ring_space(r))
        len = ring_space(r);
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

int ring_resize(struct ring *r, uint32_t cap)
{
    if (cap < r->len)
        cap = r->len;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        return -ENOMEM;
    ring_peek(r, 0, buf, r->len);
    free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
    return 0;
}
