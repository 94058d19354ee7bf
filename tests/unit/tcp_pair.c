#include "tcp_pair.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void pair_emit(struct tcp_host *h, const struct tcp_endpoints *ep,
                      const struct tcp_segment *seg,
                      const struct tcp_payload *payload)
{
    (void)ep;
    struct pair_host *ph = (struct pair_host *)h;
    struct tcp_pair *p = ph->pair;
    int from = ph->side;
    p->sent[from]++;
    if (p->filter && !p->filter(p, from, seg))
        return;
    struct pair_seg *q = calloc(1, sizeof *q);
    uint32_t len = (uint32_t)tcp_payload_len(payload);
    q->seg = *seg;
    q->seg.len = len;
    q->data = malloc(len ? len : 1);
    if (len) {
        memcpy(q->data, payload->base[0], payload->len[0]);
        memcpy(q->data + payload->len[0], payload->base[1], payload->len[1]);
    }
    q->seg.data = q->data;
    q->to = !from;
    *p->tail = q;
    p->tail = &q->next;
}

void pair_init(struct tcp_pair *p, const struct tcp_config *cfg)
{
    memset(p, 0, sizeof *p);
    if (cfg)
        p->cfg = *cfg;
    else
        tcp_config_default(&p->cfg);
    p->tail = &p->head;
    p->now = 1000000;
    struct tcp_endpoints ep[2] = {
        { .laddr = 0x0a000001, .raddr = 0x0a000002, .lport = 1000, .rport = 2000 },
        { .laddr = 0x0a000002, .raddr = 0x0a000001, .lport = 2000, .rport = 1000 },
    };
    for (int i = 0; i < 2; i++) {
        p->host[i].host.cfg = &p->cfg;
        p->host[i].host.emit = pair_emit;
        p->host[i].pair = p;
        p->host[i].side = i;
        tcp_conn_init(&p->conn[i], &p->host[i].host, &ep[i], p->cfg.sndbuf, p->cfg.rcvbuf);
    }
}

void pair_free(struct tcp_pair *p)
{
    while (p->head) {
        struct pair_seg *q = p->head;
        p->head = q->next;
        free(q->data);
        free(q);
    }
    tcp_conn_destroy(&p->conn[0]);
    tcp_conn_destroy(&p->conn[1]);
}

void pair_deliver(struct tcp_pair *p)
{
    while (p->head) {
        struct pair_seg *q = p->head;
        p->head = q->next;
        if (!p->head)
            p->tail = &p->head;
        struct tcp_conn *c = &p->conn[q->to];
        if (c->state == TCP_CLOSED && q->seg.flags & TCP_SYN && !(q->seg.flags & TCP_ACK))
            tcp_open_passive(c, 0x10000000u * (unsigned)(q->to + 1));
        tcp_input(c, &q->seg, p->now);
        free(q->data);
        free(q);
    }
}

void pair_connect(struct tcp_pair *p)
{
    tcp_open_active(&p->conn[0], 0xfffffff0u, p->now);
    pair_deliver(p);
}

bool pair_run(struct tcp_pair *p, bool (*done)(struct tcp_pair *p, void *ctx),
              void *ctx, uint64_t limit_us)
{
    uint64_t end = p->now + limit_us;
    for (;;) {
        pair_deliver(p);
        if (done(p, ctx))
            return true;
        if (p->head)
            continue; /* done() made the connections send */
        uint64_t t0 = tcp_next_deadline(&p->conn[0]);
        uint64_t t1 = tcp_next_deadline(&p->conn[1]);
        uint64_t next = t0 && (!t1 || t0 < t1) ? t0 : t1;
        if (!next || next > end)
            return done(p, ctx);
        if (next > p->now)
            p->now = next;
        tcp_timer(&p->conn[0], p->now);
        tcp_timer(&p->conn[1], p->now);
    }
}
