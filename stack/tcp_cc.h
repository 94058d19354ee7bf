/* Congestion control behind a table of function pointers: NewReno
 * (tcp_cc_newreno.c) and CUBIC (tcp_cc_cubic.c, the default), chosen per
 * stack (tcp_config.cc, TUNTCP_CC) and per socket (TCP_CONGESTION). Loss
 * detection and recovery (RFC 5681 3.2, RFC 6582) and limited transmit
 * (RFC 3042) live in tcp_ack.c and tcp_output.c; an algorithm decides
 * how the window grows and how far it falls. */
#ifndef TUNTCP_TCP_CC_H
#define TUNTCP_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct tcp_conn;

/* RFC 5681 3.1: the initial ssthresh, "arbitrarily high"; no window
 * grows beyond it. */
#define TCP_CWND_MAX (1u << 30)

struct tcp_cc_ops {
    const char *name;   /* Linux's (TCP_CONGESTION) */
    /* The algorithm's own state, when the connection is established (its
     * cwnd and ssthresh are the initial ones then) or when a connection
     * switches to it (they stay). */
    void (*init)(struct tcp_conn *c);
    /* `acked` new bytes were acknowledged outside loss recovery. */
    void (*on_ack)(struct tcp_conn *c, uint32_t acked, uint64_t now);
    /* A round-trip sample, from the timed segment or an echoed
     * timestamp; called before on_ack for the ACK that brought it. */
    void (*on_rtt)(struct tcp_conn *c, uint64_t rtt_us, uint64_t now);
    /* A loss was detected (three duplicate ACKs or a timeout): returns
     * the new ssthresh. `flight_size` is RFC 5681's FlightSize, without
     * what limited transmit sent (RFC 5681 3.2 step 2). What undo needs
     * is kept. */
    uint32_t (*ssthresh)(struct tcp_conn *c, uint32_t flight_size);
    /* The retransmission timer expired (after ssthresh, when that was
     * called): cwnd is the loss window now. */
    void (*on_timeout)(struct tcp_conn *c);
    /* New data is about to go with nothing in flight, the last data
     * having gone at c->last_data_sent_at (Linux's CA_EVENT_TX_START).
     * NULL: nothing to do. */
    void (*tx_start)(struct tcp_conn *c, uint64_t now);
    /* The last reduction was spurious (for loss recovery to call once
     * it can tell, e.g. RFC 3522 / RFC 5682): cwnd, ssthresh and the
     * algorithm's state go back to what they were before it. */
    void (*undo)(struct tcp_conn *c);
};

extern const struct tcp_cc_ops tcp_cc_newreno, tcp_cc_cubic;

/* The algorithms by number, so that a choice travels as an int (the
 * STACK_OPT_CONGESTION option, the daemon's config); 0 is none. The
 * names are Linux's: NewReno is "reno". */
enum tcp_cc_algorithm { TCP_CC_RENO = 1, TCP_CC_CUBIC, TCP_CC_END };
static inline const char *tcp_cc_algorithm_name(int a)
{
    static const char *const names[TCP_CC_END] = {
        [TCP_CC_RENO] = "reno", [TCP_CC_CUBIC] = "cubic",
    };
    return a > 0 && a < TCP_CC_END ? names[a] : NULL;
}
/* The number of the algorithm `name` names, 0 if none does. */
static inline int tcp_cc_algorithm_by_name(const char *name)
{
    for (int a = 1; a < TCP_CC_END; a++)
        if (!strcmp(name, tcp_cc_algorithm_name(a)))
            return a;
    return 0;
}
/* The algorithm by number or by name; NULL if there is none. */
const struct tcp_cc_ops *tcp_cc_of(int algorithm);
const struct tcp_cc_ops *tcp_cc_find(const char *name);

/* HyStart++ (RFC 9406), slow start for CUBIC: tcp_cc_hystart.c. */
enum hystart_phase { HYSTART_OFF, HYSTART_SLOW_START, HYSTART_CSS };
struct tcp_hystart {
    uint32_t window_end;    /* the round ends when this is acknowledged */
    /* Minimum RTTs, microseconds; UINT32_MAX: none yet (RFC's infinity) */
    uint32_t last_round_min_rtt, current_round_min_rtt, css_baseline_min_rtt;
    uint8_t samples;        /* RTT samples in this round (up to N_RTT_SAMPLE) */
    uint8_t css_rounds;     /* rounds begun in Conservative Slow Start */
    uint8_t phase;          /* enum hystart_phase; OFF once slow start is
                               over or a loss ended it */
};
/* Starts the first round at SND.NXT. */
void tcp_hystart_start(struct tcp_hystart *hs, const struct tcp_conn *c);
void tcp_hystart_on_rtt(struct tcp_hystart *hs, uint64_t rtt_us);
/* Slow start's growth for `acked` bytes; true when this ended slow start
 * (CSS_ROUNDS rounds of CSS over: ssthresh = cwnd). */
bool tcp_hystart_slow_start(struct tcp_hystart *hs, struct tcp_conn *c, uint32_t acked);

/* The algorithms' own state in each connection. */
struct tcp_newreno {
    uint64_t acked;         /* bytes acknowledged towards the next SMSS */
    uint32_t undo_cwnd, undo_ssthresh;
};
/* RFC 9438 4: what one congestion-avoidance stage grows from. */
struct tcp_cubic_epoch {
    bool begun;             /* the stage began, at `start` */
    uint64_t start;
    uint32_t w_max;         /* bytes; 0: none (before any loss, after a timeout) */
    uint32_t k_ms;          /* K (eq. 2), milliseconds */
    uint32_t cwnd_epoch;    /* cwnd when the stage began */
    uint32_t w_est;         /* the Reno-friendly estimate (4.3), bytes */
    uint32_t cwnd_prior;    /* cwnd when ssthresh was last set */
};
struct tcp_cubic {
    struct tcp_cubic_epoch e;
    struct tcp_cubic_epoch undo;  /* before the last reduction (4.9) */
    uint32_t undo_ssthresh;
    uint64_t cwnd_acc;      /* growth owed to cwnd, bytes * cwnd */
    uint64_t w_est_acc;     /* growth owed to W_est, bytes * 17 * cwnd */
    struct tcp_hystart hs;
};
union tcp_cc_state {
    struct tcp_newreno newreno;
    struct tcp_cubic cubic;
};

#endif
