/* The runtime: a stack on a TUN device, served by one thread. The thread
 * sleeps until a packet arrives or the earliest timer is due (no tick),
 * and processes under the lock. Callers take the lock around each stack
 * call; readiness changes reach them through the stack's notify callback. */
#ifndef TUNTCP_RUNTIME_H
#define TUNTCP_RUNTIME_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#include "impair.h"
#include "stack.h"
#include "tun.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_PACKETS };

struct runtime_config {
    struct tun_config tun;
    uint32_t addr;              /* the stack's address */
    enum log_level log;
    const char *pcap;           /* file to write every packet to, or NULL */
    bool impaired;              /* impair the link (TUNTCP_IMPAIR) */
    struct impair_config impair;
};

struct runtime;

/* Opens the device and starts the thread. NULL on failure with a one-line
 * explanation in err. */
struct runtime *runtime_start(const struct runtime_config *cfg, char *err, size_t errlen);
struct stack *runtime_stack(struct runtime *rt);
void runtime_lock(struct runtime *rt);
/* Unlocks, waking the thread if a call made a deadline earlier than the
 * one it sleeps towards. */
void runtime_unlock(struct runtime *rt);
/* With the lock held: sleeps on cond until signalled or, if deadline is
 * not 0, until that monotonic time; false on timeout. */
bool runtime_wait(struct runtime *rt, pthread_cond_t *cond, uint64_t deadline);
/* A condition variable for runtime_wait (on the monotonic clock). */
void runtime_cond_init(pthread_cond_t *cond);
/* In a forked child, which has no stack thread: lets go of the lock taken
 * before the fork and of the parent's TUN fd (the memory stays). */
void runtime_release_after_fork(struct runtime *rt);
/* Monotonic microseconds: the stack's clock. */
uint64_t runtime_now(void);
/* Waits (unlocked, up to max_us) until no connection is still delivering
 * queued data or a FIN (and, with peer_fin, none waits for the peer's
 * FIN): what the process owes its peers at exit. */
void runtime_drain(struct runtime *rt, uint64_t max_us, bool peer_fin);

#endif
