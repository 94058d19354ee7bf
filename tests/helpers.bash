# Shared by the integration tests: each test gets its own network
# namespace (unique name), and everything it starts is ended in teardown.
ROOT=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
LIB=$ROOT/build/libtuntcp.so
EX=$ROOT/build/examples
KERNEL=172.16.0.1
STACK=172.16.0.2

setup() {
    NS=tuntcp-t$$-$BATS_TEST_NUMBER
    PIDS=()
    TMP=$(mktemp -d)
    ip netns add "$NS"
    nsx ip link set lo up
    nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1
}

teardown() {
    local p
    for p in "${PIDS[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    # what the test's programs left in its namespace: the stack daemon,
    # daemonized servers
    end_namespace_processes
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$TMP"
}

# Ends every process still in the test's namespace (the stack daemon,
# servers that daemonized): TERM, then KILL after 5 s.
end_namespace_processes() {
    local left i
    left=$(ip netns pids "$NS" 2>/dev/null) || return 0
    [ -n "$left" ] || return 0
    kill $left 2>/dev/null || true
    for i in $(seq 100); do
        left=$(ip netns pids "$NS" 2>/dev/null)
        [ -n "$left" ] || return 0
        sleep 0.05
    done
    kill -9 $left 2>/dev/null || true
}

# Runs a command inside the test's namespace.
nsx() { ip netns exec "$NS" "$@"; }
# ... with the preload.
preloaded() { ip netns exec "$NS" env LD_PRELOAD="$LIB" "$@"; }
# Starts a command in the background (in the namespace); teardown ends it.
background() {
    ip netns exec "$NS" "$@" &
    PIDS+=($!)
}
background_preloaded() { background env LD_PRELOAD="$LIB" "$@"; }

# Waits (5 s at most) until a command succeeds.
wait_until() {
    local i
    for i in $(seq 100); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    echo "timed out waiting for: $*" >&2
    return 1
}

# The kernel side of tun0 is configured (the stack's process made it).
tun_ready() { nsx ip -4 addr show dev tun0 | grep -q "$KERNEL"; }
# A TCP listener on addr:port inside the namespace.
listening() { nsx ss -Hltn "src $1 and sport = :$2" | grep -q .; }

# A persistent tun0 made beforehand (as `tuntcp up` does), for tests where
# a kernel server must bind 172.16.0.1 before the stack's process starts.
tun_up() { nsx "$ROOT/build/tuntcp" up; }

# A kernel echo server on 172.16.0.1:PORT (a persistent tun0 made first).
kernel_echo_server() {
    tun_up
    background socat "TCP-LISTEN:$1,bind=$KERNEL,fork,reuseaddr" EXEC:cat
    wait_until listening "$KERNEL" "$1"
}

# Runs tests/tools/TOOL.py under the preload against the kernel echo server
# on PORT; its lines ("ok ..." / "FAIL ...") are shown when the test fails.
run_checks() {
    run preloaded timeout 60 python3 "$ROOT/tests/tools/$1.py" "$KERNEL" "$2"
    echo "$output"
}
