/* The configuration both the interposer and the daemon read from the
 * environment (TUNTCP_*, see README). */
#ifndef TUNTCP_CONFIG_H
#define TUNTCP_CONFIG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "impair.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_PACKETS };

struct tuntcp_config {
    char dev[16];
    uint32_t net, peer, addr;   /* host order; peer = the kernel side */
    unsigned prefix;
    uint32_t mtu;
    enum log_level log;
    char pcap[4096];
    bool bind_any;
    bool sack;                  /* offer RFC 2018 SACK (default on) */
    bool offload;               /* TUN offloads: vnet header, TSO, checksums (default on) */
    char cc[16];                /* congestion control by Linux's name; "": the stack's default */
    uint32_t msl_ms;            /* TIME-WAIT lasts 2 MSL; 0: the stack's default */
    uint64_t mem_limit;         /* the stack's buffer memory; 0: its default */
    bool impaired;
    struct impair_config impair;
};

/* Reads TUNTCP_*; exits with a one-line error on a bad value. */
void config_read(struct tuntcp_config *c);
/* One log line on stderr, "who[pid]: ...", if `level` is within c's. */
void config_vlog(const struct tuntcp_config *c, const char *who, enum log_level level,
                 const char *fmt, va_list ap);

#endif
