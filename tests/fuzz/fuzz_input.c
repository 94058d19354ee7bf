/* libFuzzer target: the packet input path, for a stack that listens on
 * port 80 and has a connection open to the peer's port 40000. The first
 * byte picks how the rest is used: as a raw IP packet; or as a TCP
 * segment or ICMP message that gets a valid IPv4 header and checksums, so
 * that mutations reach the TCP state machine rather than die at the
 * checksum. Built and run by `make fuzz` (clang). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "link_mem.h"
#include "stack.h"
#include "wire.h"

#define STACK_ADDR 0x0a000002u
#define PEER_ADDR 0x0a000001u

static uint64_t now = 1000000;
static struct link_mem *link;
static struct stack *stack;

/* A listener, and a connection from the peer's port 40000 left open. */
static void setup(void)
{
    link = link_mem_new(1500, NULL, &now);
    struct stack_config cfg;
    stack_config_default(&cfg);
    cfg.addr = STACK_ADDR;
    cfg.random_isn_key = false;
    stack = stack_new(&cfg, link_mem_end(link, 0));
    struct sock *l;
    stack_socket(stack, &l);
    stack_bind(stack, l, 0, 80);
    stack_listen(stack, l, 64);
    struct sock *c;
    stack_socket(stack, &c);
    stack_connect(stack, c, PEER_ADDR, 40000, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Wraps a transport payload in IPv4 from the peer, checksums made right. */
static size_t wrap(uint8_t *pkt, const uint8_t *data, size_t size, uint8_t proto)
{
    if (size > 1500 - IPV4_HDR_LEN)
        size = 1500 - IPV4_HDR_LEN;
    ipv4_build_header(pkt, PEER_ADDR, STACK_ADDR, proto, 1, (uint16_t)size, 0, 0);
    uint8_t *t = pkt + IPV4_HDR_LEN;
    memcpy(t, data, size);
    size_t at = proto == IPPROTO_TCP_ ? 16 : 2;   /* the checksum field */
    if (size >= at + 2) {
        t[at] = t[at + 1] = 0;
        uint32_t sum = proto == IPPROTO_TCP_
                           ? csum_pseudo(PEER_ADDR, STACK_ADDR, proto, (uint16_t)size) : 0;
        uint16_t c = csum_fold(csum_partial(t, size, sum));
        t[at] = (uint8_t)(c >> 8);
        t[at + 1] = (uint8_t)c;
    }
    return IPV4_HDR_LEN + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!stack)
        setup();
    if (size == 0)
        return 0;
    now += 1000;
    uint8_t pkt[1600];
    switch (data[0] % 3) {
    case 0:
        stack_input(stack, data + 1, size - 1, now);
        break;
    case 1:
        stack_input(stack, pkt, wrap(pkt, data + 1, size - 1, IPPROTO_TCP_), now);
        break;
    default:
        stack_input(stack, pkt, wrap(pkt, data + 1, size - 1, IPPROTO_ICMP_), now);
        break;
    }
    stack_timers(stack, now);
    /* drop what the stack sent, so the link does not grow */
    struct link *peer = link_mem_end(link, 1);
    uint8_t buf[2048];
    while (peer->recv(peer, buf, sizeof buf) > 0)
        ;
    return 0;
}
