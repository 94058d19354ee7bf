/* The runtime's thread and lock. */
#include "runtime.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "pktlog.h"

struct runtime {
    pthread_mutex_t lock;
    pthread_cond_t drained;     /* signalled after each round of the thread */
    struct stack *stack;
    struct tun_link tun;
    struct impair_link impair;  /* around the TUN link, when configured */
    bool impaired;
    struct pktlog log;          /* logging and capture around those */
    int wake_fd;                /* eventfd: a caller moved a deadline */
    uint64_t sleep_until;       /* the thread's wake-up deadline, 0 = none */
    bool sleeping;
    pthread_t thread;
};

uint64_t runtime_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void *stack_thread(void *arg)
{
    struct runtime *rt = arg;
    struct pollfd fds[2] = {
        { .fd = rt->tun.fd, .events = POLLIN },
        { .fd = rt->wake_fd, .events = POLLIN },
    };
    pthread_mutex_lock(&rt->lock);
    for (;;) {
        uint64_t now = runtime_now();
        stack_receive(rt->stack, now);
        stack_timers(rt->stack, now);
        if (rt->impaired)
            impair_flush(&rt->impair);
        pthread_cond_broadcast(&rt->drained);
        uint64_t deadline = stack_next_deadline(rt->stack);
        rt->sleep_until = deadline;
        rt->sleeping = true;
        pthread_mutex_unlock(&rt->lock);

        struct timespec ts, *timeout = NULL;
        if (deadline) {
            uint64_t wait = deadline > now ? deadline - now : 0;
            ts.tv_sec = (time_t)(wait / 1000000u);
            ts.tv_nsec = (long)(wait % 1000000u) * 1000;
            timeout = &ts;
        }
        if (ppoll(fds, 2, timeout, NULL) > 0 && (fds[1].revents & POLLIN)) {
            uint64_t v;
            if (read(rt->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
                break;
        }
        pthread_mutex_lock(&rt->lock);
        rt->sleeping = false;
    }
    return NULL;
}

struct runtime *runtime_start(const struct runtime_config *cfg, char *err, size_t errlen)
{
    struct runtime *rt = calloc(1, sizeof *rt);
    if (!rt) {
        snprintf(err, errlen, "tuntcp: out of memory");
        return NULL;
    }
    if (tun_open(&cfg->tun, &rt->tun, err, errlen) < 0) {
        free(rt);
        return NULL;
    }
    struct link *link = &rt->tun.link;
    rt->impaired = cfg->impaired;
    if (rt->impaired) {
        if (impair_init(&rt->impair, link, &cfg->impair) < 0) {
            snprintf(err, errlen, "tuntcp: out of memory");
            goto fail_tun;
        }
        link = &rt->impair.link;
    }
    if (pktlog_init(&rt->log, link, cfg->log == LOG_PACKETS, cfg->pcap, err, errlen) < 0)
        goto fail_impair;
    struct stack_config sc;
    stack_config_default(&sc);
    sc.addr = cfg->addr;
    /* the detour through the log only when there is something to show */
    bool shown = cfg->log == LOG_PACKETS || cfg->pcap;
    rt->stack = stack_new(&sc, shown ? &rt->log.link : link);
    rt->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!rt->stack || rt->wake_fd < 0) {
        snprintf(err, errlen, "tuntcp: cannot start the stack: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&rt->lock, NULL);
    runtime_cond_init(&rt->drained);
    /* The thread must not take the program's signals. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&rt->thread, NULL, stack_thread, rt);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "tuntcp: cannot start the stack thread: %s", strerror(rc));
        goto fail;
    }
    return rt;
fail:
    if (rt->wake_fd >= 0)
        close(rt->wake_fd);
    stack_free(rt->stack);
    pktlog_close(&rt->log);
fail_impair:
    if (rt->impaired)
        impair_free(&rt->impair);
fail_tun:
    tun_close(&rt->tun);
    free(rt);
    return NULL;
}

struct stack *runtime_stack(struct runtime *rt)
{
    return rt->stack;
}

void runtime_lock(struct runtime *rt)
{
    pthread_mutex_lock(&rt->lock);
}

/* Wakes the thread if a call made a deadline earlier than the one it
 * sleeps towards (lock held). */
static void kick_if_needed(struct runtime *rt)
{
    uint64_t d = stack_next_deadline(rt->stack);
    if (rt->sleeping && d && (!rt->sleep_until || d < rt->sleep_until)) {
        rt->sleep_until = d;
        eventfd_write(rt->wake_fd, 1);   /* fails only if already signalled */
    }
}

void runtime_unlock(struct runtime *rt)
{
    kick_if_needed(rt);
    pthread_mutex_unlock(&rt->lock);
}

/* pthread_cond_timedwait takes CLOCK_REALTIME unless told otherwise: the
 * conditions are made for CLOCK_MONOTONIC (runtime_cond_init). */
bool runtime_wait(struct runtime *rt, pthread_cond_t *cond, uint64_t deadline)
{
    kick_if_needed(rt);
    if (!deadline)
        return pthread_cond_wait(cond, &rt->lock) == 0;
    struct timespec ts = { .tv_sec = (time_t)(deadline / 1000000u),
                           .tv_nsec = (long)(deadline % 1000000u) * 1000 };
    return pthread_cond_timedwait(cond, &rt->lock, &ts) != ETIMEDOUT;
}

void runtime_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &a);
    pthread_condattr_destroy(&a);
}

void runtime_release_after_fork(struct runtime *rt)
{
    pthread_mutex_unlock(&rt->lock);
    close(rt->wake_fd);
    tun_close(&rt->tun);
}

void runtime_drain(struct runtime *rt, uint64_t max_us, bool peer_fin)
{
    uint64_t end = runtime_now() + max_us;
    pthread_mutex_lock(&rt->lock);
    while (stack_delivering(rt->stack, peer_fin) && runtime_now() < end)
        runtime_wait(rt, &rt->drained, end);
    pthread_mutex_unlock(&rt->lock);
}
