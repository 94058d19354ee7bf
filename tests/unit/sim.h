/* Two stacks over the in-memory link on a virtual clock: the world the
 * simulation tests run in. Stack 0 is 10.0.0.1, stack 1 is 10.0.0.2. */
#ifndef TUNTCP_SIM_H
#define TUNTCP_SIM_H

#include "hostile.h"
#include "link_mem.h"
#include "stack.h"

#define SIM_ADDR(i) (0x0a000001u + (uint32_t)(i))

struct sim {
    uint64_t now;
    uint64_t wake_at;           /* the application's own deadline, 0: none */
    struct link_mem *link;
    struct stack *stack[2];
    struct hostile_link hostile[2];  /* hostile[i] delivers to stack i */
};

/* `tweak` may adjust each stack's config (may be NULL). With `hostile`
 * above 0, each stack receives through a hostile link end (hostile.h)
 * that forges that many segments per genuine one, seeded from imp->seed.
 * The ISN keys are fixed, so a seed replays exactly. False on allocation
 * failure. */
bool sim_init(struct sim *w, const struct link_mem_impair *imp, double hostile,
              void (*tweak)(struct stack_config *cfg));
void sim_free(struct sim *w);
/* Delivers the packets that are due and fires the timers that are due,
 * then moves the clock to the next event (wake_at is one). False when
 * nothing is pending (no packet in flight, no timer armed, no wake_at). */
bool sim_step(struct sim *w);

#endif
