/* The sender's SACK scoreboard (RFC 6675 3, RFC 8985 5.2): what became of
 * the sequence space from SND.UNA to SND.MAX, in records.
 *
 * The representation, chosen for a bound: a fixed array of at most
 * TCP_SB_RECORDS records {start, end, transmit time, flags}, in sequence
 * order and contiguous from SND.UNA, as Linux keeps one sk_buff per
 * segment with its SACKed/lost/retransmitted bits and its transmit time
 * (FreeBSD's RACK stack keeps such a "send map" too). One record is one
 * transmission (a segment, or segments sent at the same moment), so RACK
 * has the transmit time of every byte, and a SACK block, a loss mark or a
 * retransmission splits records at its edges. When the array is full two
 * neighbours merge: first a pair with the same flags (the later transmit
 * time kept: RACK then deems the earlier half lost a little later, never
 * sooner), else the oldest pair, keeping SACKED only if both had it (what
 * is not known SACKed is sent again: wasteful, never wrong). Memory is
 * bounded (TCP_SB_BYTES, 5 KiB, a connection) and every operation costs
 * at most a pass over the array, whatever a peer sends: blocks outside
 * [SND.UNA, SND.MAX] are ignored, and a block only marks what lies
 * wholly inside it.
 *
 * The array is allocated at a transmission with nothing in flight
 * (tcp_mem.c counts it) and kept as the send buffer's memory is: until
 * nothing is in flight and nothing more will be sent (our FIN queued), or
 * memory pressure, or the end of the connection; a connection that never
 * sent holds none. Without it (none yet, or the memory refused it) the
 * records are empty: SACK blocks, RACK and the delivery rate have nothing
 * to go on, as without SACK, until the next flight begins. */
#ifndef TUNTCP_TCP_SACK_H
#define TUNTCP_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#define TCP_SB_RECORDS 128

enum {
    TCP_SENT_SACKED = 1,    /* the peer SACKed it (RFC 2018) */
    TCP_SENT_LOST = 2,      /* deemed lost: RFC 6675 IsLost, RACK, an RTO */
    TCP_SENT_RETRANS = 4,   /* its last transmission was a retransmission */
};

/* The connection's delivery state when a record was last sent, for its
 * delivery rate sample (tcp_rate.c; draft-cheng-iccrg-delivery-rate-
 * estimation 3.2, Linux's TCP_SKB_CB(skb)->tx). The two times are kept
 * as ages before the transmission, saturated at about 71 minutes (a
 * sample then has too long an interval: never too high a rate), which
 * keeps a record at 40 bytes. */
struct tcp_sent_tx {
    uint32_t delivered;         /* P.delivered: C.delivered, modulo 2^32 */
    uint32_t delivered_age_us;  /* xmit time - P.delivered_time */
    uint32_t first_tx_age_us;   /* xmit time - P.first_sent_time */
    bool app_limited;           /* P.is_app_limited */
};

struct tcp_sent {
    uint32_t start, end;    /* sequence space [start, end), a FIN included */
    uint64_t xmit_us;       /* its last transmission (RACK's Segment.xmit_ts) */
    struct tcp_sent_tx tx;  /* and the delivery state then */
    uint8_t flags;
};

#define TCP_SB_BYTES (TCP_SB_RECORDS * sizeof(struct tcp_sent))

struct tcp_scoreboard {
    struct tcp_sent *rec;   /* TCP_SB_RECORDS of them, or NULL: none kept */
    uint32_t count;
    /* Bytes of the records, by flags: SACKed; lost and not SACKed;
     * retransmitted and neither SACKed nor acknowledged (in flight). */
    uint32_t sacked, lost, retrans;
    uint32_t high_sacked;   /* one past the highest SACKed octet (valid
                               while sacked > 0) */
};

/* Called for each piece of the scoreboard the peer newly acknowledged
 * (cumulatively or by SACK), before its flags change. */
typedef void tcp_sb_delivered_fn(void *ctx, const struct tcp_sent *piece);

/* Gives the scoreboard its records (empty); false if out of memory. */
bool tcp_sb_alloc(struct tcp_scoreboard *sb);
/* Takes them back, and empties the scoreboard. */
void tcp_sb_free(struct tcp_scoreboard *sb);
/* [seq, end) was sent at `now`, with the delivery state `tx`: new
 * records past the end of the map, retransmitted ones (RETRANS, new time
 * and state) below it. Nothing without records. */
void tcp_sb_sent(struct tcp_scoreboard *sb, uint32_t seq, uint32_t end, uint64_t now,
                 const struct tcp_sent_tx *tx);
/* SND.UNA moved to `ack`: what lies below goes. */
void tcp_sb_acked(struct tcp_scoreboard *sb, uint32_t ack, tcp_sb_delivered_fn *fn,
                  void *ctx);
/* A SACK block [left, right) with SND.UNA = una and SND.MAX = max:
 * ignored unless una =< left < right =< max; marks the records wholly
 * inside. Returns the bytes newly SACKed. */
uint32_t tcp_sb_sack(struct tcp_scoreboard *sb, uint32_t una, uint32_t max,
                     uint32_t left, uint32_t right, tcp_sb_delivered_fn *fn, void *ctx);
/* RFC 6675 4 IsLost for every record not SACKed, lost or retransmitted:
 * marks it lost when DupThresh discontiguous SACKed runs, or more than
 * (DupThresh - 1) * SMSS SACKed bytes, lie above it. Returns the records
 * marked. */
unsigned tcp_sb_mark_lost_dupthresh(struct tcp_scoreboard *sb, uint32_t smss);
/* Marks every record not SACKed lost, and as not retransmitted: after an
 * RTO all of it is to be sent again (RFC 6675 5.1, Linux's
 * tcp_enter_loss). */
void tcp_sb_mark_all_lost(struct tcp_scoreboard *sb);
/* Sets a record's flags, keeping the byte counts. */
void tcp_sb_set_flags(struct tcp_scoreboard *sb, struct tcp_sent *r, uint8_t flags);
/* Marks nothing lost: the reduction was spurious (tcp_undo.c). */
void tcp_sb_unmark_lost(struct tcp_scoreboard *sb);
/* Forgets every SACK: the receiver dropped data it had SACKed (RFC 2018 8
 * reneging). */
void tcp_sb_forget_sacks(struct tcp_scoreboard *sb);
/* The records cover [una, max) (everything in flight). */
bool tcp_sb_covers(const struct tcp_scoreboard *sb, uint32_t una, uint32_t max);

#define TCP_DUPTHRESH 3     /* RFC 6675 2, RFC 5681 3.2 */

#endif
