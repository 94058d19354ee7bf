/* Abstract names as text ("@tuntcp/tun0/..." in `ss -x`), so that they
 * read well in tools; the parse is strict, as anything can bind a name. */
#include "sockname.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define PREFIX "tuntcp/"

static socklen_t put_name(struct sockaddr_un *sa, const char *text)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    size_t n = strlen(text);   /* callers keep it under sun_path */
    memcpy(sa->sun_path + 1, text, n);   /* sun_path[0] = 0: abstract */
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

#define IP_FMT "%u.%u.%u.%u"
#define IP_ARGS(a) (a) >> 24, ((a) >> 16) & 255, ((a) >> 8) & 255, (a) & 255

socklen_t sockname_address(const struct sockname *n, struct sockaddr_un *sa)
{
    char text[sizeof sa->sun_path - 1];
    snprintf(text, sizeof text, PREFIX "%s/%08x/%llu/%c/" IP_FMT ":%u/" IP_FMT ":%u", n->dev,
             n->nonce, (unsigned long long)n->id, n->kind, IP_ARGS(n->laddr), n->lport,
             IP_ARGS(n->raddr), n->rport);
    return put_name(sa, text);
}

static bool parse_ip(const unsigned b[4], uint32_t *out)
{
    for (int i = 0; i < 4; i++)
        if (b[i] > 255)
            return false;
    *out = b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
    return true;
}

bool sockname_parse(const struct sockaddr_un *sa, socklen_t len, struct sockname *n)
{
    size_t off = offsetof(struct sockaddr_un, sun_path);
    if (len <= off + 1 + strlen(PREFIX) || len > sizeof *sa || sa->sun_family != AF_UNIX ||
        sa->sun_path[0] != '\0')
        return false;
    char text[sizeof sa->sun_path];
    size_t tlen = len - off - 1;
    memcpy(text, sa->sun_path + 1, tlen);
    text[tlen] = '\0';
    unsigned long long id;
    unsigned l[4], r[4], lport, rport;
    int end = 0;
    memset(n, 0, sizeof *n);
    if (sscanf(text, PREFIX "%15[^/]/%8x/%llu/%c/%u.%u.%u.%u:%u/%u.%u.%u.%u:%u%n", n->dev, &n->nonce,
               &id, &n->kind, &l[0], &l[1], &l[2], &l[3], &lport, &r[0], &r[1], &r[2], &r[3],
               &rport, &end) != 14 ||
        (size_t)end != tlen || lport > 65535 || rport > 65535 || !parse_ip(l, &n->laddr) ||
        !parse_ip(r, &n->raddr) || (n->kind != SOCKNAME_BOUND && n->kind != SOCKNAME_CONN))
        return false;
    n->id = id;
    n->lport = (uint16_t)lport;
    n->rport = (uint16_t)rport;
    return true;
}

socklen_t ctl_address(const char *dev, struct sockaddr_un *sa)
{
    char text[sizeof sa->sun_path - 1];
    snprintf(text, sizeof text, PREFIX "%s/ctl", dev);
    return put_name(sa, text);
}
