/* How long sending was busy, and for how much of that the peer's window
 * or the send buffer held it back: Linux's chronographs (tcp_chrono_start,
 * tcp_chrono_stop), TCP_INFO's tcpi_busy_time, tcpi_rwnd_limited and
 * tcpi_sndbuf_limited. One runs at a time, the highest-ranked condition
 * begun (sndbuf-limited over rwnd-limited over busy); busy time is the
 * sum of the three. Linux counts jiffies, this microseconds. */
#include "tcp_internal.h"

/* Nothing in flight and nothing left to send (Linux's
 * tcp_rtx_and_write_queues_empty); a closed connection keeps none. */
static bool queues_empty(const struct tcp_conn *c)
{
    return c->state == TCP_CLOSED || (tcp_flight(c) == 0 && !tcp_send_pending(c));
}

static void chrono_set(struct tcp_conn *c, enum tcp_chrono type, uint64_t now)
{
    if (c->chrono_type != TCP_CHRONO_IDLE && now > c->chrono_start)
        c->chrono_us[c->chrono_type - 1] += now - c->chrono_start;
    c->chrono_start = now;
    c->chrono_type = (uint8_t)type;
}

void tcp_chrono_start(struct tcp_conn *c, enum tcp_chrono type, uint64_t now)
{
    /* a condition ranked higher than the one timed takes over */
    if (type > c->chrono_type)
        chrono_set(c, type, now);
}

void tcp_chrono_stop(struct tcp_conn *c, enum tcp_chrono type, uint64_t now)
{
    /* the timed condition ended: busy again while there is data, idle
     * once there is none (whichever was timed) */
    if (queues_empty(c))
        chrono_set(c, TCP_CHRONO_IDLE, now);
    else if (type == c->chrono_type)
        chrono_set(c, TCP_CHRONO_BUSY, now);
}

uint64_t tcp_chrono_us(const struct tcp_conn *c, enum tcp_chrono type, uint64_t now)
{
    /* A connection closed with a chronograph running (tcp_done has no
     * clock) reports what was counted until it last changed. */
    uint64_t us = c->chrono_us[type - 1];
    if (type == c->chrono_type && c->state != TCP_CLOSED && now > c->chrono_start)
        us += now - c->chrono_start;
    return us;
}
