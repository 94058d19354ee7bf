/* The stack: packets in from the link and out through it, timers, and
 * the life of sockets (creation, listener queues, freeing). The socket
 * calls are in stack_api.c. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "bytes.h"
#include "gso.h"
#include "stack_internal.h"
#include "syncookie.h"

#define RX_CAP 65536

void stack_config_default(struct stack_config *cfg)
{
    *cfg = (struct stack_config){
        .ephemeral_lo = 32768,
        .ephemeral_hi = 60999,
        .syn_backlog = 256,
        .syncookies = true,
        .max_backlog = 4096,
        .random_isn_key = true,
    };
    tcp_config_default(&cfg->tcp);
}

static void count_drop(struct stack *s, enum drop_reason r)
{
    s->stats.drops[r]++;
}

/* What the loopback may hold; past it a packet is lost (and counted), as
 * a full queue drops. */
#define LOOP_MAX_BYTES (4u << 20)

struct loop_packet {
    struct loop_packet *next;
    size_t len;
    uint8_t data[];
};

/* Keeps s->tx for input at the next stack_timers (RFC 1122 3.2.1.3: a
 * host's datagrams to itself are delivered locally, as Linux's loopback
 * does: a connection to our own address completes, even to its own port,
 * as a simultaneous open). */
static int loop_push(struct stack *s, size_t len)
{
    struct loop_packet *p;
    if (s->loop_bytes + len > LOOP_MAX_BYTES || !(p = malloc(sizeof *p + len)))
        return -1;
    p->next = NULL;
    p->len = len;
    memcpy(p->data, s->tx, len);
    *s->loop_tail = p;
    s->loop_tail = &p->next;
    s->loop_bytes += len;
    return 0;
}

/* Input of the packets looped so far (not those their input loops). */
static void loop_drain(struct stack *s, uint64_t now)
{
    struct loop_packet *p = s->loop_head;
    s->loop_head = NULL;
    s->loop_tail = &s->loop_head;
    while (p) {
        struct loop_packet *next = p->next;
        s->loop_bytes -= p->len;
        stack_input(s, p->data, p->len, now);
        free(p);
        p = next;
    }
}

void stack_flush(struct stack *s)
{
    if (!s->gso.len)
        return;
    struct gso_hdr h;
    unsigned segs = s->gso.segs;
    int pieces = gso_finish(&s->gso, &h);
    if (s->link->send_gso(s->link, &h, s->gso.iov, pieces) < 0) {
        s->stats.link_errors++;
        return;
    }
    s->stats.ip_out += segs;
    s->stats.gso_out += segs > 1;
}

static void link_send(struct stack *s, size_t len)
{
    stack_flush(s);   /* what was emitted before goes first */
    bool to_us = len >= IPV4_HDR_LEN && get_be32(s->tx + 16) == s->cfg.addr;
    if ((to_us ? loop_push(s, len) : s->link->send(s->link, s->tx, len)) < 0)
        s->stats.link_errors++;
    else
        s->stats.ip_out++;
}

/* On a link with offloads, a segment with data joins the super-packet
 * being built (gso.h) if it continues it, or starts the next one: the
 * segments a connection sends in one go leave as one packet, its payload
 * neither copied (it goes from the send buffer, which keeps it until
 * sndbuf_release) nor summed by anyone (NEEDS_CSUM: the kernel delivers
 * it locally without summing, or sums it with the copy it makes). */
static bool emit_offloaded(struct stack *s, const struct tcp_endpoints *ep,
                           const struct tcp_segment *seg, const struct tcp_payload *payload,
                           uint16_t ip_id)
{
    if (!s->link->send_gso || !payload || ep->raddr == s->cfg.addr)
        return false;
    size_t hl = tcp_build_header(s->tx, ep->laddr, ep->raddr, ip_id, seg,
                                 tcp_payload_len(payload));
    if (!hl)
        return false;
    if (gso_add(&s->gso, s->tx, hl, payload))
        return true;
    stack_flush(s);
    return gso_add(&s->gso, s->tx, hl, payload);
}

/* The tcp layer's output: one segment becomes one IP packet, or part of
 * a super-packet. */
static void emit_segment(struct tcp_host *h, const struct tcp_endpoints *ep,
                         const struct tcp_segment *seg,
                         const struct tcp_payload *payload)
{
    struct stack *s = (struct stack *)h;
    uint16_t ip_id = s->ip_id++;
    if (emit_offloaded(s, ep, seg, payload, ip_id))
        return;
    size_t n = tcp_build_packet(s->tx, s->tx_cap, ep->laddr, ep->raddr, ip_id, seg, payload);
    if (n)
        link_send(s, n);
    else
        s->stats.link_errors++; /* larger than the MTU: a bug, counted */
}

/* The super-packet being built points into c's send buffer: it goes
 * before the bytes it holds are released or the buffer moves. */
static void sndbuf_release(struct tcp_host *h, const struct tcp_conn *c, uint32_t upto)
{
    struct stack *s = (struct stack *)h;
    const struct tcp_endpoints *ep = &c->ep;
    if (gso_carries(&s->gso, ep->laddr, ep->raddr, ep->lport, ep->rport) &&
        seq_lt(s->gso.first_seq, upto))
        stack_flush(s);
}

struct stack *stack_new(const struct stack_config *cfg, struct link *link)
{
    /* RFC 791: every IPv4 host takes 576-byte datagrams; below 68 + 40
     * there is no room for a TCP segment. */
    if (link->mtu < 68 + 40 || cfg->ephemeral_lo == 0 ||
        cfg->ephemeral_lo > cfg->ephemeral_hi) {
        errno = EINVAL;
        return NULL;
    }
    struct stack *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->cfg = *cfg;
    s->loop_tail = &s->loop_head;
    s->cfg.tcp.mss = link->mtu - IPV4_HDR_LEN - TCP_HDR_LEN;
    s->link = link;
    s->host.cfg = &s->cfg.tcp;
    s->host.emit = emit_segment;
    s->host.sndbuf_release = sndbuf_release;
    s->tx_cap = link->mtu;
    s->rx_cap = RX_CAP;
    s->tx = malloc(s->tx_cap);
    s->rx = malloc(s->rx_cap);
    int err = 0;
    if (cfg->random_isn_key)
        err = isn_key_random(&s->cfg.isn_key);
    if (!err && (!s->tx || !s->rx ||
                 tuple_table_init(&s->conns, offsetof(struct sock, ep) -
                                                 offsetof(struct sock, hash_node)) < 0 ||
                 tuple_table_init(&s->time_waits, offsetof(struct time_wait, tcb.ep) -
                                                      offsetof(struct time_wait, hash_node)) < 0))
        err = -ENOMEM;
    if (err) {
        stack_free(s);
        errno = -err;
        return NULL;
    }
    return s;
}

void stack_free(struct stack *s)
{
    if (!s)
        return;
    while (s->all)
        sock_free(s, hnode_entry(s->all, struct sock, all_node));
    while (s->loop_head) {
        struct loop_packet *next = s->loop_head->next;
        free(s->loop_head);
        s->loop_head = next;
    }
    while (s->tw_oldest)
        time_wait_free(s, s->tw_oldest);
    tuple_table_free(&s->conns);
    tuple_table_free(&s->time_waits);
    free(s->heap);
    free(s->acks);
    free(s->tx);
    free(s->rx);
    free(s);
}

/* ---- sockets ---- */

struct sock *sock_new(struct stack *s)
{
    if (heap_reserve(s, s->socks + 1) < 0 ||
        array_reserve(&s->acks, &s->acks_cap, s->socks + 1, sizeof *s->acks) < 0)
        return NULL;
    struct sock *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    const struct tcp_config *t = &s->cfg.tcp;
    k->kind = SOCK_FRESH;
    k->opts = (struct sock_opts){
        .sndbuf = t->sndbuf, .rcvbuf = t->rcvbuf,
        .ka_idle_us = t->keepalive_idle_us, .ka_intvl_us = t->keepalive_intvl_us,
        .ka_cnt = t->keepalive_cnt,
        .rcvlowat = 1,
        .cc = t->cc,
    };
    k->heap_idx = SIZE_MAX;
    hlist_add(&s->all, &k->all_node);
    s->socks++;
    return k;
}

static void queue_push(struct sock_queue *q, struct sock *k)
{
    k->queue = q;
    k->q_next = NULL;
    k->q_prev = q->tail;
    if (q->tail)
        q->tail->q_next = k;
    else
        q->head = k;
    q->tail = k;
    q->count++;
}

static void queue_unlink(struct sock *k)
{
    struct sock_queue *q = k->queue;
    if (!q)
        return;
    if (k->q_prev)
        k->q_prev->q_next = k->q_next;
    else
        q->head = k->q_next;
    if (k->q_next)
        k->q_next->q_prev = k->q_prev;
    else
        q->tail = k->q_prev;
    q->count--;
    k->queue = NULL;
    k->q_prev = k->q_next = NULL;
}

/* Takes the first socket off a queue (NULL if empty). */
static struct sock *queue_pop(struct sock_queue *q)
{
    struct sock *k = q->head;
    if (k)
        queue_unlink(k);
    return k;
}

/* Frees a listener's state and children; with `now`, the children
 * are reset first (Linux: connections nobody accepted are reset). */
static void listener_free(struct stack *s, struct listener *l, const uint64_t *now)
{
    struct sock *child;
    while ((child = queue_pop(&l->syn_q)) || (child = queue_pop(&l->accept_q))) {
        if (now)
            tcp_abort(&child->conn, *now);
        sock_free(s, child);
    }
    hlist_del(&l->node);
    l->sock->listener = NULL;
    l->sock->kind = SOCK_FRESH;
    free(l);
}

void sock_free(struct stack *s, struct sock *k)
{
    if (k->kind == SOCK_LISTENER)
        listener_free(s, k->listener, NULL);
    if (k->kind == SOCK_CONN) {
        table_remove(s, k);
        if (k->conn.ack_deferred)
            for (size_t i = 0; i < s->nacks; i++)
                if (s->acks[i] == k)
                    s->acks[i] = s->acks[--s->nacks];
        tcp_conn_destroy(&k->conn);
    }
    hlist_del(&k->port_node);
    heap_set(s, k, 0);
    queue_unlink(k);
    hlist_del(&k->all_node);
    s->socks--;
    free(k);
}

void stack_conn_init(struct stack *s, struct sock *k, const struct sock *from,
                     const struct tcp_endpoints *ep)
{
    k->opts = from->opts;
    tcp_conn_init(&k->conn, &s->host, ep, k->opts.sndbuf, k->opts.rcvbuf);
    k->conn.rcvbuf_locked = k->opts.rcvbuf_locked;
    k->kind = SOCK_CONN;
    k->ep = *ep;
    struct tcp_conn *c = &k->conn;
    c->nodelay = k->opts.nodelay;
    c->keepalive = k->opts.keepalive;
    c->ka_idle_us = k->opts.ka_idle_us;
    c->ka_intvl_us = k->opts.ka_intvl_us;
    c->ka_cnt = k->opts.ka_cnt;
    c->mss_clamp = k->opts.maxseg;
    c->cork = k->opts.cork;
    c->ip_tos = k->opts.tos;
    c->ip_ttl = k->opts.ttl;
    c->user_timeout_us = (uint64_t)k->opts.user_timeout_ms * 1000u;
    c->cc = k->opts.cc;
}

int listener_start(struct stack *s, struct sock *k, unsigned backlog)
{
    struct listener *l = calloc(1, sizeof *l);
    if (!l)
        return -ENOMEM;
    l->sock = k;
    l->backlog = backlog;
    k->listener = l;
    k->kind = SOCK_LISTENER;
    listener_insert(s, l);
    return 0;
}

void listener_stop(struct stack *s, struct sock *k, uint64_t now)
{
    listener_free(s, k->listener, &now);
}

static void notify_if_changed(struct stack *s, struct sock *k)
{
    if (k->parent || k->released)
        return;
    unsigned mask = stack_poll(s, k);
    enum tcp_state state = stack_sock_state(s, k);
    if (mask != k->poll_seen || state != k->state_seen) {
        k->poll_seen = mask;
        k->state_seen = state;
        if (s->notify)
            s->notify(s->notify_ctx, k);
    }
}

struct sock *listener_take(struct stack *s, struct listener *l)
{
    struct sock *k = queue_pop(&l->accept_q);
    if (!k)
        return NULL;
    k->parent = NULL;
    notify_if_changed(s, l->sock);
    sock_settle(s, k);
    return k;
}

/* Linux TCP_DEFER_ACCEPT (tcp_check_req): a child whose handshake ended
 * with a bare ACK waits for its first data or FIN, or the period's end. */
static bool child_held(const struct sock *k)
{
    return k->defer_until && !(tcp_poll(&k->conn) & POLLIN);
}

/* A listener's child: handshake done moves it to the accept queue; a
 * handshake that failed frees it. Returns false if k was freed. */
static bool child_settle(struct stack *s, struct sock *k)
{
    struct listener *parent = k->parent;
    if (k->queue != &parent->syn_q)
        return true;
    if (tcp_is_closed(&k->conn)) {
        sock_free(s, k);
        return false;
    }
    if (k->conn.state >= TCP_ESTABLISHED && !child_held(k)) {
        k->defer_until = 0;
        queue_unlink(k);
        queue_push(&parent->accept_q, k);
        notify_if_changed(s, parent->sock);
    }
    return true;
}

void sock_settle(struct stack *s, struct sock *k)
{
    if (k->kind != SOCK_CONN) {
        notify_if_changed(s, k);
        return;
    }
    struct tcp_conn *c = &k->conn;
    if (c->state >= TCP_ESTABLISHED)
        k->was_connected = true;
    if (k->parent && !child_settle(s, k))
        return;
    if (k->released && c->state == TCP_TIME_WAIT && time_wait_enter(s, k)) {
        sock_free(s, k);
        return;
    }
    if (tcp_is_closed(c)) {
        /* Over: the 4-tuple is free again; the socket stays for the
         * user to read the outcome until it is released. */
        table_remove(s, k);
        heap_set(s, k, 0);
        if (k->released) {
            sock_free(s, k);
            return;
        }
    } else {
        uint64_t t = tcp_next_deadline(c);
        heap_set(s, k, k->defer_until && (!t || k->defer_until < t) ? k->defer_until : t);
    }
    notify_if_changed(s, k);
}

/* ---- packets in ---- */

/* RFC 9293 3.10.7.2 (LISTEN) for segments that create no connection:
 * one LISTEN tcp_conn per SYN keeps the listener itself stateless. */
/* A connection for listener l to open with the peer ep (NULL, counted as
 * a backlog drop, when memory runs out), then its place in l's SYN queue
 * once opened. */
static struct sock *child_new(struct stack *s, struct listener *l,
                              const struct tcp_endpoints *ep)
{
    struct sock *k = sock_new(s);
    if (!k) {
        count_drop(s, DROP_TCP_BACKLOG);
        return NULL;
    }
    stack_conn_init(s, k, l->sock, ep);
    return k;
}

static void child_queue(struct stack *s, struct listener *l, struct sock *k)
{
    table_insert(s, k);
    port_add(s, k);
    k->parent = l;
    queue_push(&l->syn_q, k);
}

/* ---- SYN cookies (syncookie.h) ---- */

/* Cookie ACKs are taken only this long after the last cookie went out
 * (Linux: tcp_synq_no_recent_overflow), so that ACKs guessing at cookies
 * find nothing to guess at while the queue is not overflowing. */
#define COOKIE_RECENT_US (2 * 60 * 1000000ull)

static void cookie_answer(struct stack *s, struct listener *l, const struct tcp_endpoints *ep,
                          const struct tcp_segment *syn, uint64_t now)
{
    uint32_t iss = syncookie_make(&s->cfg.isn_key, ep, syn->seq,
                                  syn->opt.has_mss ? syn->opt.mss : 0, now);
    struct tcp_conn c;
    tcp_conn_init(&c, &s->host, ep, l->sock->opts.sndbuf, l->sock->opts.rcvbuf);
    c.rcvbuf_locked = l->sock->opts.rcvbuf_locked;
    c.mss_clamp = l->sock->opts.maxseg;
    tcp_answer_with_cookie(&c, iss, syn, now);
    l->cookie_sent_at = now;
    s->host.stats.syncookies_sent++;
}

static bool cookie_valid(struct stack *s, const struct listener *l, const struct tcp_endpoints *ep,
                         const struct tcp_segment *seg, uint64_t now, struct syncookie_opts *o)
{
    if (seg->flags & (TCP_SYN | TCP_RST) || !l->cookie_sent_at ||
        now - l->cookie_sent_at > COOKIE_RECENT_US)
        return false;
    if (!syncookie_check(&s->cfg.isn_key, ep, seg->seq, seg->ack, now, o)) {
        s->host.stats.syncookies_failed++;
        return false;
    }
    /* the options our TSval carried come back as the TSecr */
    if (seg->opt.has_ts && s->cfg.tcp.timestamps)
        syncookie_ts_options(seg->opt.ts_ecr, o);
    return true;
}

/* The connection a valid cookie ACK stands for, in SYN-RECEIVED: the
 * caller's input of the ACK establishes it. */
static struct sock *cookie_open(struct stack *s, struct listener *l, const struct tcp_endpoints *ep,
                                const struct tcp_segment *ack, const struct syncookie_opts *o,
                                uint64_t now)
{
    struct sock *k = child_new(s, l, ep);
    if (!k)
        return NULL;
    /* the SYN as the cookie remembers it */
    struct tcp_segment syn = {
        .sport = ack->sport, .dport = ack->dport, .seq = ack->seq - 1, .flags = TCP_SYN,
        .wnd = ack->wnd,
        .opt = { .has_mss = true, .mss = o->mss, .has_wscale = o->has_wscale,
                 .wscale = o->wscale, .sack_permitted = o->sack_permitted,
                 .has_ts = ack->opt.has_ts, .ts_val = ack->opt.ts_val },
    };
    tcp_open_cookie(&k->conn, ack->ack - 1, &syn, now);
    child_queue(s, l, k);
    s->host.stats.syncookies_ok++;
    return k;
}

static struct sock *listen_input(struct stack *s, struct listener *l,
                                 const struct tcp_endpoints *ep,
                                 const struct tcp_segment *seg, uint64_t now)
{
    if (seg->flags & TCP_RST) {            /* first: ignore a RST */
        count_drop(s, DROP_TCP_STATE);
        return NULL;
    }
    if (seg->flags & TCP_ACK) {
        /* RFC 4987 3.6: the ACK of a SYN cookie makes the connection */
        struct syncookie_opts o;
        if (cookie_valid(s, l, ep, seg, now, &o)) {
            if (l->accept_q.count > l->backlog) {   /* Linux: dropped, no RST */
                count_drop(s, DROP_TCP_BACKLOG);
                return NULL;
            }
            return cookie_open(s, l, ep, seg, &o, now);
        }
        tcp_reply_reset(&s->host, ep, seg);     /* second: <SEQ=SEG.ACK><CTL=RST> */
        count_drop(s, DROP_TCP_STATE);
        return NULL;
    }
    if (!(seg->flags & TCP_SYN)) {         /* fourth: anything else */
        count_drop(s, DROP_TCP_STATE);
        return NULL;
    }
    /* Linux: a SYN is dropped (the peer retries) while the accept queue
     * is full, or the SYN queue without SYN cookies; with them a full SYN
     * queue answers with a cookie and keeps nothing. */
    if (l->accept_q.count > l->backlog ||
        (l->syn_q.count >= s->cfg.syn_backlog && !s->cfg.syncookies)) {
        count_drop(s, DROP_TCP_BACKLOG);
        return NULL;
    }
    if (l->syn_q.count >= s->cfg.syn_backlog) {
        cookie_answer(s, l, ep, seg, now);
        return NULL;
    }
    struct sock *k = child_new(s, l, ep);
    if (!k)
        return NULL;
    tcp_open_passive(&k->conn, isn_generate(&s->cfg.isn_key, ep, now));
    child_queue(s, l, k);
    if (l->sock->defer_accept)   /* Linux: the period runs from the SYN-ACK */
        k->defer_until = now + defer_accept_period_us(l->sock);
    return k;
}

/* A connection still open by its user in TIME-WAIT, judged as its
 * record would be (tcp_time_wait_reusable). */
static bool conn_reusable(const struct tcp_conn *c, const struct tcp_segment *seg)
{
    struct tcp_time_wait tw;
    if (c->state != TCP_TIME_WAIT)
        return false;
    tcp_time_wait_save(c, &tw);
    return tcp_time_wait_reusable(&tw, seg);
}

/* A segment for a TIME-WAIT record: answered by it, unless it is a SYN
 * that reopens the 4-tuple for a listener (returned). */
static struct listener *time_wait_segment(struct stack *s, struct time_wait *tw,
                                          const struct tcp_segment *seg, uint64_t now)
{
    struct listener *l;
    if (tcp_time_wait_reusable(&tw->tcb, seg) && (l = table_listener(s, &tw->tcb.ep))) {
        time_wait_free(s, tw);
        return l;
    }
    time_wait_input(s, tw, seg, now);
    return NULL;
}

/* csum_trusted: the link vouched for the checksum (gso.h). */
static void tcp_packet_input(struct stack *s, const struct ipv4_packet *ip, bool csum_trusted,
                             uint64_t now)
{
    struct tcp_segment seg;
    enum drop_reason r = tcp_parse_csum(ip->payload, ip->payload_len, ip->src, ip->dst,
                                        !csum_trusted, &seg);
    s->stats.tcp_in++;
    if (r != DROP_NONE) {
        count_drop(s, r);
        return;
    }
    struct tcp_endpoints ep = {
        .laddr = ip->dst, .raddr = ip->src, .lport = seg.dport, .rport = seg.sport,
    };
    struct sock *k = table_lookup(s, &ep);
    struct listener *l = NULL;
    struct time_wait *tw;
    if (!k && (tw = time_wait_lookup(s, &ep))) {
        if (!(l = time_wait_segment(s, tw, &seg, now)))
            return;
    }
    if (k && conn_reusable(&k->conn, &seg) && (l = table_listener(s, &ep))) {
        tcp_abort(&k->conn, now);
        sock_settle(s, k);
        k = NULL;
    }
    if (k) {
        /* Linux: the ACK completing a handshake is dropped while the
         * accept queue is full; the SYN-ACK is retransmitted later. So is
         * the first data or FIN of a child TCP_DEFER_ACCEPT holds (Linux
         * makes the child only then: tcp_check_req); the peer resends. */
        bool completes = k->conn.state == TCP_SYN_RECEIVED ||
                         (k->defer_until && (seg.len || (seg.flags & TCP_FIN)));
        if (k->parent && completes &&
            (seg.flags & (TCP_ACK | TCP_RST | TCP_SYN)) == TCP_ACK &&
            k->parent->accept_q.count > k->parent->backlog) {
            count_drop(s, DROP_TCP_BACKLOG);
            return;
        }
        tcp_input(&k->conn, &seg, now);
        sock_settle(s, k);
        return;
    }
    if (!l)
        l = table_listener(s, &ep);
    if (!l) {
        /* RFC 9293 3.10.7.1: CLOSED, a RST answers anything but a RST */
        tcp_reply_reset(&s->host, &ep, &seg);
        count_drop(s, DROP_TCP_NO_SOCKET);
        return;
    }
    k = listen_input(s, l, &ep, &seg, now);
    if (k) {
        tcp_input(&k->conn, &seg, now);
        sock_settle(s, k);
    }
}

static void icmp_packet_input(struct stack *s, const struct ipv4_packet *ip, uint64_t now)
{
    struct icmp_message m;
    enum drop_reason r = icmp_parse(ip->payload, ip->payload_len, &m);
    s->stats.icmp_in++;
    if (r != DROP_NONE) {
        count_drop(s, r);
        return;
    }
    switch (m.type) {
    case ICMP_ECHO_REQUEST: {
        /* RFC 1122 3.2.2.6: every host answers echo requests */
        size_t n = icmp_build_echo_reply(s->tx, s->tx_cap, s->cfg.addr, ip->src,
                                         s->ip_id++, &m);
        if (n) {
            link_send(s, n);
            s->stats.icmp_out++;
        }
        return;
    }
    case ICMP_DEST_UNREACH:
    case ICMP_TIME_EXCEEDED: {
        /* RFC 1122 4.2.3.9: tell the connection the quoted segment names */
        if (!m.has_quoted_tcp || m.q_src != s->cfg.addr)
            break;
        struct tcp_endpoints ep = {
            .laddr = m.q_src, .raddr = m.q_dst, .lport = m.q_sport, .rport = m.q_dport,
        };
        struct sock *k = table_lookup(s, &ep);
        if (!k)
            break;
        tcp_icmp_error(&k->conn, m.type, m.code, m.q_seq, m.mtu, now);
        sock_settle(s, k);
        return;
    }
    default:
        break;
    }
    count_drop(s, DROP_ICMP_TYPE);
}

static void packet_input(struct stack *s, const uint8_t *pkt, size_t len, bool csum_trusted,
                         uint64_t now)
{
    struct ipv4_packet ip;
    enum drop_reason r = ipv4_parse(pkt, len, &ip);
    s->stats.ip_in++;
    if (r == DROP_NONE && ip.dst != s->cfg.addr)
        r = DROP_IP_NOT_LOCAL;
    if (r == DROP_NONE && ip.proto == IPPROTO_TCP_)
        tcp_packet_input(s, &ip, csum_trusted, now);
    else if (r == DROP_NONE && ip.proto == IPPROTO_ICMP_)
        icmp_packet_input(s, &ip, now);
    else
        count_drop(s, r == DROP_NONE ? DROP_IP_PROTO : r);
}

void stack_input(struct stack *s, const uint8_t *pkt, size_t len, uint64_t now)
{
    packet_input(s, pkt, len, false, now);
}

struct split_input {
    struct stack *s;
    uint64_t now;
};

static void input_segment(void *ctx, const uint8_t *seg, size_t len)
{
    struct split_input *in = ctx;
    packet_input(in->s, seg, len, true, in->now);
}

/* A super-packet for an established connection, taken as one segment
 * when that is the same as its segments one by one (tcp_input_coalesced:
 * one test, one copy, one ACK decision); false when not, nothing done. */
static bool coalesced_input(struct stack *s, const uint8_t *pkt, size_t len,
                            const struct gso_plan *plan, uint64_t now)
{
    struct ipv4_packet ip;
    struct tcp_segment seg;
    unsigned segs = gso_segments(plan);
    if (segs < 2 || ipv4_parse(pkt, len, &ip) != DROP_NONE || ip.dst != s->cfg.addr ||
        ip.proto != IPPROTO_TCP_ ||
        tcp_parse_csum(ip.payload, ip.payload_len, ip.src, ip.dst, false, &seg) != DROP_NONE)
        return false;
    struct tcp_endpoints ep = {
        .laddr = ip.dst, .raddr = ip.src, .lport = seg.dport, .rport = seg.sport,
    };
    /* not a child whose first data completes it (tcp_packet_input) */
    struct sock *k = table_lookup(s, &ep);
    if (!k || k->defer_until || !tcp_input_coalesced(&k->conn, &seg, segs, plan->seg_size, now))
        return false;
    s->stats.ip_in += segs;
    s->stats.tcp_in += segs;
    s->stats.gso_in_whole++;
    sock_settle(s, k);
    return true;
}

/* A packet from a link with offloads: a super-packet is taken whole, or
 * as the segments it stands for, one after the other in this batch, as
 * Linux's GRO hands them up; a checksum the link vouched for is not
 * summed again. */
static void offloaded_input(struct stack *s, const struct gso_hdr *h, uint8_t *pkt, size_t len,
                            uint64_t now)
{
    struct gso_plan plan;
    enum drop_reason r = gso_inspect(h, pkt, len, &plan);
    if (r != DROP_NONE) {
        s->stats.ip_in++;
        count_drop(s, r);
    } else if (plan.seg_size) {
        s->stats.gso_in++;
        if (!coalesced_input(s, pkt, len, &plan, now)) {
            s->host.in_super_packet = true;
            gso_split(pkt, &plan, false, input_segment, &(struct split_input){ s, now });
            s->host.in_super_packet = false;
        }
    } else {
        packet_input(s, pkt, len, plan.csum_trusted, now);
    }
}

static void defer_ack(struct tcp_host *h, struct tcp_conn *c)
{
    struct stack *s = (struct stack *)h;
    /* sock_new reserved a place for every socket */
    s->acks[s->nacks++] = conn_sock(c);
}

/* Memory freed: a writer it had refused may be writable again. A
 * refused writer has a full buffer in flight, so packets or timers
 * come for it: waking it after them is soon enough. */
static void wake_writer(struct tcp_host *h, struct tcp_conn *c)
{
    sock_settle((struct stack *)h, conn_sock(c));
}

unsigned stack_receive(struct stack *s, uint64_t now)
{
    unsigned count = 0;
    s->host.defer_ack = defer_ack;
    for (;;) {
        struct gso_hdr h;
        ssize_t n = s->link->recv_gso ? s->link->recv_gso(s->link, s->rx, s->rx_cap, &h)
                                      : s->link->recv(s->link, s->rx, s->rx_cap);
        if (n <= 0) {
            if (n < 0)
                s->stats.link_errors++;
            break;
        }
        if (s->link->recv_gso)
            offloaded_input(s, &h, s->rx, (size_t)n, now);
        else
            stack_input(s, s->rx, (size_t)n, now);
        count++;
    }
    s->host.defer_ack = NULL;
    while (s->nacks) {
        struct sock *k = s->acks[--s->nacks];
        tcp_flush_ack(&k->conn, now);
        sock_settle(s, k);
    }
    tcp_mem_wake_writers(&s->host, wake_writer);
    stack_flush(s);
    return count;
}

/* ---- timers, stats, readiness ---- */

/* The end of a child's TCP_DEFER_ACCEPT period: Linux sends the SYN-ACK
 * once more, and the ACK it draws queues the connection, or finds the
 * accept queue full and the request expires unannounced (syn_ack_recalc).
 * Returns false if k was freed. */
static bool defer_over(struct stack *s, struct sock *k)
{
    k->defer_until = 0;
    if (k->conn.state >= TCP_ESTABLISHED && k->parent->accept_q.count > k->parent->backlog) {
        sock_free(s, k);
        return false;
    }
    return true;
}

void stack_timers(struct stack *s, uint64_t now)
{
    loop_drain(s, now);
    time_wait_expire(s, now);
    /* Each connection fires everything that is due at once, so one pass
     * over the heap suffices; the bound guards against a deadline that
     * would not move. */
    for (size_t i = 0, n = s->heap_len; i < n && s->heap_len; i++) {
        struct sock *k = s->heap[0];
        if (k->deadline > now)
            break;
        if (k->defer_until && now >= k->defer_until && !defer_over(s, k))
            continue;
        tcp_timer(&k->conn, now);
        sock_settle(s, k);
    }
    tcp_mem_wake_writers(&s->host, wake_writer);
    stack_flush(s);
}

uint64_t stack_next_deadline(const struct stack *s)
{
    if (s->loop_head)
        return 1;   /* looped packets: now */
    uint64_t next = s->heap_len ? s->heap[0]->deadline : 0;
    if (s->tw_oldest && (!next || s->tw_oldest->tcb.close_at < next))
        next = s->tw_oldest->tcb.close_at;
    return next;
}

void stack_get_stats(const struct stack *s, struct stack_stats *out)
{
    *out = s->stats;
    out->tcp = s->host.stats;
    out->sockets = s->socks;
    out->tcp.buffer_limit_bytes = s->cfg.tcp.mem_limit;
}

unsigned stack_delivering(const struct stack *s, bool peer_fin)
{
    unsigned n = 0;
    for (size_t i = 0; i <= s->conns.mask; i++) {
        for (struct hnode *node = s->conns.bucket[i]; node; node = node->next) {
            const struct sock *k = hnode_entry(node, struct sock, hash_node);
            const struct tcp_conn *c = &k->conn;
            if ((c->sndbuf.len || c->snd_una != c->snd_max || c->state == TCP_FIN_WAIT_1 ||
                 c->state == TCP_CLOSING || c->state == TCP_LAST_ACK ||
                 (peer_fin && c->state == TCP_FIN_WAIT_2)))
                n++;
        }
    }
    return n;
}

void stack_set_notify(struct stack *s, void (*fn)(void *ctx, struct sock *k), void *ctx)
{
    s->notify = fn;
    s->notify_ctx = ctx;
}

void stack_sock_set_user(struct sock *k, void *user)
{
    k->user = user;
}

void *stack_sock_user(const struct sock *k)
{
    return k->user;
}
