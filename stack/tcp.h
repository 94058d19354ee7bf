/* One TCP connection (RFC 9293): a pure state machine. Input is the
 * connection, a parsed segment and the current time; output is segments
 * handed to the host's emit function and a changed state. No I/O, no clock
 * reads, no locks. Timers are deadlines the connection reports.
 *
 * Times are microseconds on the caller's clock (monotonic or virtual). */
#ifndef TUNTCP_TCP_H
#define TUNTCP_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "hlist.h"
#include "reass.h"
#include "ring.h"
#include "seq.h"
#include "tcp_cc.h"
#include "tcp_sack.h"
#include "wire.h"

#define TCP_MAX_WSCALE 14        /* RFC 7323 2.3 */

enum tcp_state {
    TCP_CLOSED, TCP_LISTEN, TCP_SYN_SENT, TCP_SYN_RECEIVED, TCP_ESTABLISHED,
    TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING,
    TCP_LAST_ACK, TCP_TIME_WAIT,
};
const char *tcp_state_name(enum tcp_state s);

/* Tunables shared by the connections of one stack. */
struct tcp_config {
    uint32_t mss;               /* MSS we announce: link MTU - 40 */
    uint32_t sndbuf, rcvbuf;    /* default buffer sizes, bytes */
    uint32_t rcvbuf_max;        /* receive buffers grow to at most this
                                   (tcp_rcvbuf.c; Linux's tcp_rmem[2]) */
    uint64_t mem_limit;         /* bytes of buffer memory for all connections
                                   together (Linux's tcp_mem; tcp_mem.c) */
    uint64_t rto_initial_us;    /* RFC 6298 2.1: 1 s */
    uint64_t rto_min_us;        /* Linux's 200 ms rather than RFC 6298's 1 s */
    uint64_t rto_max_us;        /* RFC 6298 2.5: at least 60 s */
    unsigned syn_retries;       /* SYN retransmissions before ETIMEDOUT */
    unsigned retries;           /* data retransmissions before ETIMEDOUT */
    uint64_t msl_us;            /* TIME-WAIT lasts 2 * MSL */
    uint64_t fin_timeout_us;    /* FIN-WAIT-2 lifetime once the user closed */
    uint64_t delack_us;         /* delayed-ACK timeout (RFC 9293 3.8.6.3: < 0.5 s) */
    uint64_t keepalive_idle_us, keepalive_intvl_us;
    unsigned keepalive_cnt;
    uint32_t challenge_ack_limit;  /* per second, per connection, on average
                                      (RFC 5961 7; see tcp_send_challenge_ack) */
    bool window_scaling;        /* offer RFC 7323 window scaling */
    bool timestamps;            /* offer RFC 7323 timestamps */
    bool sack;                  /* offer RFC 2018 SACK (TUNTCP_SACK) */
    bool rack;                  /* with SACK, RFC 8985 RACK-TLP detects
                                   losses (Linux's tcp_recovery=1); off,
                                   RFC 6675 IsLost */
    const struct tcp_cc_ops *cc;
};
void tcp_config_default(struct tcp_config *cfg);

struct tcp_stats {
    uint64_t segs_out, data_segs_out, bytes_out, retrans_segs;
    uint64_t fast_retransmits, rto_expirations, zero_window_probes;
    uint64_t keepalive_probes, challenge_acks, challenge_acks_suppressed;
    uint64_t oow_acks_suppressed;   /* unacceptable segments left unanswered */
    uint64_t rst_out, paws_drops, unacceptable_segs, ooo_segs, ooo_dropped;
    uint64_t active_opens, passive_opens, established, resets_in, timeouts;
    uint64_t aborts_on_data;        /* data after close answered with RST */
    uint64_t syncookies_sent, syncookies_ok, syncookies_failed;
    /* Buffer memory (tcp_mem.c): allocated now, the most ever, the limit;
     * times memory came under pressure, connections whose out-of-order
     * data was pruned, segments (or their tails) dropped for memory. */
    uint64_t buffer_bytes, buffer_peak_bytes, buffer_limit_bytes;
    uint64_t mem_pressure_events, ooo_pruned, mem_drops;
    /* SACK-based recovery (tcp_recovery.c): fast recoveries entered,
     * bytes newly SACKed by the peers. */
    uint64_t sack_recoveries, sacked_bytes;
    /* RFC 8985: segments RACK deemed lost, tail loss probes sent, and
     * probes that repaired a loss (a cwnd reduction, 7.4). */
    uint64_t rack_lost_segs, tlp_probes, tlp_recoveries;
    /* Reductions of cwnd undone as spurious (tcp_undo.c): shown so by
     * timestamps (RFC 3522 Eifel; Linux's TCPFullUndo and TCPLossUndo),
     * or by D-SACKs of every retransmission (RFC 3708; TCPDSACKUndo). */
    uint64_t undo_eifel, undo_dsack;
};

/* RFC 8985 RACK-TLP state of a connection (tcp_rack.c). */
struct tcp_rack {
    uint64_t xmit_us;       /* RACK.xmit_ts: latest transmit time delivered */
    uint32_t end_seq;       /* RACK.end_seq */
    uint32_t fack;          /* RACK.fack: highest end delivered */
    uint64_t rtt_us;        /* RACK.rtt */
    bool reordering_seen;   /* RACK.reordering_seen */
    bool dsack_round_on;    /* RACK.dsack_round is set */
    uint32_t dsack_round;
    uint8_t reo_wnd_mult, reo_wnd_persist;
    bool tlp_out;           /* TLP.end_seq is set: a probe is outstanding */
    bool tlp_is_retrans;    /* TLP.is_retrans */
    uint32_t tlp_end_seq;   /* TLP.end_seq */
};

/* Spurious retransmission detection (tcp_undo.c): an episode begins
 * with a reduction of cwnd (fast recovery or an RTO), which is undone if
 * the retransmissions prove needless (Linux's undo_marker, undo_retrans,
 * retrans_stamp). */
struct tcp_undo {
    bool armed;             /* the last reduction may yet be undone */
    bool loss;              /* it was an RTO's, whose recovery goes on
                               (Linux's Loss state) */
    uint32_t marker;        /* SND.UNA when it began (undo_marker) */
    uint32_t retrans;       /* bytes retransmitted since, that no D-SACK
                               has shown needless (undo_retrans) */
    uint32_t retrans_high;  /* one past the highest of them */
    bool retransmitted;     /* anything was, in the episode */
    bool stamped;           /* stamp is set: */
    uint32_t stamp;         /* our TSval of the first retransmission since
                               no retransmitted data was outstanding */
    uint32_t stamp_high;    /* one past the highest octet resent since */
};

/* Delivery rate estimation (tcp_rate.c; draft-cheng-iccrg-delivery-rate-
 * estimation, Linux's tcp_rate.c), in bytes of sequence space where Linux
 * counts segments. */
struct tcp_rate {
    uint64_t delivered;     /* C.delivered: acknowledged cumulatively or by
                               SACK, each once; our SYN too, as Linux */
    uint32_t delivered_segs; /* the same in segments (TCP_INFO's
                               tcpi_delivered): a piece delivered counts
                               as the full-sized segments it could hold */
    uint64_t delivered_us;  /* C.delivered_time: when it last grew */
    uint64_t first_tx_us;   /* C.first_sent_time: the send time of the
                               newest segment delivered */
    uint64_t app_limited;   /* C.app_limited: 0, or the `delivered` count
                               until which samples are application-limited */
    /* The sample kept, as TCP_INFO reports it (Linux's rate_delivered,
     * rate_interval_us, rate_app_limited) */
    uint32_t sample_delivered;
    uint64_t sample_interval_us;
    bool sample_app_limited;
};

/* What TCP_INFO counts for one connection (Linux's tcp_sock counters,
 * named after RFC 4898's). Bytes are sequence space: bytes_acked and
 * bytes_received count a FIN, bytes_acked our SYN when we opened
 * actively, as Linux. */
struct tcp_conn_stats {
    uint64_t bytes_sent;        /* data sent, retransmissions included */
    uint64_t bytes_retrans;     /* data sent again */
    uint64_t bytes_acked;       /* SND.UNA's advance */
    uint64_t bytes_received;    /* RCV.NXT's advance */
    uint32_t segs_out, segs_in, data_segs_out, data_segs_in;
    uint32_t total_retrans;     /* segments sent again */
    uint32_t dsack_dups;        /* segments D-SACKs reported (RFC 2883) */
    uint32_t reord_seen;        /* ACKs that showed reordering (RACK) */
};

/* Linux's chronographs (tcp_chrono.c), in its order of rank. */
enum tcp_chrono {
    TCP_CHRONO_IDLE,            /* nothing to send, nothing in flight */
    TCP_CHRONO_BUSY,            /* data in flight or waiting to be sent */
    TCP_CHRONO_RWND_LIMITED,    /* the peer's window holds data back */
    TCP_CHRONO_SNDBUF_LIMITED,  /* everything in the send buffer went and
                                   the writer waits for room in it */
    TCP_CHRONO_COUNT
};

struct tcp_endpoints {
    uint32_t laddr, raddr;      /* host byte order */
    uint16_t lport, rport;
};

struct tcp_conn;

/* The state of a host's buffer memory (tcp_mem.c); the bytes are counted
 * in tcp_stats.buffer_bytes. */
struct tcp_mem {
    struct hnode *conns;    /* connections holding buffer memory */
    bool pressure;          /* from 3/4 of the limit until back under 1/2 */
    bool pruned;            /* out-of-order data pruned in this pressure */
    bool writers_refused;   /* a send found no memory in this pressure */
    bool wake_due;          /* and the pressure is over: wake the writers */
};

/* What a connection runs in: configuration, the output function,
 * counters and the buffer memory of its connections. */
struct tcp_host {
    const struct tcp_config *cfg;
    /* Sends one segment from ep->laddr:lport to ep->raddr:rport. */
    void (*emit)(struct tcp_host *h, const struct tcp_endpoints *ep,
                 const struct tcp_segment *seg,
                 const struct tcp_payload *payload);
    /* While set, an ACK owed only for "every second segment" is handed
     * here instead of sent, and sent by tcp_flush_ack once the batch of
     * packets being processed is done: a few stretch ACKs per burst, not
     * one per two segments (as after Linux's GRO). NULL: no batching. */
    void (*defer_ack)(struct tcp_host *h, struct tcp_conn *c);
    /* While set, the segments come from one super-packet cut up: no
     * stretch ACK inside it (as when it is taken whole, and as after
     * Linux's GRO); the stride is checked again by the connection's next
     * output or the batch's flush. */
    bool in_super_packet;
    /* An emit that keeps the payload it is handed (pieces of c's send
     * buffer) to send later sets this: it is called before the send
     * buffer's bytes up to sequence `upto` are released, and before the
     * buffer moves or is freed (upto SND.MAX), so that the host uses
     * what it kept first. NULL: emit is done with the payload on return. */
    void (*sndbuf_release)(struct tcp_host *h, const struct tcp_conn *c, uint32_t upto);
    struct tcp_stats stats;
    struct tcp_mem mem;
};

/* Receive buffer autotuning (tcp_rcvbuf.c; Linux's rcvq_space and
 * rcv_rtt_est). */
struct tcp_rcv_space {
    uint64_t rtt_us;        /* the receiver's round trip (0: none yet) */
    uint64_t rtt_at;        /* when its measurement began */
    uint32_t rtt_seq;       /* ... and the window's end it waits for */
    uint32_t copied;        /* bytes read in the last round trip */
    uint32_t copied_seq;    /* where the reader was when it began */
    uint64_t at;            /* ... and when */
};

struct tcp_conn {
    enum tcp_state state;
    struct tcp_endpoints ep;
    struct tcp_host *host;

    /* Send sequence variables (RFC 9293 3.3.1). */
    uint32_t snd_una, snd_nxt, snd_wnd, snd_up, snd_wl1, snd_wl2, iss;
    uint32_t snd_max;       /* highest sequence sent + 1; SND.NXT retreats to
                               SND.UNA after a timeout (go-back-N) */
    uint32_t max_snd_wnd;   /* largest window the peer has offered */
    uint32_t snd_sml;       /* end of the last short segment sent (Linux's
                               snd_sml, for Minshall's Nagle) */
    uint16_t snd_mss;       /* payload per segment: peer's MSS, our MTU,
                               less the timestamp option */
    uint16_t mss_clamp;     /* the user's limit (TCP_MAXSEG), 0 = none */
    uint8_t ip_tos, ip_ttl; /* for the IP header (IP_TOS, IP_TTL; TTL 0: default) */
    bool ws_on;             /* RFC 7323 2.2: both SYNs offered scaling */
    uint8_t snd_wscale, rcv_wscale;  /* RFC 7323 2: shift counts */
    bool sack_on;           /* RFC 2018 2: both SYNs carried SACK-permitted */

    /* Receive sequence variables. */
    uint32_t rcv_nxt, rcv_wnd, rcv_up, irs;
    uint32_t rcv_adv;       /* right edge we last advertised: never moves
                               left (RFC 9293 3.8.6.2.2) */
    uint32_t rcv_offered;   /* the furthest right edge a segment of ours
                               showed: a window rounded up to our scale
                               reaches past rcv_adv, and the peer may send
                               up to it */
    uint32_t last_ack_sent; /* RFC 7323 4.3 */

    /* RFC 7323 timestamps. */
    bool ts_on;
    uint32_t ts_recent;
    uint64_t ts_recent_at;  /* when ts_recent was set (PAWS 24-day rule) */
    uint32_t ts_offset;     /* random per-connection TSval offset */
    uint32_t rexmit_tsval;  /* TSval when we last retransmitted: older
                               echoes are no round-trip sample */

    /* Buffers: sndbuf holds bytes from SND.UNA (after the SYN) onward;
     * rcvbuf holds bytes ready for the user, then out-of-order data at
     * its place (reass says where). Their memory comes from the host
     * (tcp_mem.c). */
    struct ring sndbuf, rcvbuf;
    struct reass reass;
    /* What our ACKs report (RFC 2018 4, RFC 2883 4; tcp_sack_rcv.c): a
     * sequence number in each block lately reported, most recent first,
     * and a duplicate the next ACK reports (D-SACK). */
    uint8_t sack_recent_count;
    uint32_t sack_recent[TCP_MAX_SACK_BLOCKS];
    bool dsack;
    uint32_t dsack_start, dsack_end;
    struct hnode mem_node;  /* in host->mem.conns while holding memory */
    bool snd_mem_refused;   /* a send found no memory: woken when it frees */
    bool fin_queued;        /* user's CLOSE/shutdown: FIN follows the data */
    uint32_t fin_seq;       /* the FIN's sequence number, once queued */
    bool fin_received;      /* peer's FIN accepted: EOF after rcvbuf */
    bool ooo_fin;           /* a FIN beyond a gap, at ooo_fin_seq: the
                               stream ends there, nothing beyond is taken */
    uint32_t ooo_fin_seq;
    bool passive;           /* opened from LISTEN (RFC 9293 3.10.7.4 RST) */
    bool user_closed;       /* the user released the connection */

    /* RFC 6298 retransmission timer. */
    uint64_t srtt_us, rttvar_us, rto_us;
    uint64_t min_rtt_us;    /* RACK.min_RTT, the rate estimator's too
                               (tcp_min_rtt_delivered); 0: none yet */
    bool rtt_timing;        /* Karn: timing one segment, not a retransmit */
    uint32_t rtt_seq;
    uint64_t rtt_start;
    unsigned backoff;       /* consecutive timeouts (RTO or persist) */
    uint64_t user_timeout_us; /* RFC 5482 (TCP_USER_TIMEOUT), 0: the retry counts */
    uint64_t stall_since;   /* since when data waits for an ACK or a window
                               (0: it does not; set by the timers) */

    /* RFC 5681 / RFC 6582 congestion control. */
    const struct tcp_cc_ops *cc;
    uint32_t cwnd, ssthresh;
    unsigned dupacks;
    uint32_t limited_transmit_bytes;  /* RFC 3042: sent beyond cwnd on the
                                         current run of duplicate ACKs */
    /* Whether cwnd limited sending over the last round trip (Linux's
     * tcp_cwnd_validate): the most in flight since cwnd_usage_seq, and
     * whether cwnd was full then. cwnd grows only if it was. */
    uint32_t max_flight;
    uint32_t cwnd_usage_seq;
    bool is_cwnd_limited;
    bool in_recovery;
    bool recovery_rto_reset;  /* RFC 6582 3.2 step 5: first partial ACK seen */
    uint32_t recover;         /* RFC 6582: highest sequence sent at loss
                                 (RFC 6675's RecoveryPoint) */
    union tcp_cc_state cc_state;  /* the algorithm's own */

    /* RFC 6675 SACK-based loss recovery (tcp_recovery.c), when sack_on;
     * the scoreboard is kept without SACK too, for the delivery rate. */
    struct tcp_scoreboard sb;
    uint32_t high_rxt;      /* RFC 6675 HighRxt, as one past the octet */
    uint32_t rescue_rxt;    /* RFC 6675 RescueRxt, likewise */
    /* RFC 6937 proportional rate reduction, during fast recovery */
    uint32_t prr_delivered; /* bytes the peer received since it began */
    uint32_t prr_out;       /* bytes sent since it began */
    uint32_t recover_fs;    /* RecoverFS: FlightSize when it began */
    struct tcp_rack rack;
    uint32_t reordering;    /* how far (in segments) the peer has been
                               seen to reorder; DupThresh until then
                               (Linux's tp->reordering, for TCP_INFO) */
    bool rto_recovery;      /* an RTO sent everything not SACKed back to be
                               resent, until SND.UNA passes recover (RFC
                               6675 5.1; Linux's Loss state) */
    struct tcp_undo undo;
    struct tcp_rate rate;
    struct tcp_rcv_space rcv_space;
    bool rcvbuf_locked;     /* sized by the user: no autotuning */
    struct tcp_conn_stats stats;
    /* TCP_INFO's times (Linux's lsndtime, icsk_ack.lrcvtime; the last
     * ACK is last_recv_at) and chronographs (tcp_chrono.c) */
    uint64_t last_data_sent_at;  /* data sent, resent data too */
    uint64_t last_data_recv_at;  /* in-order data received */
    uint8_t chrono_type;         /* enum tcp_chrono timed since chrono_start */
    uint64_t chrono_start;
    uint64_t chrono_us[TCP_CHRONO_COUNT - 1];  /* time in each but idle */
    bool snd_nospace;       /* a write found the send buffer full and has
                               not had room since (Linux's SOCK_NOSPACE) */

    /* ACK generation (RFC 9293 3.8.6.3, RFC 5681 4.2). */
    bool ack_now;
    bool ack_soon;          /* an ACK is due, and may wait for the batch */
    bool ack_deferred;      /* handed to host->defer_ack */
    unsigned segs_unacked;  /* full-sized segments received since our ACK */
    unsigned ack_stride;    /* segments one ACK may cover within a batch:
                               a quarter of the last batch, at least 2 */
    uint32_t batch_from;    /* stats.data_segs_in when this batch began */

    /* RFC 5961 7: this connection's own challenge-ACK budget. */
    uint64_t challenge_rng;       /* rng.h state, seeded from the ISS */
    uint64_t challenge_until;     /* end of the current one-second window */
    uint64_t challenge_acks_left; /* challenge ACKs still allowed in it */
    uint64_t oow_ack_at;          /* when an unacceptable segment without
                                     text was last answered (Linux's
                                     last_oow_ack_time) */

    /* Deadlines, microseconds; 0 = not armed. */
    uint64_t rto_at;        /* retransmission or zero-window probe */
    uint64_t reo_at;        /* RFC 8985 6.3 RACK reordering timer */
    uint64_t tlp_at;        /* RFC 8985 7.2 tail loss probe (PTO) */
    bool persist;           /* rto_at is the persist timer (RFC 9293 3.8.6.1) */
    uint64_t delack_at;
    uint64_t keepalive_at;
    uint64_t close_at;      /* TIME-WAIT end, or orphaned FIN-WAIT-2 end */

    /* Options set by the user. */
    bool nodelay;           /* Nagle off (RFC 9293 3.7.4) */
    unsigned quickacks;     /* Linux TCP_QUICKACK: segments still ACKed at once */
    bool cork;              /* Linux TCP_CORK: only full segments, until
                               uncorked or the persist timer (>= 200 ms) */
    bool keepalive;         /* RFC 1122 4.2.3.6 */
    uint64_t ka_idle_us, ka_intvl_us;
    unsigned ka_cnt;
    unsigned probes;        /* keepalive or window probes unanswered */
    uint64_t last_recv_at;  /* an ACK not older than SND.UNA came (Linux's
                               rcv_tstamp), or the connection opened */

    int error;              /* pending error (positive errno), SO_ERROR */
    int soft_error;         /* ICMP soft error, reported on timeout */
};

/* A connection in TIME-WAIT reduced to what it still needs (see
 * tcp_time_wait.c): about a fifth of a tcp_conn, and no buffers. */
struct tcp_time_wait {
    struct tcp_endpoints ep;
    uint32_t snd_nxt, snd_wnd, max_snd_wnd, snd_wl1, snd_wl2;
    uint32_t rcv_nxt, rcv_adv;
    uint32_t ts_recent, ts_offset;
    uint64_t ts_recent_at;
    uint64_t close_at;      /* 2 MSL after the last FIN */
    uint64_t challenge_rng, challenge_until, challenge_acks_left;
    uint8_t snd_wscale, rcv_wscale, ip_tos, ip_ttl;
    bool ws_on, ts_on;
};
/* Records a connection in TIME-WAIT. */
void tcp_time_wait_save(const struct tcp_conn *c, struct tcp_time_wait *tw);
/* A segment for the record, processed as tcp_input would for the
 * connection; false when that ended it (a RST at RCV.NXT). */
bool tcp_time_wait_input(struct tcp_time_wait *tw, struct tcp_host *h,
                         const struct tcp_segment *seg, uint64_t now);
/* True for a SYN that may reopen the 4-tuple (RFC 6191). */
bool tcp_time_wait_reusable(const struct tcp_time_wait *tw, const struct tcp_segment *seg);

/* A CLOSED connection with buffers of these sizes; no memory is
 * allocated until data comes (one that never carries data, such as the
 * answer to a SYN with a cookie, needs no tcp_conn_destroy). */
void tcp_conn_init(struct tcp_conn *c, struct tcp_host *host,
                   const struct tcp_endpoints *ep, uint32_t sndbuf,
                   uint32_t rcvbuf);
/* Frees the buffers. */
void tcp_conn_destroy(struct tcp_conn *c);

/* A super-packet (gso.h) of `segs` segments of seg_size bytes of payload
 * (the last may be shorter), `seg` standing for all of them: taken as
 * one segment (one acceptability test, one copy into the receive buffer,
 * one ACK decision, counted as `segs` segments) when that leaves the
 * same state and sends the same segments as taking them one by one: in
 * order, within the window and buffer, nothing held out of order, an ACK
 * field with no news, nothing to send and ACKs deferred to the end of
 * the batch (host->defer_ack). Else false, nothing done: the caller
 * feeds them to tcp_input one by one. */
bool tcp_input_coalesced(struct tcp_conn *c, const struct tcp_segment *seg, unsigned segs,
                         uint32_t seg_size, uint64_t now);
/* RFC 9293 3.10.1 OPEN, active: sends SYN, enters SYN-SENT. */
void tcp_open_active(struct tcp_conn *c, uint32_t iss, uint64_t now);
/* OPEN, passive: the connection enters LISTEN; the SYN that created it is
 * then passed to tcp_input (the stack keeps one LISTEN connection per
 * incoming SYN, so that listeners stay stateless). */
void tcp_open_passive(struct tcp_conn *c, uint32_t iss);
/* Answers `syn` with the SYN-ACK a listener would send, with ISS `iss`
 * (a SYN cookie). */
void tcp_answer_with_cookie(struct tcp_conn *c, uint32_t iss, const struct tcp_segment *syn,
                            uint64_t now);
/* SYN-RECEIVED as if `syn` had come to a listener and our SYN-ACK with
 * ISS `iss` had gone (a SYN cookie came back: syncookie.h). */
void tcp_open_cookie(struct tcp_conn *c, uint32_t iss, const struct tcp_segment *syn,
                     uint64_t now);

/* RFC 9293 3.10.7: SEGMENT ARRIVES. */
void tcp_input(struct tcp_conn *c, const struct tcp_segment *seg,
               uint64_t now);
/* RFC 9293 3.10.7.1: the reset answering a segment that reached no
 * connection (CLOSED state). Nothing is sent in reply to a RST. */
void tcp_reply_reset(struct tcp_host *h, const struct tcp_endpoints *ep,
                     const struct tcp_segment *seg);
/* An ICMP destination unreachable / time exceeded naming this connection
 * (RFC 1122 4.2.3.9, RFC 5927): `seq` is the quoted sequence number,
 * `mtu` the next-hop MTU for fragmentation-needed (else 0). */
void tcp_icmp_error(struct tcp_conn *c, uint8_t type, uint8_t code,
                    uint32_t seq, uint16_t mtu, uint64_t now);

/* Sends the ACK deferred by host->defer_ack, if still owed. */
void tcp_flush_ack(struct tcp_conn *c, uint64_t now);

/* Fires whatever deadline has passed. */
void tcp_timer(struct tcp_conn *c, uint64_t now);
/* The earliest armed deadline, 0 if none. */
uint64_t tcp_next_deadline(const struct tcp_conn *c);

/* User calls (RFC 9293 3.10.2 - 3.10.5). Errors are negative errno. */
/* Queues up to len bytes; returns how many (> 0), -EAGAIN when the buffer
 * is full, -EPIPE after shutdown or close, -ENOTCONN before the handshake
 * began, or the pending error (e.g. -ECONNRESET) once. */
ssize_t tcp_send(struct tcp_conn *c, const void *buf, size_t len,
                 uint64_t now);
/* Copies up to len bytes out; 0 means end of stream, -EAGAIN nothing yet,
 * -ENOTCONN before a connection, or the pending error once. With `peek`
 * the bytes stay. */
ssize_t tcp_recv(struct tcp_conn *c, void *buf, size_t len, bool peek,
                 uint64_t now);
/* Bytes ready to read. */
uint32_t tcp_readable(const struct tcp_conn *c);
/* Consumes n bytes the user took from the front of rcvbuf (ring_view),
 * and tells the peer if that opened the window a lot. */
void tcp_recv_consume(struct tcp_conn *c, uint32_t n, uint64_t now);
/* The room in the send buffer's memory for the user to write into, after
 * the bytes it holds (the memory grows first if it is full and may). For
 * a user with something to write: none says it waits for room. */
uint32_t tcp_send_room(struct tcp_conn *c);
/* n bytes the user wrote into that room are sent as tcp_send sends them. */
void tcp_send_commit(struct tcp_conn *c, uint32_t n, uint64_t now);
/* shutdown(SHUT_WR): FIN after the queued data. */
void tcp_shutdown_send(struct tcp_conn *c, uint64_t now);
/* RFC 9293 3.10.4 CLOSE: FIN after queued data; unread received data makes
 * it an abort instead (RFC 2525 2.17), as Linux does. */
void tcp_close(struct tcp_conn *c, uint64_t now);
/* RFC 9293 3.10.5 ABORT: RST to the peer, connection CLOSED. */
void tcp_abort(struct tcp_conn *c, uint64_t now);
/* Consumes the pending error (SO_ERROR): positive errno or 0. */
int tcp_take_error(struct tcp_conn *c);
/* Readiness as poll(2) bits: POLLIN, POLLOUT, POLLRDHUP, POLLHUP, POLLERR. */
unsigned tcp_poll(const struct tcp_conn *c);
/* The delivery rate of the sample kept, bytes per second (0: none yet;
 * TCP_INFO's tcpi_delivery_rate). */
uint64_t tcp_delivery_rate(const struct tcp_conn *c);
/* Written and never sent, a FIN queued included (TCP_INFO's
 * tcpi_notsent_bytes, Linux's write_seq - snd_nxt). */
uint32_t tcp_notsent_bytes(const struct tcp_conn *c);
/* The time spent in a chronograph other than idle, microseconds
 * (tcp_chrono.c); busy time is the sum of the three. */
uint64_t tcp_chrono_us(const struct tcp_conn *c, enum tcp_chrono type, uint64_t now);
/* Options. */
void tcp_set_nodelay(struct tcp_conn *c, bool on, uint64_t now);
void tcp_set_cork(struct tcp_conn *c, bool on, uint64_t now);
/* Linux TCP_QUICKACK: on, an ACK owed goes now and the next segments are
 * ACKed at once (TCP_MAX_QUICKACKS of them); off, delayed ACKs again. */
void tcp_set_quickack(struct tcp_conn *c, bool on, uint64_t now);
void tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t now);
/* TCP_CONGESTION: the algorithm from now on (an open connection keeps
 * its cwnd and ssthresh, as Linux's tcp_reinit_congestion_control). */
void tcp_set_congestion(struct tcp_conn *c, const struct tcp_cc_ops *cc);
/* Once memory pressure is over: calls `wake` for each
 * connection whose send found no memory (its readiness may change). */
void tcp_mem_wake_writers(struct tcp_host *h,
                          void (*wake)(struct tcp_host *h, struct tcp_conn *c));
/* The connection is over: CLOSED after having been used, or never opened. */
static inline bool tcp_is_closed(const struct tcp_conn *c)
{
    return c->state == TCP_CLOSED;
}
/* `bytes` in segments of the connection's MSS, a part counting as one
 * (as Linux counts packets for TCP_INFO and reordering). */
static inline uint32_t tcp_segs(const struct tcp_conn *c, uint32_t bytes)
{
    uint32_t mss = c->snd_mss ? c->snd_mss : 1;
    return (uint32_t)(((uint64_t)bytes + mss - 1) / mss);
}

#endif
