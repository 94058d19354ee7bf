#!/usr/bin/env bats
# Signals and process ends: interrupted and restarted blocking calls, killed programs, nonblocking connect.

load helpers

SI=$ROOT/build/tools/signal_interrupts
NBC=$ROOT/build/tools/nonblocking_connect
WAF=$ROOT/build/tools/write_after_failure
TOOLS=$ROOT/tests/tools

# Runs `signal_interrupts CALL MODE` on kernel TCP and under the preload
# (the program's listener on LISTEN_PRELOADED then); both outputs must be
# EXPECTED.
same_as_kernel() {
    local call=$1 mode=$2 listen_preloaded=$3 expected=$4 kernel preloaded
    kernel=$(nsx timeout 30 "$SI" "$call" "$mode" "$KERNEL" 9001 2>&1)
    preloaded=$(preloaded timeout 30 "$SI" "$call" "$mode" "$listen_preloaded" 9002 2>&1)
    echo "kernel TCP:"$'\n'"$kernel"$'\n'"preloaded:"$'\n'"$preloaded"
    [ "$kernel" = "$expected" ]
    [ "$preloaded" = "$expected" ]
}

@test "a signal whose handler has no SA_RESTART interrupts a blocked read and accept with EINTR, and the socket works on, as on kernel TCP" {
    tun_up
    same_as_kernel read norestart "$KERNEL" "read: EINTR
read after the interrupted one: 'go'"
    same_as_kernel accept norestart "$STACK" "accept: EINTR
accept after the interrupted one: a connection from $KERNEL"
}

@test "with SA_RESTART a blocked read and accept go on through signals and complete when the data or the connection comes, as on kernel TCP" {
    tun_up
    same_as_kernel read restart "$KERNEL" "read: 'go'"
    same_as_kernel accept restart "$STACK" "accept: a connection from $KERNEL"
}

@test "a signal whose handler has no SA_RESTART interrupts a blocking connect with EINTR; the handshake goes on: a nonblocking retry says EALREADY, then the socket becomes writable, as on kernel TCP" {
    tun_up
    same_as_kernel connect norestart "$KERNEL" "connect: EINTR
nonblocking connect again: EALREADY
writable while the SYN is dropped: no
writable once the listener took the SYN: yes
SO_ERROR: 0
data reaches the listener: yes"
}

# A blocking connect retried after EINTR (TEMP_FAILURE_RETRY, or any
# retry loop): Linux waits for the handshake under way and returns 0.
@test "a blocking connect retried after EINTR waits for the handshake under way and returns 0, as on kernel TCP" {
    tun_up
    same_as_kernel connect retry "$KERNEL" "connect: EINTR
blocking connect again: 0
connect once more: EISCONN
SO_ERROR: 0
data reaches the listener: yes"
}

@test "with SA_RESTART a blocking connect goes on through signals and completes, as on kernel TCP" {
    tun_up
    same_as_kernel connect restart "$KERNEL" "connect: 0
interrupted at least once: yes
SO_ERROR: 0
data reaches the listener: yes"
}

# The syscall a process is blocked in, by number (/proc/PID/syscall).
in_syscall() { [ "$(cut -d' ' -f1 "/proc/$1/syscall" 2>/dev/null)" = "$2" ]; }

@test "SIGINT raises KeyboardInterrupt in a preloaded python client blocked in recv, as on kernel TCP" {
    case $(uname -m) in
    x86_64) recvfrom=45 ;;
    aarch64) recvfrom=207 ;;
    *) skip "recvfrom's syscall number on $(uname -m)" ;;
    esac
    kernel_echo_server 9200
    for mode in kernel preloaded; do
        if [ $mode = kernel ]; then
            background python3 "$TOOLS/interrupted_recv.py" "$KERNEL" 9200 > "$TMP/$mode"
        else
            background_preloaded python3 "$TOOLS/interrupted_recv.py" "$KERNEL" 9200 > "$TMP/$mode"
        fi
        wait_until grep -q blocking "$TMP/$mode"
        pid=$(awk '/^blocking/ { print $2 }' "$TMP/$mode")
        wait_until in_syscall "$pid" "$recvfrom"
        kill -INT "$pid"
        status=0
        wait "${PIDS[-1]}" || status=$?
        echo "$mode: status $status, $(cat "$TMP/$mode")"
        [ "$status" -eq 0 ]
        [ "$(tail -n 1 "$TMP/$mode")" = "KeyboardInterrupt in recv" ]
    done
}

# Kills a client (killed_client.py MODE ...) with SIG once it is ready,
# its kernel-side peer being kill_peer_server.py PEER_MODE ...; sets
# REPORT to how the client ended and the peer's last line.
# Args: SIG kernel|preloaded PORT PEER_ARGS -- CLIENT_ARGS
kill_client_and_ask_peer() {
    local sig=$1 mode=$2 port=$3 peer_args=() client_args=() status server client pid
    shift 3
    while [ "$1" != "--" ]; do peer_args+=("$1"); shift; done
    shift
    client_args=("$@")
    rm -f "$TMP/go"
    background python3 "$TOOLS/kill_peer_server.py" "$KERNEL" "$port" "${peer_args[0]}" "$TMP/go" \
        "${peer_args[@]:1}" > "$TMP/peer"
    server=${PIDS[-1]}
    wait_until listening "$KERNEL" "$port"
    if [ "$mode" = kernel ]; then
        background python3 "$TOOLS/killed_client.py" "$KERNEL" "$port" "${client_args[@]}" > "$TMP/client"
    else
        background_preloaded python3 "$TOOLS/killed_client.py" "$KERNEL" "$port" "${client_args[@]}" > "$TMP/client"
    fi
    client=${PIDS[-1]}
    wait_until grep -q ready "$TMP/client"
    pid=$(awk '/^ready/ { print $2 }' "$TMP/client")
    kill -"$sig" "$pid"
    status=0
    wait "$client" || status=$?
    touch "$TMP/go"
    wait "$server" || true
    # killed by the signal itself (128 + its number), not ended otherwise
    REPORT="$sig $mode: status $((status - 128)) = $(kill -l "$sig"), peer: $(tail -n 1 "$TMP/peer")"
}

@test "a program killed by SIGINT, SIGTERM, SIGHUP or SIGKILL with written data still queued: the kernel peer gets all of it, then EOF, as on kernel TCP" {
    tun_up
    port=9300
    for sig in INT TERM HUP KILL; do
        for mode in kernel preloaded; do
            port=$((port + 1))
            kill_client_and_ask_peer $sig $mode $port read -- write 400000
            echo "$REPORT"
            [ "$REPORT" = "$sig $mode: status $(kill -l $sig) = $(kill -l $sig), peer: 400000 bytes, as written, then EOF" ]
        done
    done
}

@test "a program killed by SIGINT, SIGTERM, SIGHUP or SIGKILL with received data unread: the kernel peer gets a reset, as on kernel TCP" {
    tun_up
    port=9400
    for sig in INT TERM HUP KILL; do
        for mode in kernel preloaded; do
            port=$((port + 1))
            kill_client_and_ask_peer $sig $mode $port send 1000 -- unread
            echo "$REPORT"
            [ "$REPORT" = "$sig $mode: status $(kill -l $sig) = $(kill -l $sig), peer: ECONNRESET" ]
        done
    done
}

@test "a client that writes 5 MB and exits at once loses nothing and does not wait for the server to read it, as on kernel TCP" {
    tun_up
    head -c 5M /dev/urandom > "$TMP/in"
    sum=$(sha256sum < "$TMP/in" | cut -d' ' -f1)
    port=9500
    for client in "bash -c 'cat $TMP/in > /dev/tcp/$KERNEL/PORT'" \
                  "python3 -c 'import os, socket; s = socket.create_connection((\"$KERNEL\", PORT)); s.sendall(open(\"$TMP/in\", \"rb\").read()); os._exit(0)'"; do
        for mode in kernel preloaded; do
            port=$((port + 1))
            rm -f "$TMP/exited"
            # the server reads all but the last 64 KiB, then waits for the
            # client's exit before it reads those
            background python3 "$TOOLS/read_after_writer_exit.py" "$KERNEL" $port 5242880 65536 \
                "$TMP/exited" > "$TMP/server"
            server=${PIDS[-1]}
            wait_until listening "$KERNEL" $port
            cmd=${client//PORT/$port}
            if [ $mode = kernel ]; then
                run nsx timeout 20 bash -c "$cmd"
            else
                run preloaded timeout 20 bash -c "$cmd"
            fi
            echo "$mode $cmd: status $status $output"
            [ "$status" -eq 0 ]
            touch "$TMP/exited"
            wait "$server"
            cat "$TMP/server"
            [ "$(sed -n 1p "$TMP/server")" = "the client exited before the last 65536 bytes were read: yes" ]
            [ "$(sed -n 2p "$TMP/server")" = "5242880 bytes, sha256 $sum, then EOF" ]
        done
    done
}

# nonblocking_connect with each waiter on kernel TCP and under the
# preload: its lines in $TMP/kernel.WAITER and $TMP/preloaded.WAITER
nonblocking_connects() {
    local w
    for w in poll select epoll io_uring; do
        nsx timeout 30 "$NBC" $w 172.16.0.3 "$KERNEL" 9 9600 > "$TMP/kernel.$w"
        preloaded timeout 30 "$NBC" $w 172.16.0.3 "$KERNEL" 9 9601 > "$TMP/preloaded.$w"
    done
}

@test "a nonblocking connect is writable only once established or refused, and SO_ERROR tells which, under poll, select, epoll and io_uring, as on kernel TCP" {
    tun_up
    nonblocking_connects
    for w in poll select epoll io_uring; do
        # the readiness of a refused connect and a second connect once
        # connected: the next two tests
        filter='closed port: ready|listening port: connect again'
        diff -u <(grep -Ev "$filter" "$TMP/kernel.$w") <(grep -Ev "$filter" "$TMP/preloaded.$w")
        grep -q "io_uring: not available" "$TMP/kernel.$w" && continue
        diff -u - <(grep -Ev "$filter" "$TMP/preloaded.$w") <<EOF
black hole: connect: EINPROGRESS
black hole: ready within 300 ms: nothing
black hole: SO_ERROR: 0
black hole: getpeername: ENOTCONN
black hole: connect again: EALREADY
closed port: connect: EINPROGRESS
closed port: writable: yes
closed port: SO_ERROR: ECONNREFUSED
closed port: SO_ERROR after: 0
listening port: connect: EINPROGRESS
listening port: ready: OUT
listening port: SO_ERROR: 0
listening port: getpeername: $KERNEL
EOF
    done
}

# Every waiter sees a refused connect at once as Linux shows it: in error,
# hung up, readable and writable (never writable alone, which would let a
# send succeed on a socket that is not connected).
@test "a refused nonblocking connect is reported to every waiter with the error and the hang-up, as on kernel TCP" {
    tun_up
    nonblocking_connects
    for w in poll select epoll io_uring; do
        echo "$w: kernel TCP: $(grep 'closed port: ready' "$TMP/kernel.$w"), preloaded: $(grep 'closed port: ready' "$TMP/preloaded.$w")"
    done
    for w in poll select epoll io_uring; do
        [ "$(grep 'closed port: ready' "$TMP/kernel.$w")" = "$(grep 'closed port: ready' "$TMP/preloaded.$w")" ]
    done
}

# Linux reports a completed nonblocking connect to the next connect call
# with 0, once.
@test "once a nonblocking connect completed, the next connect returns 0 and the one after EISCONN, as on kernel TCP" {
    tun_up
    nonblocking_connects
    for w in poll select epoll io_uring; do
        grep -q "io_uring: not available" "$TMP/kernel.$w" && continue
        echo "$w: kernel TCP: $(grep 'listening port: connect again' "$TMP/kernel.$w" | tr '\n' ' ')"
        echo "$w: preloaded:  $(grep 'listening port: connect again' "$TMP/preloaded.$w" | tr '\n' ' ')"
        [ "$(grep 'listening port: connect again' "$TMP/kernel.$w")" = "listening port: connect again: 0
listening port: connect again: EISCONN" ]
        [ "$(grep 'listening port: connect again' "$TMP/preloaded.$w")" = "listening port: connect again: 0
listening port: connect again: EISCONN" ]
    done
}

# A socket closed while connecting sends no more SYNs: a peer that answers
# late must not get a connection that nobody owns.
@test "closing a socket whose connect is under way ends the handshake: a peer that answers later gets no connection, as on kernel TCP" {
    tun_up
    run nsx timeout 30 python3 "$TOOLS/abandoned_connect.py" "$KERNEL" 9700
    echo "kernel TCP: $output"
    [ "$output" = "no connection" ]
    run nsx timeout 30 python3 "$TOOLS/abandoned_connect.py" "$KERNEL" 9701 "$LIB"
    echo "preloaded: $output"
    [ "$output" = "no connection" ]
}

# Linux reports the error of a refused or reset connection to the first
# write, without SIGPIPE (which kills a program at the default action).
@test "the first write on a connection that was refused or reset fails with that error and no SIGPIPE, the next with EPIPE and SIGPIPE, as on kernel TCP" {
    tun_up
    local -A got
    for case in "refused 9 ECONNREFUSED" "reset 9800 ECONNRESET"; do
        set -- $case
        got[kernel.$1]=$(nsx timeout 20 "$WAF" $1 "$KERNEL" $2 2>&1)
        got[preloaded.$1]=$(preloaded timeout 20 "$WAF" $1 "$KERNEL" $(($2 + 1)) 2>&1)
        echo "$1: kernel TCP:"$'\n'"${got[kernel.$1]}"$'\n'"$1: preloaded:"$'\n'"${got[preloaded.$1]}"
    done
    for case in "refused ECONNREFUSED" "reset ECONNRESET"; do
        set -- $case
        expected="first write: $2, SIGPIPE: no
second write: EPIPE, SIGPIPE: yes"
        [ "${got[kernel.$1]}" = "$expected" ]
        [ "${got[preloaded.$1]}" = "$expected" ]
    done
}
