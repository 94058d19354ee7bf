#!/usr/bin/env bats
# Many processes, one stack: connections handed between processes, several
# programs on one device, what no interposer sees (raw syscalls), and who
# may reach the device's stack.

load helpers

# Runs handoff_server (a command prefix: env, or env with the preload) on ADDR and sends
# it four clients from the kernel side; prints their answers.
handoff() {
    local addr=$2 i
    background $1 python3 "$ROOT/tests/tools/handoff_server.py" "$addr" 9100 > "$TMP/handoff"
    wait_until grep -q listening "$TMP/handoff"
    for i in 1 2 3 4; do
        echo "line $i" | nsx timeout 10 nc -N "$addr" 9100
    done
    wait_until grep -q done "$TMP/handoff"
}

@test "a connection a server accepted is served by a forked child, a worker it was passed to, an exec'd program and a posix_spawned one" {
    tun_up
    handoff env "$KERNEL" > "$TMP/kernel"
    handoff "env LD_PRELOAD=$LIB" "$STACK" > "$TMP/stack"
    cat "$TMP/stack"
    [ "$(cat "$TMP/stack")" = "$(cat "$TMP/kernel")" ]
    [ "$(cat "$TMP/stack")" = "forked: 172.16.0.1 line 1
passed: 172.16.0.1 line 2
exec: 172.16.0.1 line 3
posix_spawn: 172.16.0.1 line 4" ]
}

@test "raw read/write/close syscalls, stdio, sendfile and splice work on a stack socket" {
    kernel_echo_server 9101
    run preloaded timeout 20 "$ROOT/build/tools/rawio" "$KERNEL" 9101
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output != *FAIL* ]]
    [ "${#lines[@]}" -eq 12 ]
}

# The tuntcpd processes serving the test's namespace.
daemons() {
    local ours p
    ours=$(nsx readlink /proc/self/ns/net)
    for p in $(ps -o pid= -C tuntcpd); do
        if [ "$(readlink "/proc/$p/ns/net" 2>/dev/null)" = "$ours" ]; then echo "$p"; fi
    done
}
no_daemon() { [ -z "$(daemons)" ]; }

@test "two unrelated preloaded programs share the device's stack: two servers, a server and a client, a client of a server on the same stack" {
    kernel_echo_server 9102
    background_preloaded "$EX/echo_server" "$STACK" 7
    background_preloaded "$EX/echo_server" "$STACK" 8
    wait_until nsx nc -z "$STACK" 7
    wait_until nsx nc -z "$STACK" 8
    run nsx bash -c "echo seven | timeout 10 nc -N $STACK 7; echo eight | timeout 10 nc -N $STACK 8"
    [ "$output" = "seven
eight" ]
    run preloaded bash -c "echo client | timeout 10 $EX/echo_client $KERNEL 9102"
    [ "$output" = "client" ]
    # a client of a server on the same stack: the stack loops it to itself
    head -c 2M /dev/urandom > "$TMP/in"
    preloaded timeout 20 "$EX/echo_client" "$STACK" 7 < "$TMP/in" > "$TMP/out"
    cmp "$TMP/in" "$TMP/out"
    [ "$(daemons | wc -l)" -eq 1 ]
}

@test "a program started after the previous one exited gets a stack, however soon" {
    # a device without a persistent stack: each run's daemon exits when idle
    nsx ip tuntap add dev tun0 mode tun
    nsx ip addr add "$KERNEL/24" dev tun0
    nsx ip link set tun0 up
    background socat "TCP-LISTEN:9103,bind=$KERNEL,fork,reuseaddr" EXEC:cat
    wait_until listening "$KERNEL" 9103
    local i
    for i in $(seq 8); do
        run preloaded bash -c "echo run $i | timeout 10 $EX/echo_client $KERNEL 9103"
        [ "$output" = "run $i" ]
        # around the moment the idle daemon of the previous run exits
        sleep "0.$((i + 5))"
    done
    wait_until no_daemon
}

@test "a server started as soon as the previous one's daemon and device are gone gets a new stack" {
    # no persistent device: each daemon makes tun0 and takes it away; the
    # next program's daemon starts while that may still be under way, and
    # a daemon that ends may take a connection it then closes unanswered
    local i pid
    for i in $(seq 6); do
        background_preloaded "$EX/echo_server" "$STACK" 7
        pid=$!
        wait_until nsx nc -z "$STACK" 7
        run nsx bash -c "echo run $i | timeout 10 nc -N $STACK 7"
        [ "$output" = "run $i" ]
        kill "$pid"
        wait_until bash -c "[ -z \"\$(ip netns pids $NS)\" ]"
    done
}

@test "tuntcp up --user: that user's programs use the stack it left running; other users are refused with what to do" {
    nsx "$ROOT/build/tuntcp" up --user nobody
    local daemon
    daemon=$(daemons)
    [ -n "$daemon" ]
    [ "$(ps -o user= -p "$daemon")" = nobody ]
    background setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env LD_PRELOAD="$LIB" "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx bash -c "echo as nobody | timeout 10 nc -N $STACK 7"
    [ "$output" = "as nobody" ]
    [ "$(daemons)" = "$daemon" ]
    run nsx setpriv --reuid=daemon --regid=daemon --clear-groups \
        env LD_PRELOAD="$LIB" timeout 10 "$EX/echo_server" "$STACK" 8
    [ "$status" -eq 1 ]
    [[ $output == *"tuntcp: user 1 may not make sockets on the stack of tun0 (root, the user given to \`tuntcp up --user\`, and processes given a socket of that stack may)"* ]]
    [[ $output == *"Permission denied"* ]]
    nsx "$ROOT/build/tuntcp" down
    wait_until no_daemon
    ! nsx ip link show tun0
}

@test "hostile control messages get an error and the daemon goes on serving" {
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx timeout 60 python3 "$ROOT/tests/tools/ctl_hostile.py" tun0
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "too short: Bad message" ]
    [ "${lines[1]}" = "too long: Bad message" ]
    [ "${lines[2]}" = "wrong version: Bad message" ]
    [ "${lines[3]}" = "too many options: Bad message" ]
    [ "${lines[4]}" = "unknown operation: Invalid argument" ]
    [ "${lines[5]}" = "unknown socket: Invalid argument" ]
    [ "${lines[6]}" = "random bytes: Bad message" ]
    [[ ${lines[7]} == "random requests: "* ]]
    [ "${lines[8]}" = "a pipe as the socket: Invalid argument" ]
    run nsx bash -c "echo still served | timeout 10 nc -N $STACK 7"
    [ "$output" = "still served" ]
}

@test "tuntcp up with a bad --net leaves no device and no daemon behind" {
    run nsx "$ROOT/build/tuntcp" up --net 172.16.0.0/33
    [ "$status" -ne 0 ]
    [[ $output == *"TUNTCP_NET=172.16.0.0/33 is not valid"* ]]
    ! nsx ip link show tun0
    no_daemon
    run nsx "$ROOT/build/tuntcp" up --net 172.16.0.0/24 --user nosuchuser
    [ "$status" -ne 0 ]
    [ "$output" = "tuntcp: --user nosuchuser: no such user" ]
    ! nsx ip link show tun0
    no_daemon
}
