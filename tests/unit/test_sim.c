/* Two stacks over a link that loses, duplicates, reorders, corrupts and
 * delays packets, seeded: every seed runs 50 connections at once, one of
 * them moving 1 MiB each way and the others up to 64 KiB each way. Every
 * byte must arrive exactly once and in order, every connection must end
 * with a clean close on both sides, and nothing may be left behind. The
 * slow-reader seeds do the same with small receive buffers and readers
 * that stop reading for a while, again and again: zero windows, probed
 * while data flows the other way. The hostile seeds add forged segments
 * and replays to the link (hostile.h), the odd ones slow readers as well:
 * none may disturb a connection, and each must meet the defence it was
 * built to meet. The tight-memory seeds give each stack 256 KiB of buffer
 * memory (tcp_mem.c): pressure and the limit throughout. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sim.h"
#include "rng.h"
#include "test.h"

#define SIM_SEEDS 200
#define SIM_SLOW_READER_SEEDS 40
#define SIM_HOSTILE_SEEDS 40
#define SIM_TIGHT_MEMORY_SEEDS 40
#define ALL_SEEDS (SIM_SEEDS + SIM_SLOW_READER_SEEDS + SIM_HOSTILE_SEEDS + SIM_TIGHT_MEMORY_SEEDS)
#define SIM_CONNS 50
#define SIM_PORT 80
#define BULK_BYTES (1u << 20)
#define SMALL_MAX (64u << 10)
#define VIRTUAL_LIMIT_US (4 * 3600 * 1000000ull)

/* One end of an application-level connection. */
struct app_end {
    struct sock *k;
    int side;                   /* the stack it lives on */
    uint64_t to_send, sent, received, expect;
    uint32_t tx_salt, rx_salt;  /* pattern of what it sends / receives */
    uint64_t pause_at;          /* a slow reader pauses once it received this */
    uint64_t resume_at;         /* ...and reads again at this time; 0: reading */
    bool shut, eof, closed, ready;
    int error;
};

struct app {
    struct sim w;
    struct sock *listener;
    struct app_end ends[2 * SIM_CONNS];   /* [2i] client, [2i+1] server */
    unsigned accepted;
    uint64_t pause_every, pause_us;  /* slow readers; pause_every 0: none */
    bool any_ready, listener_ready;
    char failure[256];
};

/* The byte at `offset` of a stream: position-dependent, so a lost,
 * duplicated or misplaced byte shows. */
static uint8_t pattern(uint32_t salt, uint64_t offset)
{
    uint64_t x = (offset + salt) * 0x9e3779b97f4a7c15ull;
    return (uint8_t)(x >> 56);
}

static void on_ready(void *ctx, struct sock *k)
{
    struct app *a = ctx;
    struct app_end *e = stack_sock_user(k);
    if (e) {
        e->ready = true;
        a->any_ready = true;
    } else if (k == a->listener) {
        a->listener_ready = true;
        a->any_ready = true;
    }
}

static void fail(struct app *a, const char *what, const struct app_end *e, long v)
{
    if (!a->failure[0])
        snprintf(a->failure, sizeof a->failure, "%s (end %ld, value %ld)", what,
                 e ? (long)(e - a->ends) : -1L, v);
}

static void end_send(struct app *a, struct app_end *e)
{
    struct stack *st = a->w.stack[e->side];
    uint8_t buf[16384];
    while (e->sent < e->to_send) {
        size_t n = e->to_send - e->sent < sizeof buf ? e->to_send - e->sent : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(e->tx_salt, e->sent + i);
        ssize_t r = stack_send(st, e->k, buf, n, a->w.now);
        if (r == -EAGAIN)
            return;
        if (r <= 0) {
            fail(a, "send failed", e, r);
            return;
        }
        e->sent += (uint64_t)r;
    }
    if (!e->shut) {
        e->shut = true;
        int r = stack_shutdown(st, e->k, SHUT_WR, a->w.now);
        if (r)
            fail(a, "shutdown failed", e, r);
    }
}

static void end_recv(struct app *a, struct app_end *e)
{
    struct stack *st = a->w.stack[e->side];
    uint8_t buf[16384];
    while (!e->eof && !e->resume_at) {
        if (a->pause_every && e->received >= e->pause_at) {
            e->pause_at += a->pause_every;
            e->resume_at = a->w.now + a->pause_us;
            return;
        }
        ssize_t r = stack_recv(st, e->k, buf, sizeof buf, 0, a->w.now);
        if (r == -EAGAIN)
            return;
        if (r < 0) {
            fail(a, "recv failed", e, r);
            return;
        }
        if (r == 0) {
            e->eof = true;
            if (e->received != e->expect)
                fail(a, "end of stream before all data", e, (long)e->received);
            return;
        }
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] != pattern(e->rx_salt, e->received + (uint64_t)i)) {
                fail(a, "wrong byte", e, (long)(e->received + (uint64_t)i));
                return;
            }
        }
        e->received += (uint64_t)r;
        if (e->received > e->expect)
            fail(a, "more data than sent", e, (long)e->received);
    }
}

static void end_progress(struct app *a, struct app_end *e)
{
    if (!e->k || e->closed)
        return;
    if (stack_sock_state(a->w.stack[e->side], e->k) == TCP_SYN_SENT)
        return;
    end_send(a, e);
    end_recv(a, e);
    if (e->shut && e->eof) {
        e->closed = true;
        stack_close(a->w.stack[e->side], e->k, a->w.now);
        e->k = NULL;
    }
}

/* The server end that belongs to an accepted socket: by the client's port. */
static struct app_end *server_end_for(struct app *a, struct sock *k)
{
    uint32_t addr;
    uint16_t port;
    if (stack_getpeername(a->w.stack[1], k, &addr, &port) != 0)
        return NULL;
    for (unsigned i = 0; i < SIM_CONNS; i++) {
        struct app_end *c = &a->ends[2 * i];
        uint32_t caddr;
        uint16_t cport = 0;
        if (c->k)
            stack_getsockname(a->w.stack[0], c->k, &caddr, &cport);
        if (cport == port && !a->ends[2 * i + 1].k && !a->ends[2 * i + 1].closed)
            return &a->ends[2 * i + 1];
    }
    return NULL;
}

static void accept_all(struct app *a)
{
    struct sock *k;
    while (stack_accept(a->w.stack[1], a->listener, &k) == 0) {
        struct app_end *e = server_end_for(a, k);
        if (!e) {
            fail(a, "accepted an unknown connection", NULL, 0);
            stack_close(a->w.stack[1], k, a->w.now);
            continue;
        }
        e->k = k;
        e->ready = true;
        stack_sock_set_user(k, e);
        a->accepted++;
    }
}

static void app_progress(struct app *a)
{
    while (a->any_ready && !a->failure[0]) {
        a->any_ready = false;
        if (a->listener_ready) {
            a->listener_ready = false;
            accept_all(a);
        }
        for (unsigned i = 0; i < 2 * SIM_CONNS; i++) {
            if (a->ends[i].ready) {
                a->ends[i].ready = false;
                end_progress(a, &a->ends[i]);
            }
        }
    }
}

/* Slow readers whose pause is over read again; the end of the next pause
 * is an event of the simulation. True if one resumed. */
static bool wake_readers(struct app *a)
{
    bool resumed = false;
    a->w.wake_at = 0;
    for (unsigned i = 0; i < 2 * SIM_CONNS; i++) {
        struct app_end *e = &a->ends[i];
        if (!e->resume_at)
            continue;
        if (e->resume_at <= a->w.now) {
            e->resume_at = 0;
            e->ready = a->any_ready = resumed = true;
        } else if (!a->w.wake_at || e->resume_at < a->w.wake_at) {
            a->w.wake_at = e->resume_at;
        }
    }
    return resumed;
}

/* Seed 0 has a perfect link; the others draw loss 0-20% and the rest. */
static struct link_mem_impair impairments(uint64_t seed)
{
    uint64_t r = seed;
    struct link_mem_impair imp = { .seed = seed };
    if (seed == 0)
        return imp;
    imp.loss = (double)(seed % 21) / 100.0;
    imp.dup = (double)(rng_next(&r) % 6) / 100.0;
    imp.reorder = (double)(rng_next(&r) % 11) / 100.0;
    imp.corrupt = (double)(rng_next(&r) % 4) / 100.0;
    imp.delay_us = rng_next(&r) % 50000;
    imp.reorder_us = 1 + rng_next(&r) % 20000;
    imp.queue_limit = rng_next(&r) % 2 ? 0 : 1000 + rng_next(&r) % 4000;
    return imp;
}

/* The TCP of this run's stacks, by seed (not by parity: odd hostile
 * seeds have slow readers): the congestion control is CUBIC for seeds 0,
 * 1, 4, 5, ..., NewReno for 2, 3, 6, 7, ...; of every 16 seeds, the first
 * 8 recover with SACK and RACK-TLP, the next 4 with SACK and RFC 6675's
 * IsLost, the last 4 without SACK (NewReno's recovery). */
static struct {
    const struct tcp_cc_ops *cc;
    bool sack, rack;
} sim_tcp;

static void sim_choose_tcp(uint64_t seed)
{
    sim_tcp.cc = seed % 4 < 2 ? &tcp_cc_cubic : &tcp_cc_newreno;
    sim_tcp.sack = seed % 16 < 12;
    sim_tcp.rack = seed % 16 < 8;
}

static void sim_tweak(struct stack_config *cfg)
{
    cfg->tcp.msl_us = 1000000;      /* TIME-WAIT 2 s: the run ends sooner */
    cfg->tcp.syn_retries = 12;      /* 20% loss each way must not time out */
    cfg->tcp.cc = sim_tcp.cc;
    cfg->tcp.sack = sim_tcp.sack;
    cfg->tcp.rack = sim_tcp.rack;
}

/* Receive buffers of 16 KiB: a reader that pauses soon shuts its window. */
static void sim_slow_reader_tweak(struct stack_config *cfg)
{
    sim_tweak(cfg);
    cfg->tcp.rcvbuf = 16 * 1024;
}

/* 256 KiB of buffer memory for the 50 connection ends of a stack: under
 * pressure and at the limit all the time (tcp_mem.c): windows clamped,
 * data dropped and sent again, writers refused memory. */
static void sim_tight_memory_tweak(struct stack_config *cfg)
{
    sim_tweak(cfg);
    cfg->tcp.mem_limit = 256 * 1024;
}

/* A family of seeds: what it adds to the lossy link. */
struct family {
    const char *name;
    unsigned seeds;
    bool slow_readers;
    bool hostile;        /* forged segments; the odd seeds slow readers too */
    bool tight_memory;
};

static const struct family families[] = {
    { "sim_seed", SIM_SEEDS, false, false, false },
    { "sim_slow_reader_seed", SIM_SLOW_READER_SEEDS, true, false, false },
    { "sim_hostile_seed", SIM_HOSTILE_SEEDS, false, true, false },
    { "sim_tight_memory_seed", SIM_TIGHT_MEMORY_SEEDS, false, false, true },
};

/* Every forged segment met the defence it was built for: the receiving
 * stack counted at least as many of each (genuine segments add to them),
 * and every kind was sent. */
static void check_hostile(const struct hostile_link *h, const struct stack_stats *st)
{
    for (int o = 0; o < HOSTILE_OUTCOMES; o++)
        CHECK_MSG(h->forged[o] > 0, "no forged segment of outcome %d", o);
    uint64_t challenges = st->tcp.challenge_acks + st->tcp.challenge_acks_suppressed;
    CHECK_MSG(st->tcp.unacceptable_segs >= h->forged[HOSTILE_UNACCEPTABLE],
              "%llu unacceptable of %llu", (unsigned long long)st->tcp.unacceptable_segs,
              (unsigned long long)h->forged[HOSTILE_UNACCEPTABLE]);
    CHECK_MSG(st->tcp.paws_drops >= h->forged[HOSTILE_PAWS], "%llu PAWS drops of %llu",
              (unsigned long long)st->tcp.paws_drops, (unsigned long long)h->forged[HOSTILE_PAWS]);
    CHECK_MSG(challenges >= h->forged[HOSTILE_CHALLENGE], "%llu challenges of %llu",
              (unsigned long long)challenges, (unsigned long long)h->forged[HOSTILE_CHALLENGE]);
}

static void run(uint64_t param)
{
    static struct app a;
    const struct family *f = &families[param >> 32];
    uint64_t seed = (uint32_t)param;
    bool slow_readers = f->slow_readers || (f->hostile && seed % 2);
    memset(&a, 0, sizeof a);
    sim_choose_tcp(seed);
    test_context("replay: build/unit_tests %s_%03llu (%s, %s)", f->name,
                 (unsigned long long)seed, sim_tcp.cc->name,
                 !sim_tcp.sack ? "no SACK" : sim_tcp.rack ? "SACK, RACK-TLP" : "SACK, RFC 6675");
    struct link_mem_impair imp = impairments(seed);
    /* 5-30 % more segments, forged */
    uint64_t hr = seed ^ 0x4057;
    double hostile = f->hostile ? (double)(5 + rng_next(&hr) % 26) / 100.0 : 0;
    if (slow_readers) {
        /* every 4-64 KiB read, a pause of 0.1-30 s */
        uint64_t r = seed ^ 0x510e;
        a.pause_every = 4096 + rng_next(&r) % (60 * 1024);
        a.pause_us = 100000 + rng_next(&r) % 29900000;
    }
    void (*tweak)(struct stack_config *) = f->tight_memory ? sim_tight_memory_tweak
                                           : slow_readers    ? sim_slow_reader_tweak
                                                             : sim_tweak;
    CHECK(sim_init(&a.w, &imp, hostile, tweak));
    for (int i = 0; i < 2; i++)
        stack_set_notify(a.w.stack[i], on_ready, &a);

    CHECK_EQ(stack_socket(a.w.stack[1], &a.listener), 0);
    CHECK_EQ(stack_bind(a.w.stack[1], a.listener, 0, SIM_PORT), 0);
    CHECK_EQ(stack_listen(a.w.stack[1], a.listener, SIM_CONNS), 0);

    uint64_t r = seed ^ 0xabcdef;
    for (unsigned i = 0; i < SIM_CONNS; i++) {
        struct app_end *c = &a.ends[2 * i], *s = &a.ends[2 * i + 1];
        uint64_t up = i == 0 ? BULK_BYTES : rng_next(&r) % SMALL_MAX;
        uint64_t down = i == 0 ? BULK_BYTES : rng_next(&r) % SMALL_MAX;
        *c = (struct app_end){ .side = 0, .to_send = up, .expect = down,
                               .tx_salt = 2 * i, .rx_salt = 2 * i + 1,
                               .pause_at = a.pause_every };
        *s = (struct app_end){ .side = 1, .to_send = down, .expect = up,
                               .tx_salt = 2 * i + 1, .rx_salt = 2 * i,
                               .pause_at = a.pause_every };
        CHECK_EQ(stack_socket(a.w.stack[0], &c->k), 0);
        stack_sock_set_user(c->k, c);
        CHECK_EQ(stack_connect(a.w.stack[0], c->k, SIM_ADDR(1), SIM_PORT, a.w.now),
                 -EINPROGRESS);
    }

    uint64_t start = a.w.now;
    while (!a.failure[0] && a.w.now - start < VIRTUAL_LIMIT_US) {
        app_progress(&a);
        if (wake_readers(&a))
            continue;
        /* idle, and nothing the application could act on: done */
        if (!sim_step(&a.w) && !a.any_ready)
            break;
    }
    app_progress(&a);
    CHECK_MSG(!a.failure[0], "%s", a.failure);
    CHECK_EQ(a.accepted, SIM_CONNS);
    for (unsigned i = 0; i < 2 * SIM_CONNS; i++) {
        struct app_end *e = &a.ends[i];
        CHECK_MSG(e->closed && e->received == e->expect,
                  "end %u: closed %d, received %llu of %llu, sent %llu of %llu", i,
                  e->closed, (unsigned long long)e->received,
                  (unsigned long long)e->expect, (unsigned long long)e->sent,
                  (unsigned long long)e->to_send);
    }
    /* Nothing left: every connection has left the tables (TIME-WAIT over). */
    for (int i = 0; i < 2; i++) {
        struct stack_stats st;
        stack_get_stats(a.w.stack[i], &st);
        CHECK_EQ(st.conns_open, 0);
        CHECK_EQ(stack_next_deadline(a.w.stack[i]), 0);
        CHECK_EQ(st.tcp.buffer_bytes, 0);
        if (f->hostile)
            check_hostile(&a.w.hostile[i], &st);
        if (f->tight_memory)
            CHECK(st.tcp.mem_pressure_events > 0);
    }
    stack_close(a.w.stack[1], a.listener, a.w.now);
    sim_free(&a.w);
}

static struct test_case seed_cases[ALL_SEEDS];
static char seed_names[ALL_SEEDS][32];

__attribute__((constructor)) static void register_seeds(void)
{
    unsigned n = 0;
    for (uint64_t f = 0; f < sizeof families / sizeof families[0]; f++) {
        for (unsigned seed = 0; seed < families[f].seeds; seed++, n++) {
            snprintf(seed_names[n], sizeof seed_names[n], "%s_%03u", families[f].name, seed);
            seed_cases[n] = (struct test_case){ seed_names[n], run, f << 32 | seed, NULL };
            test_register(&seed_cases[n]);
        }
    }
}
