/* RFC 6675 (SACK-based loss recovery) over the probe harness: the test is
 * a SACK receiver, the stack the sender. Ten full segments go out; the
 * test says which arrived, in SACK blocks, and checks what is resent. */
#include <string.h>

#include "probe.h"
#include "tcp_internal.h"
#include "test.h"

#define A TCP_ACK
#define MSS 1460
#define NSEG 10

/* What the test, as receiver, holds of the NSEG segments. */
struct receiver {
    uint32_t base;          /* the first segment's sequence number */
    bool have[NSEG];
    unsigned sent[NSEG];    /* times the stack sent each after the first */
};

/* RFC 6675's own loss detection, IsLost, rather than RACK (RFC 8985). */
static void rack_off(struct stack_config *cfg)
{
    cfg->tcp.rack = false;
}

/* A connection with SACK whose NSEG segments the stack has sent. */
static void open_and_send(struct probe *p, struct peer *c, struct receiver *r,
                          void (*tweak)(struct stack_config *cfg))
{
    probe_init(p, tweak);
    memset(r, 0, sizeof *r);
    r->base = peer_sack_open_and_send(p, c, 0, NSEG * MSS);
}

static uint32_t seq_of(const struct receiver *r, unsigned seg)
{
    return r->base + seg * MSS;
}

/* An ACK of segment `ack` with the first n (up to four) of `blocks`,
 * SACK blocks [left, right) as segment numbers. */
static void sack(struct probe *p, struct peer *c, const struct receiver *r, unsigned ack,
                 const unsigned (*blocks)[2], unsigned n)
{
    uint32_t edges[2 * TCP_MAX_SACK_BLOCKS];
    for (unsigned i = 0; i < n; i++) {
        edges[2 * i] = seq_of(r, blocks[i][0]);
        edges[2 * i + 1] = seq_of(r, blocks[i][1]);
    }
    peer_send_sack(p, c, seq_of(r, ack), n, edges);
}

/* The ACK a SACK receiver holding r->have sends: the first gap, then the
 * blocks above it (RFC 2018 4). */
static uint32_t receiver_ack(struct probe *p, struct peer *c, const struct receiver *r)
{
    unsigned first = 0, n = 0;
    unsigned blocks[4][2];
    while (first < NSEG && r->have[first])
        first++;
    for (unsigned i = first; i < NSEG && n < 4;) {
        if (!r->have[i]) {
            i++;
            continue;
        }
        blocks[n][0] = i;
        while (i < NSEG && r->have[i])
            i++;
        blocks[n++][1] = i;
    }
    sack(p, c, r, first, blocks, n);
    return seq_of(r, first);
}

/* Takes every segment the stack sent: it arrives. Returns how many. */
static unsigned receive_all(struct probe *p, struct receiver *r)
{
    struct tcp_segment s;
    unsigned n = 0;
    while (probe_recv(p, &s)) {
        if (!s.len)
            continue;
        unsigned seg = (s.seq - r->base) / MSS;
        if (seg < NSEG) {
            r->have[seg] = true;
            r->sent[seg]++;
        }
        n++;
    }
    return n;
}

static const struct tcp_conn *conn(struct probe *p, struct peer *c)
{
    return stack_sock_conn(p->stack, c->sock);
}

/* RFC 6675 4 IsLost: "DupThresh discontiguous SACKed sequences ... or
 * more than (DupThresh - 1) * SMSS bytes with sequence numbers greater
 * than SeqNum have been SACKed"; RFC 6675 5 (b): IsLost(HighACK + 1)
 * starts loss recovery before DupThresh duplicate ACKs came. */
TEST(rfc6675_5_islost_of_the_first_segment_starts_recovery_before_three_dupacks)
{
    struct probe p;
    struct peer c;
    struct receiver r;
    open_and_send(&p, &c, &r, rack_off);
    static const unsigned two[][2] = { { 1, 3 } }, three[][2] = { { 1, 4 } };
    sack(&p, &c, &r, 0, two, 1);
    CHECK(probe_silent(&p));
    CHECK(!conn(&p, &c)->in_recovery);
    sack(&p, &c, &r, 0, three, 1);    /* the second duplicate ACK */
    struct tcp_segment s;
    CHECK(expect_seg(&p, &s, A, seq_of(&r, 0), c.snd_nxt));
    CHECK_EQ(s.len, MSS);
    CHECK(probe_silent(&p));
    CHECK(conn(&p, &c)->in_recovery);
    CHECK_EQ(conn(&p, &c)->ssthresh, NSEG * MSS / 2);
    probe_free(&p);
}

/* RFC 6675 5: every hole the SACK blocks show is resent in one round
 * trip, as cwnd - pipe allows (NextSeg rule 1), each once; the
 * cumulative ACK beyond RecoveryPoint ends recovery (5 (A)). NewReno
 * would resend one hole per round trip. */
TEST(rfc6675_5_recovery_resends_each_hole_once_in_one_round_trip)
{
    struct probe p;
    struct peer c;
    struct receiver r;
    open_and_send(&p, &c, &r, rack_off);
    static const unsigned holes[][2] = { { 1, 3 }, { 4, 6 }, { 7, 10 } };
    sack(&p, &c, &r, 0, holes, 3);
    CHECK(expect_seg(&p, NULL, A, seq_of(&r, 0), c.snd_nxt));
    CHECK(expect_seg(&p, NULL, A, seq_of(&r, 3), c.snd_nxt));
    CHECK(expect_seg(&p, NULL, A, seq_of(&r, 6), c.snd_nxt));
    CHECK(probe_silent(&p));
    sack(&p, &c, &r, 0, holes, 3);    /* a duplicate changes nothing */
    CHECK(probe_silent(&p));
    sack(&p, &c, &r, NSEG, NULL, 0);
    CHECK(!conn(&p, &c)->in_recovery);
    CHECK_EQ(conn(&p, &c)->cwnd, conn(&p, &c)->ssthresh);
    probe_free(&p);
}

/* RFC 6675 4 NextSeg rule (3): with nothing deemed lost left and no new
 * data, the unSACKed segment beyond HighRxt is resent: the lost tail,
 * which no later segment can show lost. */
TEST(rfc6675_4_nextseg_rule_3_resends_unsacked_data_beyond_highrxt)
{
    struct probe p;
    struct peer c;
    struct receiver r;
    open_and_send(&p, &c, &r, rack_off);
    static const unsigned middle[][2] = { { 1, 9 } };
    sack(&p, &c, &r, 0, middle, 1);
    CHECK(expect_seg(&p, NULL, A, seq_of(&r, 0), c.snd_nxt));
    CHECK(expect_seg(&p, NULL, A, seq_of(&r, 9), c.snd_nxt));
    CHECK(probe_silent(&p));
    probe_free(&p);
}

/* RFC 6675 5.1: after an RTO the scoreboard is kept, and only what it
 * does not hold SACKed is resent, as cwnd grows from one segment; no go
 * back N over SACKed data. */
TEST(rfc6675_5_1_after_an_rto_only_data_not_sacked_is_resent)
{
    struct probe p;
    struct peer c;
    struct receiver r;
    open_and_send(&p, &c, &r, rack_off);
    r.have[5] = r.have[6] = true;   /* two segments SACKed: no recovery */
    receiver_ack(&p, &c, &r);
    CHECK(probe_silent(&p));
    probe_advance(&p, p.cfg.tcp.rto_min_us);
    CHECK_EQ(receive_all(&p, &r), 1);   /* cwnd: one segment */
    CHECK_EQ(r.sent[0], 1);
    for (int round = 0; round < 10 && receiver_ack(&p, &c, &r) != seq_of(&r, NSEG); round++)
        receive_all(&p, &r);
    CHECK_EQ(conn(&p, &c)->snd_una, seq_of(&r, NSEG));
    for (unsigned i = 0; i < NSEG; i++)
        CHECK_EQ(r.sent[i], i == 5 || i == 6 ? 0 : 1);
    probe_free(&p);
}

/* RFC 2018 3 and RFC 6675 4 (Update): SACK blocks name data in flight;
 * hostile ones (beyond SND.MAX, below SND.UNA, reversed, crossing an
 * edge, more than fit in a header) change nothing and cost nothing. */
TEST(rfc6675_4_forged_sack_blocks_are_ignored)
{
    struct probe p;
    struct peer c;
    struct receiver r;
    open_and_send(&p, &c, &r, NULL);
    uint32_t forged[8] = {
        seq_of(&r, 20), seq_of(&r, 21),             /* beyond SND.MAX */
        r.base - 3000, r.base - 1000,               /* below SND.UNA */
        seq_of(&r, 4), seq_of(&r, 1),               /* reversed */
        seq_of(&r, 9), seq_of(&r, 11),              /* crosses SND.MAX */
    };
    peer_send_sack(&p, &c, seq_of(&r, 0), 4, forged);
    forged[6] = r.base - 1;                         /* crosses SND.UNA */
    forged[7] = seq_of(&r, 5);
    peer_send_sack(&p, &c, seq_of(&r, 0), 4, forged);
    CHECK(probe_silent(&p));
    struct tcp_conn *tc = (struct tcp_conn *)conn(&p, &c);
    CHECK_EQ(tc->sb.sacked, 0);
    /* A count no header can carry, straight into the connection. */
    struct tcp_segment s = peer_sack_segment(&c, seq_of(&r, 0), 4, forged);
    s.opt.sack_count = 255;
    tcp_input(tc, &s, p.now);
    CHECK_EQ(tc->sb.sacked, 0);
    CHECK(tc->sb.count <= TCP_SB_RECORDS);
    /* the third duplicate ACK: fast retransmit as without SACK */
    CHECK(expect_seg(&p, NULL, A, seq_of(&r, 0), c.snd_nxt));
    sack(&p, &c, &r, NSEG, NULL, 0);
    CHECK_EQ(tc->snd_una, seq_of(&r, NSEG));
    CHECK_EQ(tc->sb.count, 0);
    probe_free(&p);
}

static void nothing_delivered(void *ctx, const struct tcp_sent *piece)
{
    (void)piece;
    ++*(unsigned *)ctx;
}

/* The scoreboard's bound (tcp_sack.h): a thousand one-byte holes, SACK
 * blocks between them, keep it within TCP_SB_RECORDS records that still
 * cover exactly what is in flight, and count no byte SACKed that was not. */
TEST(rfc6675_3_scoreboard_stays_bounded_under_a_thousand_holes)
{
    struct tcp_scoreboard sb = { 0 };
    CHECK(tcp_sb_alloc(&sb));
    uint32_t una = 0xfffff000u, max = una + 4000; /* wraps */
    static const struct tcp_sent_tx tx;
    for (uint32_t seq = una; seq != max; seq += 4)
        tcp_sb_sent(&sb, seq, seq + 4, seq - una, &tx);
    unsigned delivered = 0;
    uint32_t sacked = 0;
    for (uint32_t seq = una + 1; seq_lt(seq, max); seq += 4)
        sacked += tcp_sb_sack(&sb, una, max, seq, seq + 2, nothing_delivered, &delivered);
    CHECK(sb.count <= TCP_SB_RECORDS);
    CHECK(tcp_sb_covers(&sb, una, max));
    CHECK(sb.sacked <= sacked);
    CHECK(sacked <= 2000);
    CHECK(delivered > 0);
    for (uint32_t i = 1; i < sb.count; i++)
        CHECK(sb.rec[i].start == sb.rec[i - 1].end);
    tcp_sb_acked(&sb, max, nothing_delivered, &delivered);
    CHECK_EQ(sb.count, 0);
    CHECK_EQ(sb.sacked, 0);
    tcp_sb_free(&sb);
}
