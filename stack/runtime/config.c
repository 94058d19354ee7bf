/* Configuration from the environment, read once (see README). A value
 * that does not parse stops the program with a one-line error: it must
 * not run on a half-understood setting. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tcp_cc.h"

static void die(const char *var, const char *value, const char *expected)
{
    fprintf(stderr, "tuntcp: %s=%s is not valid: expected %s\n", var, value, expected);
    exit(2);
}

/* A 0/1 setting; unset or empty keeps the default. */
static void read_flag(const char *var, bool *out)
{
    const char *v = getenv(var);
    if (!v || !*v)
        return;
    if (strcmp(v, "0") && strcmp(v, "1"))
        die(var, v, "0 or 1");
    *out = v[0] == '1';
}

static bool parse_ipv4(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return false;
    *out = ntohl(a.s_addr);
    return true;
}

static bool parse_cidr(const char *s, uint32_t *net, unsigned *prefix)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    if (!slash || (size_t)(slash - s) >= sizeof buf)
        return false;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    char *end;
    long p = strtol(slash + 1, &end, 10);
    if (*end || end == slash + 1 || p < 8 || p > 30 || !parse_ipv4(buf, net))
        return false;
    *prefix = (unsigned)p;
    *net &= ~0u << (32 - p);
    return true;
}

/* A number of bytes, with an optional K, M or G (powers of 1024), from
 * 1M to 1024G. */
static bool parse_bytes(const char *s, uint64_t *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    unsigned long long n = strtoull(s, &end, 10);
    int shift = 0;
    if (*end && !end[1]) {
        const char *units = "KMG", *u = strchr(units, *end);
        if (!u)
            return false;
        shift = 10 * (int)(u - units + 1);
        end++;
    }
    if (*end || n > (1ull << 40) >> shift)
        return false;
    *out = (uint64_t)n << shift;
    return *out >= 1ull << 20;
}

/* "loss=P,dup=P,reorder=P,seed=N", probabilities from 0 to 1. */
static bool parse_impair(const char *s, struct impair_config *out)
{
    *out = (struct impair_config){ .seed = 1 };
    char buf[256];
    if (strlen(s) >= sizeof buf)
        return false;
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '='), *end;
        if (!eq)
            return false;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(item, "seed")) {
            out->seed = strtoull(v, &end, 10);
            if (*end || end == v)
                return false;
            continue;
        }
        double p = strtod(v, &end);
        if (*end || end == v || p < 0 || p > 1)
            return false;
        if (!strcmp(item, "loss"))
            out->loss = p;
        else if (!strcmp(item, "dup"))
            out->dup = p;
        else if (!strcmp(item, "reorder"))
            out->reorder = p;
        else
            return false;
    }
    return true;
}

void config_read(struct tuntcp_config *c)
{
    const char *v;
    memset(c, 0, sizeof *c);
    snprintf(c->dev, sizeof c->dev, "tun0");
    c->net = 0xac100000;            /* 172.16.0.0/24 */
    c->prefix = 24;
    c->mtu = 1500;
    c->log = LOG_ERROR;
    c->sack = true;
    c->offload = true;
    if ((v = getenv("TUNTCP_DEV")) && *v) {
        if (strlen(v) >= sizeof c->dev || strchr(v, '/'))
            die("TUNTCP_DEV", v, "a device name of at most 15 characters");
        snprintf(c->dev, sizeof c->dev, "%s", v);
    }
    if ((v = getenv("TUNTCP_NET")) && *v && !parse_cidr(v, &c->net, &c->prefix))
        die("TUNTCP_NET", v, "an IPv4 subnet such as 172.16.0.0/24 (prefix 8 to 30)");
    c->peer = c->net + 1;
    c->addr = c->net + 2;
    if ((v = getenv("TUNTCP_ADDR")) && *v) {
        uint32_t mask = ~0u << (32 - c->prefix);
        if (!parse_ipv4(v, &c->addr) || (c->addr & mask) != c->net || c->addr == c->peer ||
            c->addr == c->net || (c->addr | mask) == 0xffffffffu)
            die("TUNTCP_ADDR", v, "a host address inside TUNTCP_NET other than the kernel side's");
    }
    if ((v = getenv("TUNTCP_MTU")) && *v) {
        char *end;
        long m = strtol(v, &end, 10);
        if (*end || m < 576 || m > 65520)
            die("TUNTCP_MTU", v, "a number from 576 to 65520");
        c->mtu = (uint32_t)m;
    }
    if ((v = getenv("TUNTCP_LOG")) && *v) {
        static const char *const names[] = { "error", "warn", "info", "debug", "packets" };
        unsigned i;
        for (i = 0; i < 5 && strcmp(v, names[i]); i++)
            ;
        if (i == 5)
            die("TUNTCP_LOG", v, "error, warn, info, debug or packets");
        c->log = (enum log_level)i;
    }
    if ((v = getenv("TUNTCP_PCAP")) && *v)
        snprintf(c->pcap, sizeof c->pcap, "%s", v);
    if ((v = getenv("TUNTCP_IMPAIR")) && *v) {
        if (!parse_impair(v, &c->impair))
            die("TUNTCP_IMPAIR", v, "loss=P,dup=P,reorder=P[,seed=N] with P from 0 to 1");
        c->impaired = true;
    }
    if ((v = getenv("TUNTCP_MSL_MS")) && *v) {
        char *end;
        long ms = strtol(v, &end, 10);
        if (*end || ms < 1 || ms > 600000)
            die("TUNTCP_MSL_MS", v, "a number of milliseconds from 1 to 600000");
        c->msl_ms = (uint32_t)ms;
    }
    if ((v = getenv("TUNTCP_MEM_LIMIT")) && *v && !parse_bytes(v, &c->mem_limit))
        die("TUNTCP_MEM_LIMIT", v, "a number of bytes from 1M to 1024G, with an optional K, M or G");
    read_flag("TUNTCP_BIND_ANY", &c->bind_any);
    read_flag("TUNTCP_SACK", &c->sack);
    read_flag("TUNTCP_OFFLOAD", &c->offload);
    if ((v = getenv("TUNTCP_CC")) && *v) {
        if (!tcp_cc_algorithm_by_name(v))
            die("TUNTCP_CC", v, "cubic or reno");
        snprintf(c->cc, sizeof c->cc, "%s", v);
    }
}

void config_vlog(const struct tuntcp_config *c, const char *who, enum log_level level,
                 const char *fmt, va_list ap)
{
    if (level > c->log)
        return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    fprintf(stderr, "%s[%d]: %s\n", who, (int)getpid(), line);
}
