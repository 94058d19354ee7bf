/* Buffer memory (tcp_mem.c), as Linux's tcp_mem bounds it: buffers are
 * allocated as data comes, and all of them together stay within a limit,
 * under which memory pressure first shrinks windows and out-of-order
 * data. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "probe.h"
#include "test.h"

#define KIB 1024u

/* 64 KiB buffers; 256 KiB for all: pressure from 192 KiB, over under
 * 128 KiB. Four connections with full receive buffers reach the limit. */
static void small_memory(struct stack_config *cfg)
{
    cfg->tcp.sndbuf = cfg->tcp.rcvbuf = 64 * KIB;
    cfg->tcp.mem_limit = 256 * KIB;
}

static struct tcp_stats tcp_stats(struct probe *p)
{
    struct stack_stats st;
    stack_get_stats(p->stack, &st);
    return st.tcp;
}

static const struct ring *rcvbuf(struct probe *p, const struct peer *c)
{
    return &stack_sock_conn(p->stack, c->sock)->rcvbuf;
}

/* The byte the test's peers send at sequence number seq. */
static uint8_t byte_at(uint32_t seq)
{
    return (uint8_t)(seq * 31 + (seq >> 9));
}

/* The peer sends [from, to), in segments of at most 1460 bytes. */
static void send_range(struct probe *p, struct peer *c, uint32_t from, uint32_t to)
{
    uint8_t data[1460];
    while (from != to) {
        uint32_t n = to - from < sizeof data ? to - from : sizeof data;
        for (uint32_t i = 0; i < n; i++)
            data[i] = byte_at(from + i);
        struct tcp_segment s = seg_make(c->port, c->stack_port, from, c->rcv_nxt, TCP_ACK, 65535);
        s.len = n;
        probe_send(p, &s, data);
        from += n;
    }
}

static void send_in_order(struct probe *p, struct peer *c, uint32_t n)
{
    send_range(p, c, c->snd_nxt, c->snd_nxt + n);
    c->snd_nxt += n;
}

/* The last segment the stack sent, once delayed ACKs are due (false if
 * none). */
static bool last_seg(struct probe *p, struct tcp_segment *seg)
{
    probe_advance(p, 100 * MSEC);
    bool any = false;
    while (probe_recv(p, seg))
        any = true;
    return any;
}

/* Reads n bytes, which must be the peer's from sequence `from` on. */
static void read_stream(struct probe *p, struct peer *c, uint32_t from, uint32_t n)
{
    uint8_t buf[4096];
    while (n) {
        ssize_t got = stack_recv(p->stack, c->sock, buf, n < sizeof buf ? n : sizeof buf, 0, p->now);
        CHECK_MSG(got > 0, "read %zd with %u bytes still expected", got, n);
        for (ssize_t i = 0; i < got; i++)
            CHECK_MSG(buf[i] == byte_at(from + (uint32_t)i), "byte %u differs", from + (uint32_t)i);
        from += (uint32_t)got;
        n -= (uint32_t)got;
    }
}

/* n connections, on ports from `port` on, that receive 60,000 bytes
 * nobody reads: their receive buffers grow to their full 64 KiB, as
 * memory allows. They are all opened first: in pressure a new one would
 * not be offered the window for it. */
static void hogs_fill(struct probe *p, struct peer *h, int n, uint16_t port)
{
    struct tcp_segment seg;
    last_seg(p, &seg);   /* what came before is not a SYN-ACK */
    for (int i = 0; i < n; i++)
        peer_passive_open(p, &h[i], (uint16_t)(port + i), NULL);
    for (int i = 0; i < n; i++) {
        send_in_order(p, &h[i], 60000);
        last_seg(p, &seg);
    }
}

TEST(linux_tcp_mem_connections_allocate_no_buffers_until_data)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    const struct tcp_conn *conn = stack_sock_conn(p.stack, c.sock);
    /* connected, with buffers of 256 KiB, and no memory */
    CHECK_EQ(conn->rcvbuf.cap, 256 * KIB);
    CHECK_EQ(conn->rcvbuf.alloc + conn->sndbuf.alloc, 0);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 0);
    /* data: 16 KiB at first; the window still reaches where the SYN-ACK
     * put it, 65535 bytes on (no scaling) */
    send_in_order(&p, &c, 1000);
    CHECK_EQ(conn->rcvbuf.alloc, 16 * KIB);
    struct tcp_segment seg;
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack + seg.wnd, c.snd_nxt - 1000 + 65535);
    CHECK_EQ(stack_send(p.stack, c.sock, "reply", 5, p.now), 5);
    CHECK_EQ(conn->sndbuf.alloc, 16 * KIB);
    /* and the scoreboard's records while the reply is in flight */
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 32 * KIB + TCP_SB_BYTES);
    CHECK(stack_poll(p.stack, c.sock) & POLLOUT);
    /* closed (with unread data: reset), the memory is back */
    stack_close(p.stack, c.sock, p.now);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 0);
    CHECK_EQ(tcp_stats(&p).buffer_peak_bytes, 32 * KIB + TCP_SB_BYTES);
    probe_free(&p);
}

TEST(linux_tcp_mem_ring_growth_keeps_in_order_and_out_of_order_bytes_in_place)
{
    struct probe p;
    probe_init(&p, NULL);
    struct peer c;
    peer_passive_open(&p, &c, 80, NULL);
    /* 12,000 bytes read: the 16 KiB ring's next bytes wrap around its end */
    uint32_t start = c.snd_nxt;
    send_in_order(&p, &c, 12000);
    read_stream(&p, &c, start, 12000);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 16 * KIB);   /* kept for the next data */
    send_in_order(&p, &c, 8000);
    uint32_t tail = c.snd_nxt;
    /* out of order, within the ring's memory, then far beyond it */
    send_range(&p, &c, tail + 2000, tail + 3000);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 16 * KIB);
    send_range(&p, &c, tail + 20000, tail + 21000);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 32 * KIB);
    /* the gaps filled, every byte is where it belongs */
    send_range(&p, &c, tail, tail + 2000);
    send_range(&p, &c, tail + 3000, tail + 20000);
    c.snd_nxt = tail + 21000;
    struct tcp_segment seg;
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack, c.snd_nxt);
    read_stream(&p, &c, tail - 8000, 29000);
    CHECK_EQ(tcp_stats(&p).mem_drops, 0);
    probe_free(&p);
}

TEST(linux_tcp_mem_pressure_frees_the_memory_of_empty_buffers)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct peer idle, hogs[3];
    peer_passive_open(&p, &idle, 80, NULL);
    send_in_order(&p, &idle, 1000);
    read_stream(&p, &idle, idle.snd_nxt - 1000, 1000);
    CHECK_EQ(rcvbuf(&p, &idle)->alloc, 16 * KIB);   /* no pressure: kept */
    hogs_fill(&p, hogs, 3, 81);
    CHECK_EQ(tcp_stats(&p).mem_pressure_events, 1);
    CHECK_EQ(rcvbuf(&p, &idle)->alloc, 0);            /* freed as it began */
    read_stream(&p, &hogs[0], hogs[0].snd_nxt - 60000, 60000);
    CHECK_EQ(rcvbuf(&p, &hogs[0])->alloc, 0);         /* freed once read */
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 128 * KIB);
    probe_free(&p);
}

TEST(linux_tcp_mem_pressure_clamps_the_advertised_window)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct peer c, hogs[3];
    peer_passive_open(&p, &c, 80, NULL);
    send_in_order(&p, &c, 2000);
    struct tcp_segment seg;
    CHECK(last_seg(&p, &seg));
    uint32_t edge = seg.ack + seg.wnd;
    hogs_fill(&p, hogs, 3, 81);
    /* a new connection is offered only the memory it is sure to have */
    probe_listen(&p, 84, 1);
    struct tcp_segment syn = seg_make(40000, 84, 7000, 0, TCP_SYN, 65535);
    syn.opt = (struct tcp_options){ .has_mss = true, .mss = 1460 };
    probe_send(&p, &syn, NULL);
    CHECK(probe_recv(&p, &seg));
    CHECK_EQ(seg.flags, TCP_SYN | TCP_ACK);
    CHECK_EQ(seg.wnd, 4096);
    /* read, and more data: the right edge stays where it was (it would
     * have moved on by 2,001 bytes) */
    read_stream(&p, &c, c.snd_nxt - 2000, 2000);
    send_in_order(&p, &c, 1000);
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack + seg.wnd, edge);
    /* once the pressure is over it moves on */
    for (int i = 0; i < 3; i++)
        read_stream(&p, &hogs[i], hogs[i].snd_nxt - 60000, 60000);
    read_stream(&p, &c, c.snd_nxt - 1000, 1000);
    send_in_order(&p, &c, 1000);
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack + seg.wnd, c.snd_nxt + 64 * KIB - 1000);
    probe_free(&p);
}

TEST(linux_tcp_mem_pressure_drops_out_of_order_data_first)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct peer c, hogs[3];
    peer_passive_open(&p, &c, 80, NULL);
    uint32_t start = c.snd_nxt;
    send_in_order(&p, &c, 1000);
    hogs_fill(&p, hogs, 3, 81);
    uint32_t tail = c.snd_nxt;
    /* out of order within the ring's 16 KiB: kept */
    send_range(&p, &c, tail + 2000, tail + 3000);
    CHECK_EQ(tcp_stats(&p).mem_drops, 0);
    /* beyond them: dropped, and a duplicate ACK says so */
    struct tcp_segment seg;
    last_seg(&p, &seg);
    send_range(&p, &c, tail + 20000, tail + 21000);
    CHECK_EQ(tcp_stats(&p).mem_drops, 1);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 16 * KIB);
    CHECK(expect_seg(&p, &seg, TCP_ACK, c.rcv_nxt, tail));
    /* in order, data still grows the ring */
    send_range(&p, &c, tail, tail + 2000);
    send_range(&p, &c, tail + 3000, tail + 20000);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 32 * KIB);
    CHECK_EQ(tcp_stats(&p).mem_drops, 1);
    send_range(&p, &c, tail + 20000, tail + 21000);   /* sent again */
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack, tail + 21000);
    read_stream(&p, &c, start, 22000);
    probe_free(&p);
}

TEST(linux_tcp_mem_limit_prunes_out_of_order_data_before_refusing_memory)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct peer c, ooo, hogs[3];
    peer_passive_open(&p, &c, 80, NULL);
    /* out-of-order data far ahead grew this ring to 64 KiB */
    peer_passive_open(&p, &ooo, 81, NULL);
    send_in_order(&p, &ooo, 1000);
    send_range(&p, &ooo, ooo.snd_nxt + 50000, ooo.snd_nxt + 51000);
    CHECK_EQ(rcvbuf(&p, &ooo)->alloc, 64 * KIB);
    hogs_fill(&p, hogs, 3, 82);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 256 * KIB);   /* the limit */
    /* new data needs 16 KiB: the out-of-order data goes, not this */
    send_in_order(&p, &c, 1000);
    CHECK_EQ(tcp_stats(&p).ooo_pruned, 1);
    CHECK_EQ(tcp_stats(&p).mem_drops, 0);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 16 * KIB);
    CHECK_EQ(rcvbuf(&p, &ooo)->alloc, 16 * KIB);       /* its in-order bytes */
    read_stream(&p, &ooo, ooo.snd_nxt - 1000, 1000);
    read_stream(&p, &c, c.snd_nxt - 1000, 1000);
    probe_free(&p);
}

/* RFC 2018 8 (data receiver reneging): out-of-order data pruned at the
 * memory limit is no longer held, and "all SACK blocks MUST NOT report any
 * old data which is no longer actually held by the receiver". */
TEST(rfc2018_8_data_pruned_for_memory_is_no_longer_reported)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct peer c, ooo, hogs[3];
    peer_passive_open(&p, &c, 80, NULL);
    struct tcp_options sack = probe_syn_options(true, false);
    peer_passive_open(&p, &ooo, 81, &sack);
    send_in_order(&p, &ooo, 1000);
    uint32_t far = ooo.snd_nxt + 50000;
    send_range(&p, &ooo, far, far + 1000);
    struct tcp_segment seg;
    CHECK(expect_sack(&p, &seg, ooo.snd_nxt, 1, (uint32_t[]){ far, far + 1000 }));
    hogs_fill(&p, hogs, 3, 82);
    send_in_order(&p, &c, 1000);
    CHECK_EQ(tcp_stats(&p).ooo_pruned, 1);
    last_seg(&p, &seg);
    /* the next block held is reported, the pruned one no more */
    send_range(&p, &ooo, ooo.snd_nxt + 2000, ooo.snd_nxt + 2100);
    CHECK(expect_sack(&p, &seg, ooo.snd_nxt, 1,
                      (uint32_t[]){ ooo.snd_nxt + 2000, ooo.snd_nxt + 2100 }));
    probe_free(&p);
}

TEST(linux_tcp_mem_limit_drops_in_order_data_beyond_the_minimum)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct peer c, hogs[4];
    peer_passive_open(&p, &c, 80, NULL);
    hogs_fill(&p, hogs, 4, 81);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 256 * KIB);
    /* at the limit a connection still has 4 KiB (Linux's tcp_rmem[0]);
     * what does not fit is dropped, unacknowledged */
    uint32_t start = c.snd_nxt;
    send_range(&p, &c, start, start + 3 * 1460);
    CHECK_EQ(rcvbuf(&p, &c)->alloc, 4096);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 256 * KIB + 4096);
    CHECK_EQ(tcp_stats(&p).mem_drops, 1);
    struct tcp_segment seg;
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack, start + 4096);
    /* read, the rest sent again fits */
    read_stream(&p, &c, start, 4096);
    send_range(&p, &c, start + 4096, start + 3 * 1460);
    CHECK(last_seg(&p, &seg));
    CHECK_EQ(seg.ack, start + 3 * 1460);
    read_stream(&p, &c, start + 4096, 3 * 1460 - 4096);
    probe_free(&p);
}

TEST(linux_tcp_mem_memory_freed_wakes_blocked_writers)
{
    struct probe p;
    probe_init(&p, small_memory);
    struct probe_notes n = { 0 };
    stack_set_notify(p.stack, probe_note, &n);
    struct peer w, hogs[4];
    peer_passive_open(&p, &w, 80, NULL);
    hogs_fill(&p, hogs, 4, 81);
    /* at the limit: 4 KiB, then the buffer is full for want of memory
     * (its own size would take 60 KiB more) */
    static uint8_t data[64 * KIB];
    CHECK_EQ(stack_send(p.stack, w.sock, data, sizeof data, p.now), 4096);
    CHECK_EQ(stack_send(p.stack, w.sock, data, sizeof data, p.now), -EAGAIN);
    CHECK(!(stack_poll(p.stack, w.sock) & POLLOUT));
    /* the memory comes back: the writer hears it is writable */
    for (int i = 0; i < 4; i++)
        read_stream(&p, &hogs[i], hogs[i].snd_nxt - 60000, 60000);
    n.count = 0;
    probe_advance(&p, 0);
    CHECK_EQ(n.count, 1);
    CHECK(n.last == w.sock);
    CHECK(stack_poll(p.stack, w.sock) & POLLOUT);
    CHECK_EQ(stack_send(p.stack, w.sock, data, sizeof data, p.now), 60 * KIB);
    probe_free(&p);
}

/* Many connections with data nobody reads, both ways: the memory stays
 * within the limit plus 4 KiB per buffer, and all comes back once they
 * are closed. */
TEST(linux_tcp_mem_connections_with_unread_data_stay_within_the_limit)
{
    enum { CONNS = 64 };
    struct probe p;
    probe_init(&p, small_memory);
    static struct peer c[CONNS];
    static uint8_t data[60000];
    hogs_fill(&p, c, CONNS, 1000);
    for (int i = 0; i < CONNS; i++)
        CHECK(stack_send(p.stack, c[i].sock, data, sizeof data, p.now) > 0);
    struct tcp_stats st = tcp_stats(&p);
    CHECK_MSG(st.buffer_peak_bytes <= 256 * KIB + 2 * CONNS * 4096,
              "peak %llu", (unsigned long long)st.buffer_peak_bytes);
    CHECK(st.mem_drops > 0);
    for (int i = 0; i < CONNS; i++) {
        stack_close(p.stack, c[i].sock, p.now);
        stack_close(p.stack, c[i].listener, p.now);
    }
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 0);
    probe_free(&p);
}

/* A SACK connection (MSS 536: small segments, so that a few kilobytes
 * make enough of them for three duplicate ACKs). */
static const struct tcp_conn *sack_open(struct probe *p, struct peer *c,
                                        void (*tweak)(struct stack_config *cfg))
{
    probe_init(p, tweak);
    struct tcp_options opt = probe_syn_options(true, false);
    opt.mss = 536;
    peer_passive_open(p, c, 80, &opt);
    return stack_sock_conn(p->stack, c->sock);
}

/* An ACK of `ack` bytes of the stack's data, with a SACK block of
 * [left, right) if they differ. */
static void sack_bytes(struct probe *p, struct peer *c, uint32_t ack, uint32_t left,
                       uint32_t right)
{
    const uint32_t edges[2] = { c->rcv_nxt + left, c->rcv_nxt + right };
    peer_send_sack(p, c, c->rcv_nxt + ack, left != right ? 1 : 0, edges);
}

/* The SACK scoreboard's records (tcp_sack.h) are memory like the
 * buffers': allocated when the first flight begins, counted, kept while
 * more may be sent (SACKed data stays until cumulatively ACKed), freed
 * with the send buffer. */
TEST(linux_tcp_mem_the_scoreboard_is_kept_as_the_send_buffer_is)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *conn = sack_open(&p, &c, NULL);
    CHECK(conn->sack_on);
    CHECK(conn->sb.rec == NULL);
    static const char data[4 * 536];
    CHECK_EQ(stack_send(p.stack, c.sock, data, sizeof data, p.now), sizeof data);
    CHECK_EQ(probe_drain(&p), 4);
    CHECK(conn->sb.rec != NULL);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 16 * KIB + TCP_SB_BYTES);
    sack_bytes(&p, &c, 536, 2 * 536, 3 * 536);
    CHECK_EQ(conn->sb.sacked, 536);
    sack_bytes(&p, &c, 2 * 536, 2 * 536, 3 * 536);  /* SACKed data stays */
    CHECK(conn->sb.rec != NULL);
    sack_bytes(&p, &c, 4 * 536, 0, 0);
    CHECK_EQ(conn->sb.count + conn->sb.sacked, 0);
    /* below pressure, kept for the next flight as the send buffer's
     * memory is: a request/response connection allocates nothing per
     * request */
    CHECK(conn->sb.rec != NULL);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 16 * KIB + TCP_SB_BYTES);
    probe_drain(&p);   /* what the SACKs had resent */
    CHECK_EQ(stack_send(p.stack, c.sock, data, 536, p.now), 536);
    CHECK_EQ(probe_drain(&p), 1);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 16 * KIB + TCP_SB_BYTES);
    /* nothing more to send once the FIN is queued: both go when
     * everything is acknowledged */
    CHECK_EQ(stack_shutdown(p.stack, c.sock, SHUT_WR, p.now), 0);
    CHECK_EQ(probe_drain(&p), 1);
    sack_bytes(&p, &c, 5 * 536 + 1, 0, 0);   /* and the FIN */
    CHECK(conn->sb.rec == NULL);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 0);
    probe_free(&p);
}

/* A connection that ends with data in flight gives its records back
 * (as its buffers: nothing left to deliver). */
TEST(linux_tcp_mem_the_scoreboard_is_freed_when_the_connection_ends)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *conn = sack_open(&p, &c, NULL);
    static const char data[4 * 536];
    stack_send(p.stack, c.sock, data, sizeof data, p.now);
    probe_drain(&p);
    sack_bytes(&p, &c, 0, 536, 2 * 536);
    CHECK(conn->sb.rec != NULL);
    struct tcp_segment rst = seg_make(c.port, c.stack_port, c.snd_nxt, 0, TCP_RST, 0);
    probe_send(&p, &rst, NULL);
    CHECK(tcp_is_closed(conn));
    CHECK(conn->sb.rec == NULL);
    CHECK_EQ(tcp_stats(&p).buffer_bytes, 0);
    probe_free(&p);
}

/* 8 KiB for all: the send buffer's 4 KiB floor fits, the records do not */
static void no_memory_for_the_scoreboard(struct stack_config *cfg)
{
    cfg->tcp.mem_limit = 8 * KIB;
}

/* Memory refused for the records: the connection goes on as without SACK
 * information (tcp_sack.h): SACK blocks are ignored, three duplicate ACKs
 * still bring the fast retransmit of the first segment, and everything
 * is delivered. The records come with the next flight the memory allows. */
TEST(linux_tcp_mem_a_scoreboard_the_limit_refuses_leaves_recovery_to_duplicate_acks)
{
    struct probe p;
    struct peer c;
    const struct tcp_conn *conn = sack_open(&p, &c, no_memory_for_the_scoreboard);
    static const char data[6 * 536];
    CHECK(stack_send(p.stack, c.sock, data, sizeof data, p.now) >= 5 * 536);
    CHECK(probe_drain(&p) >= 5);
    CHECK(conn->sb.rec == NULL);
    uint32_t end = conn->snd_max - c.rcv_nxt;
    for (uint32_t i = 2; i <= 4; i++)         /* segment 0 lost */
        sack_bytes(&p, &c, 0, 536, i * 536);
    CHECK_EQ(conn->sb.sacked, 0);
    CHECK(expect_seg(&p, NULL, TCP_ACK, c.rcv_nxt, c.snd_nxt));
    sack_bytes(&p, &c, end, 0, 0);
    CHECK_EQ(conn->snd_una, conn->snd_max);
    CHECK(conn->sb.rec == NULL);
    probe_free(&p);
}
