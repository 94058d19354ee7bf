/* RFC 2018 (TCP Selective Acknowledgment Options) over the probe harness:
 * the SACK-permitted negotiation. */
#include "probe.h"
#include "test.h"

static void sack_off(struct stack_config *cfg)
{
    cfg->tcp.sack = false;
}

/* Whether the SYN-ACK a listener on port 80 answers a SYN with carries
 * SACK-permitted, the SYN offering SACK or not. */
static bool synack_permits_sack(struct probe *p, bool sack_permitted)
{
    probe_listen(p, 80, 16);
    struct tcp_segment syn = seg_make(40000, 80, 1000, 0, TCP_SYN, 65535);
    syn.opt = (struct tcp_options){ .has_mss = true, .mss = 1460,
                                    .sack_permitted = sack_permitted };
    probe_send(p, &syn, NULL);
    struct tcp_segment synack;
    return probe_recv(p, &synack) && synack.flags == (TCP_SYN | TCP_ACK) &&
           synack.opt.sack_permitted;
}

/* RFC 2018 2: "This two-byte option may be sent in a SYN by a TCP that
 * has been extended to receive (and presumably process) the SACK option
 * once the connection has opened. It MUST NOT be sent on non-SYN
 * segments." */
TEST(rfc2018_2_sack_permitted_offered_in_the_syn_and_only_there)
{
    struct probe p;
    probe_init(&p, NULL);
    struct sock *k;
    CHECK_EQ(stack_socket(p.stack, &k), 0);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 5000, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    CHECK_EQ(syn.flags, TCP_SYN);
    CHECK(syn.opt.sack_permitted);
    struct tcp_segment synack = seg_make(5000, syn.sport, 7000, syn.seq + 1, TCP_SYN | TCP_ACK, 65535);
    synack.opt = (struct tcp_options){ .has_mss = true, .mss = 1460, .sack_permitted = true };
    probe_send(&p, &synack, NULL);
    struct tcp_segment ack;
    CHECK(expect_seg(&p, &ack, TCP_ACK, syn.seq + 1, 7001));
    CHECK(!ack.opt.sack_permitted);
    CHECK(stack_sock_conn(p.stack, k)->sack_on);
    probe_free(&p);
}

/* RFC 2018 2: SACK is used only when both SYNs carried SACK-permitted; a
 * SYN-ACK answers the offer and never makes one. */
TEST(rfc2018_2_sack_only_when_both_syns_carry_sack_permitted)
{
    struct probe p;
    probe_init(&p, NULL);
    CHECK(synack_permits_sack(&p, true));
    probe_free(&p);
    probe_init(&p, NULL);
    CHECK(!synack_permits_sack(&p, false));
    probe_free(&p);
    probe_init(&p, NULL);
    struct peer c;
    peer_active_open(&p, &c, 5000, NULL);   /* a SYN-ACK without it */
    CHECK(!stack_sock_conn(p.stack, c.sock)->sack_on);
    probe_free(&p);
}

/* Configured off (TUNTCP_SACK=0, as Linux's net.ipv4.tcp_sack=0): never
 * offered, and an offer is not taken. */
TEST(rfc2018_2_sack_off_neither_offers_nor_answers)
{
    struct probe p;
    probe_init(&p, sack_off);
    CHECK(!synack_permits_sack(&p, true));
    probe_free(&p);
    probe_init(&p, sack_off);
    struct sock *k;
    CHECK_EQ(stack_socket(p.stack, &k), 0);
    stack_connect(p.stack, k, PROBE_PEER_ADDR, 5000, p.now);
    struct tcp_segment syn;
    CHECK(probe_recv(&p, &syn));
    CHECK(!syn.opt.sack_permitted);
    probe_free(&p);
}
