/* Messages that carry one fd (SCM_RIGHTS) on AF_UNIX sockets: control
 * requests and replies, and the connections a listener hands over. Used
 * by the daemon and the interposer alike. */
#ifndef TUNTCP_FDPASS_H
#define TUNTCP_FDPASS_H

#include <sys/socket.h>
#include <sys/types.h>

/* Room for the control message of one fd. */
union fdpass_cmsg {
    struct cmsghdr h;
    char buf[CMSG_SPACE(sizeof(int))];
};

/* One sendmsg of len bytes, with fd along unless it is -1. */
ssize_t fdpass_send(int sock, const void *data, size_t len, int fd, int flags);
/* The fd a received message carried (its first), or -1. */
int fdpass_received(struct msghdr *m);

#endif
