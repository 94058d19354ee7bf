#include "impair.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static bool chance(struct impair_link *l, double p)
{
    return rng_chance(&l->rng, p);
}

static int impair_send(struct link *link, const uint8_t *pkt, size_t len)
{
    struct impair_link *l = (struct impair_link *)link;
    if (chance(l, l->cfg.loss))
        return 0;
    if (!l->held_out_len && len <= link->mtu && chance(l, l->cfg.reorder)) {
        memcpy(l->held_out, pkt, len);
        l->held_out_len = len;
        return 0;
    }
    int rc = l->inner->send(l->inner, pkt, len);
    if (chance(l, l->cfg.dup))
        l->inner->send(l->inner, pkt, len);
    impair_flush(l);   /* a held packet goes after this one */
    return rc;
}

static ssize_t impair_recv(struct link *link, uint8_t *buf, size_t cap)
{
    struct impair_link *l = (struct impair_link *)link;
    if (l->held_in_len) {
        size_t n = l->held_in_len < cap ? l->held_in_len : cap;
        memcpy(buf, l->held_in, n);
        l->held_in_len = 0;
        return (ssize_t)n;
    }
    for (;;) {
        ssize_t n = l->inner->recv(l->inner, buf, cap);
        if (n <= 0)
            return n;
        if (chance(l, l->cfg.loss))
            continue;
        if ((size_t)n <= link->mtu && chance(l, l->cfg.dup)) {
            memcpy(l->held_in, buf, (size_t)n);
            l->held_in_len = (size_t)n;
        } else if ((size_t)n <= link->mtu && chance(l, l->cfg.reorder)) {
            /* deliver the next packet first, if one is there */
            memcpy(l->held_in, buf, (size_t)n);
            ssize_t m = l->inner->recv(l->inner, buf, cap);
            if (m > 0) {
                l->held_in_len = (size_t)n;
                return m;
            }
            memcpy(buf, l->held_in, (size_t)n);
        }
        return n;
    }
}

int impair_init(struct impair_link *l, struct link *inner, const struct impair_config *cfg)
{
    memset(l, 0, sizeof *l);
    l->link = (struct link){ .send = impair_send, .recv = impair_recv, .mtu = inner->mtu };
    l->inner = inner;
    l->cfg = *cfg;
    l->rng = cfg->seed;
    l->held_out = malloc(inner->mtu);
    l->held_in = malloc(inner->mtu);
    if (!l->held_out || !l->held_in) {
        impair_free(l);
        return -ENOMEM;
    }
    return 0;
}

void impair_free(struct impair_link *l)
{
    free(l->held_out);
    free(l->held_in);
    l->held_out = l->held_in = NULL;
}

void impair_flush(struct impair_link *l)
{
    if (l->held_out_len) {
        l->inner->send(l->inner, l->held_out, l->held_out_len);
        l->held_out_len = 0;
    }
}
