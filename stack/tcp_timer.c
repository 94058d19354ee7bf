/* Timers as deadlines: retransmission (RFC 6298), zero-window probing
 * (RFC 9293 3.8.6.1), delayed ACK, keepalive (RFC 1122 4.2.3.6),
 * TIME-WAIT and the orphaned FIN-WAIT-2 limit. */
#include <errno.h>

#include "tcp_internal.h"

void tcp_rtt_sample(struct tcp_conn *c, uint64_t r)
{
    const struct tcp_config *cfg = c->host->cfg;
    if (r == 0)
        r = 1; /* srtt_us == 0 means "no sample yet" */
    if (!c->srtt_us) {
        /* RFC 6298 2.2: the first measurement */
        c->srtt_us = r;
        c->rttvar_us = r / 2;
    } else {
        /* RFC 6298 2.3: beta = 1/4, alpha = 1/8 */
        uint64_t delta = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;
        c->rttvar_us = (3 * c->rttvar_us + delta) / 4;
        c->srtt_us = (7 * c->srtt_us + r) / 8;
    }
    /* RFC 6298 2.3 with G = 1 us; 2.4 and 2.5: clamp to [min, max]. */
    uint64_t rto = c->srtt_us + (4 * c->rttvar_us > 1 ? 4 * c->rttvar_us : 1);
    if (rto < cfg->rto_min_us)
        rto = cfg->rto_min_us;
    c->rto_us = min_u64(rto, cfg->rto_max_us);
}

/* RFC 6298 5.5: each expiry doubles the RTO, up to the maximum. */
static uint64_t backed_off_rto(const struct tcp_conn *c)
{
    uint64_t max = c->host->cfg->rto_max_us, rto = c->rto_us;
    for (unsigned i = 0; i < c->backoff && rto < max; i++)
        rto *= 2;
    return min_u64(rto, max);
}

void tcp_update_rto_timer(struct tcp_conn *c, uint64_t now, bool restart)
{
    /* RFC 9293 3.8.6.1 and RFC 1122 4.2.3.4: data waits, nothing is in
     * flight (SND.NXT = SND.UNA, also when a timeout sent SND.NXT back
     * and the window let nothing be resent), so no ACK will come to open
     * the window: the persist timer probes a zero window, or overrides
     * sender SWS avoidance for a small one. While the window stays shut
     * the probe's octet keeps it so. */
    bool persist = tcp_synchronized(c) &&
                   ((c->snd_nxt == c->snd_una && tcp_send_pending(c)) ||
                    (c->persist && c->snd_wnd == 0));
    if (persist != c->persist) {
        c->persist = persist;
        c->rto_at = 0;
    }
    if (!persist && c->snd_max == c->snd_una) {
        /* RFC 6298 5.2: everything acknowledged, timer off */
        c->rto_at = 0;
    } else if (!c->rto_at || restart) {
        /* RFC 6298 5.1 and 5.3, and the persist timer likewise */
        c->rto_at = now + backed_off_rto(c);
    }
    tcp_tlp_arm(c, now, restart);
}

static void connection_timed_out(struct tcp_conn *c)
{
    c->host->stats.timeouts++;
    /* RFC 1122 4.2.3.9: a soft ICMP error explains the timeout better */
    tcp_done(c, c->soft_error ? c->soft_error : ETIMEDOUT);
}

/* A probe of the window, then the timer for what it sent: the persist
 * timer for a probe octet in a shut window, the retransmission timer for
 * data the override timer sent into a small one. */
static void probe_window(struct tcp_conn *c, uint64_t now)
{
    tcp_send_window_probe(c, now);
    c->rto_at = 0;
    tcp_update_rto_timer(c, now, false);
}

/* RFC 5482 (Linux TCP_USER_TIMEOUT): with a user timeout, how long data
 * may wait for its ACK, or for a window, is the only limit. */
static bool given_up(const struct tcp_conn *c, uint64_t now, unsigned count, unsigned limit)
{
    return c->user_timeout_us ? now - c->stall_since >= c->user_timeout_us : count >= limit;
}

static void persist_expired(struct tcp_conn *c, uint64_t now)
{
    /* RFC 1122 4.2.2.17: probing goes on as long as the peer answers;
     * `probes` counts the unanswered ones (Linux: the user timeout runs
     * from the first probe until the window opens). */
    if (!c->stall_since)
        c->stall_since = now;
    if (given_up(c, now, c->probes, c->host->cfg->retries)) {
        connection_timed_out(c);
        return;
    }
    c->probes++;
    /* RFC 9293 3.8.6.1: exponential backoff between probes */
    c->backoff++;
    probe_window(c, now);
}

static void rto_expired(struct tcp_conn *c, uint64_t now)
{
    const struct tcp_config *cfg = c->host->cfg;
    c->rto_at = 0;
    if (c->persist) {
        persist_expired(c, now);
        return;
    }
    c->host->stats.rto_expirations++;
    /* the oldest unacknowledged data went out at least an RTO ago */
    if (!c->stall_since)
        c->stall_since = now - backed_off_rto(c);
    tcp_note_retransmit(c, now);
    if (tcp_syn_unacked(c)) {
        if (given_up(c, now, c->backoff, cfg->syn_retries)) {
            connection_timed_out(c);
            return;
        }
        c->backoff++;
        c->host->stats.retrans_segs++;
        tcp_send_syn(c, now);
        c->rto_at = now + backed_off_rto(c);
        return;
    }
    if (given_up(c, now, c->backoff, cfg->retries)) {
        connection_timed_out(c);
        return;
    }
    /* RFC 5681 3.1: the first timeout of a series sets ssthresh (eq. 4),
     * and cwnd falls to the loss window, one segment. */
    if (c->backoff == 0) {
        tcp_undo_begin(c, true);
        /* ...unless it comes in fast recovery, whose reduction answered
         * the same loss: as Linux (tcp_enter_loss), ssthresh stays. */
        if (!c->in_recovery)
            c->ssthresh = c->cc->ssthresh(c, tcp_flight(c));
    }
    c->cwnd = c->snd_mss;
    c->cc->on_timeout(c);
    c->in_recovery = false;
    c->dupacks = 0;
    /* RFC 6582 4: no fast retransmit for losses from before the timeout */
    c->recover = c->snd_max - 1;
    /* RFC 6298 5.5 and 5.6 */
    c->backoff++;
    /* With SACK and a window open, RFC 6675 5.1: what the scoreboard
     * does not hold is resent (tcp_sack_on_rto). Else go back N: resend
     * from SND.UNA as the window reopens. */
    if (c->sack_on && c->snd_wnd > 0 && tcp_sb_covers(&c->sb, c->snd_una, c->snd_max))
        tcp_sack_on_rto(c);
    else
        c->snd_nxt = c->snd_una;
    tcp_output(c, now);
    /* RFC 1122 4.2.2.17: the peer shut its window (or shrank it below a
     * segment) under the data in flight, so nothing could be resent: the
     * persist timer has taken over, and what this timeout sends is its
     * probe. The connection then stays open as long as the peer answers
     * the probes (Linux: "our retransmits become zero probes"). */
    if (c->persist)
        probe_window(c, now);
}

static void keepalive_expired(struct tcp_conn *c, uint64_t now)
{
    c->keepalive_at = 0;
    if (!c->keepalive)
        return;
    /* RFC 1122 4.2.3.6: only an idle connection is probed; while data is
     * in flight the retransmission timer watches the peer. */
    if (c->snd_max != c->snd_una || tcp_send_pending(c) ||
        (c->probes == 0 && now - c->last_recv_at < c->ka_idle_us)) {
        tcp_arm_keepalive(c, now);
        return;
    }
    if (c->probes >= c->ka_cnt) {
        connection_timed_out(c);
        return;
    }
    c->probes++;
    c->host->stats.keepalive_probes++;
    tcp_send_probe(c, now);
    c->keepalive_at = now + c->ka_intvl_us;
}

void tcp_arm_keepalive(struct tcp_conn *c, uint64_t now)
{
    bool idle_state = c->state == TCP_ESTABLISHED ||
                      c->state == TCP_CLOSE_WAIT || c->state == TCP_FIN_WAIT_2;
    if (!c->keepalive || !idle_state) {
        c->keepalive_at = 0;
        return;
    }
    uint64_t at = c->last_recv_at + c->ka_idle_us;
    c->keepalive_at = at > now ? at : now + c->ka_intvl_us;
}

void tcp_arm_delack(struct tcp_conn *c, uint64_t now)
{
    /* RFC 9293 3.8.6.3: an ACK is delayed by less than 0.5 s */
    if (!c->delack_at)
        c->delack_at = now + c->host->cfg->delack_us;
}

void tcp_enter_time_wait(struct tcp_conn *c, uint64_t now)
{
    tcp_set_state(c, TCP_TIME_WAIT);
    /* Nothing is sent any more and nothing more is received (the peer's
     * FIN came): the buffers go, but for bytes still to be read (Linux
     * keeps a small timewait record in their place). */
    tcp_mem_release_idle(c);
    /* RFC 9293 3.10.7.4: start the time-wait timer, turn off the others */
    c->close_at = now + 2 * c->host->cfg->msl_us;
    c->rto_at = c->keepalive_at = c->reo_at = c->tlp_at = 0;
    c->persist = false;
}

void tcp_timer(struct tcp_conn *c, uint64_t now)
{
    if (c->close_at && now >= c->close_at) {
        /* TIME-WAIT over (RFC 9293 3.10.8), or an orphaned FIN-WAIT-2 */
        tcp_done(c, 0);
        return;
    }
    if (c->reo_at && now >= c->reo_at)
        tcp_rack_reo_timeout(c, now);
    if (c->tlp_at && now >= c->tlp_at)
        tcp_tlp_timeout(c, now);
    if (c->rto_at && now >= c->rto_at)
        rto_expired(c, now);
    if (c->state == TCP_CLOSED)
        return;
    if (c->delack_at && now >= c->delack_at) {
        c->delack_at = 0;
        tcp_send_ack(c, now);
    }
    if (c->keepalive_at && now >= c->keepalive_at)
        keepalive_expired(c, now);
}

uint64_t tcp_next_deadline(const struct tcp_conn *c)
{
    uint64_t t[] = { c->rto_at, c->delack_at, c->keepalive_at, c->close_at,
                     c->reo_at, c->tlp_at };
    uint64_t next = 0;
    for (unsigned i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i] && (!next || t[i] < next))
            next = t[i];
    return next;
}
