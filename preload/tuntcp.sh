#!/usr/bin/env bash
# tuntcp: run a program on the userspace TCP stack, or manage the device.
set -euo pipefail
here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
lib=${TUNTCP_LIB:-$here/libtuntcp.so}

usage() {
    cat <<'USAGE'
usage: tuntcp run [--dev D] [--net CIDR] [--addr A] [--mtu N] [--pcap FILE]
                  [--log LEVEL] [--bind-any] -- PROG [ARGS...]
       tuntcp up [--dev D] [--net CIDR] [--mtu N] [--user U]
       tuntcp down [--dev D]
       tuntcp stats [--dev D]
       tuntcp --help

run    runs PROG with libtuntcp.so preloaded: its TCP sockets bound to or
       connecting into the TUN subnet use the userspace stack.
up     (as root) creates a persistent TUN device with the kernel-side
       address and link up, and starts its stack (tuntcpd), which stays
       until down. U's programs use it through the stack's control
       socket, with no access to /dev/net/tun.
down   (as root) stops the stack and deletes the device.
stats  prints what the device's stack counts, one "name value" a line:
       packets, TCP counters, drops by reason, connections and sockets
       open, and its daemon's relays, open fds and memory (VmRSS, VmHWM).
Defaults: --dev tun0 --net 172.16.0.0/24 (kernel side .1, stack .2).
Log levels: error warn info debug packets.
USAGE
}

die() { echo "tuntcp: $*" >&2; exit 2; }

need_arg() { [ $# -ge 2 ] || die "$1 needs a value (see tuntcp --help)"; }

cmd=${1:-}
[ -n "$cmd" ] || { usage >&2; exit 2; }
shift
dev=${TUNTCP_DEV:-tun0} net=${TUNTCP_NET:-172.16.0.0/24} mtu=${TUNTCP_MTU:-1500} user=""
case $cmd in
-h|--help|help) usage; exit 0 ;;
run)
    while [ $# -gt 0 ]; do
        case $1 in
        --dev) need_arg "$@"; export TUNTCP_DEV=$2; shift 2 ;;
        --net) need_arg "$@"; export TUNTCP_NET=$2; shift 2 ;;
        --addr) need_arg "$@"; export TUNTCP_ADDR=$2; shift 2 ;;
        --mtu) need_arg "$@"; export TUNTCP_MTU=$2; shift 2 ;;
        --pcap) need_arg "$@"; export TUNTCP_PCAP=$2; shift 2 ;;
        --log) need_arg "$@"; export TUNTCP_LOG=$2; shift 2 ;;
        --bind-any) export TUNTCP_BIND_ANY=1; shift ;;
        --) shift; break ;;
        *) die "unknown option $1 (see tuntcp --help)" ;;
        esac
    done
    [ $# -gt 0 ] || die "run needs a program: tuntcp run [options] -- PROG [ARGS...]"
    [ -r "$lib" ] || die "cannot find $lib (build it with make)"
    export LD_PRELOAD=$lib${LD_PRELOAD:+:$LD_PRELOAD}
    exec "$@"
    ;;
up|down)
    while [ $# -gt 0 ]; do
        case $1 in
        --dev) need_arg "$@"; dev=$2; shift 2 ;;
        --net) need_arg "$@"; net=$2; shift 2 ;;
        --mtu) need_arg "$@"; mtu=$2; shift 2 ;;
        --user) need_arg "$@"; user=$2; shift 2 ;;
        *) die "unknown option $1 (see tuntcp --help)" ;;
        esac
    done
    export TUNTCP_DEV=$dev TUNTCP_NET=$net TUNTCP_MTU=$mtu
    daemon=$here/tuntcpd
    [ -x "$daemon" ] || die "cannot find $daemon (build it with make)"
    if [ "$cmd" = down ]; then
        "$daemon" --stop
        ip tuntap del dev "$dev" mode tun
        exit 0
    fi
    # everything is checked before anything is made
    peer=$("$daemon" --check) || exit 2
    [ -z "$user" ] || id -u "$user" >/dev/null 2>&1 || die "--user $user: no such user"
    ip tuntap add dev "$dev" mode tun ${user:+user "$user"}
    if ! { ip addr add "$peer" dev "$dev" && ip link set dev "$dev" mtu "$mtu" up &&
           "$daemon" --persist ${user:+--user "$user"}; }; then
        ip tuntap del dev "$dev" mode tun
        die "could not set up $dev; nothing is left behind"
    fi
    ;;
stats)
    while [ $# -gt 0 ]; do
        case $1 in
        --dev) need_arg "$@"; export TUNTCP_DEV=$2; shift 2 ;;
        *) die "unknown option $1 (see tuntcp --help)" ;;
        esac
    done
    daemon=$here/tuntcpd
    [ -x "$daemon" ] || die "cannot find $daemon (build it with make)"
    exec "$daemon" --stats
    ;;
*) usage >&2; exit 2 ;;
esac
