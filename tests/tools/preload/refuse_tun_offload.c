/* Preloaded into tuntcpd by a test: ioctl(TUNSETOFFLOAD) fails with
 * EINVAL, as on a kernel whose TUN driver lacks an offload the daemon
 * asks for; every other ioctl is the real one. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <sys/ioctl.h>

int ioctl(int fd, unsigned long request, ...)
{
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (request == TUNSETOFFLOAD) {
        errno = EINVAL;
        return -1;
    }
    static int (*real)(int, unsigned long, ...);
    if (!real)
        real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    return real(fd, request, arg);
}
