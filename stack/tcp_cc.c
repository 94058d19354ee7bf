/* The congestion control algorithms by number and by name (tcp_cc.h). */
#include "tcp_cc.h"

const struct tcp_cc_ops *tcp_cc_of(int algorithm)
{
    static const struct tcp_cc_ops *const table[TCP_CC_END] = {
        [TCP_CC_RENO] = &tcp_cc_newreno, [TCP_CC_CUBIC] = &tcp_cc_cubic,
    };
    return algorithm > 0 && algorithm < TCP_CC_END ? table[algorithm] : NULL;
}

const struct tcp_cc_ops *tcp_cc_find(const char *name)
{
    return tcp_cc_of(tcp_cc_algorithm_by_name(name));
}
