/* Messages that carry one fd: see fdpass.h. */
#include <string.h>

#include "fdpass.h"

ssize_t fdpass_send(int sock, const void *data, size_t len, int fd, int flags)
{
    struct iovec iov = { (void *)data, len };
    union fdpass_cmsg u;
    memset(&u, 0, sizeof u);   /* no memory of ours in the padding */
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        m.msg_control = u.buf;
        m.msg_controllen = sizeof u.buf;
        struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof fd);
    }
    return sendmsg(sock, &m, flags);
}

int fdpass_received(struct msghdr *m)
{
    struct cmsghdr *cm = CMSG_FIRSTHDR(m);
    int fd = -1;
    if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
        memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    return fd;
}
