#include "sim.h"

#include <string.h>

bool sim_init(struct sim *w, const struct link_mem_impair *imp, double hostile,
              void (*tweak)(struct stack_config *cfg))
{
    memset(w, 0, sizeof *w);
    w->now = 1000000;
    w->link = link_mem_new(1500, imp, &w->now);
    if (!w->link)
        return false;
    for (int i = 0; i < 2; i++) {
        struct stack_config cfg;
        stack_config_default(&cfg);
        cfg.addr = SIM_ADDR(i);
        cfg.random_isn_key = false;
        cfg.isn_key = (struct isn_key){ 0x5eed0000u + (uint64_t)i, 0xc0ffee };
        if (tweak)
            tweak(&cfg);
        struct link *end = link_mem_end(w->link, i);
        if (hostile > 0) {
            hostile_init(&w->hostile[i], end, hostile,
                         (imp ? imp->seed : 0) ^ (0x4057113ull + (uint64_t)i));
            end = &w->hostile[i].link;
        }
        w->stack[i] = stack_new(&cfg, end);
        if (!w->stack[i])
            return false;
        w->hostile[i].victim = w->stack[i];
    }
    return true;
}

void sim_free(struct sim *w)
{
    for (int i = 0; i < 2; i++)
        stack_free(w->stack[i]);
    link_mem_free(w->link);
}

static uint64_t earliest(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

bool sim_step(struct sim *w)
{
    for (int i = 0; i < 2; i++) {
        stack_receive(w->stack[i], w->now);
        stack_timers(w->stack[i], w->now);
    }
    uint64_t next = earliest(link_mem_next_delivery(w->link), w->wake_at);
    for (int i = 0; i < 2; i++)
        next = earliest(next, stack_next_deadline(w->stack[i]));
    if (!next)
        return false;
    if (next > w->now)
        w->now = next;
    return true;
}
