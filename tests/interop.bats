#!/usr/bin/env bats
# Real programs: kernel-side peers talking to preloaded programs on tun0.

load helpers

@test "make demo shows the seed exchange: handshake, the stack's FIN, the kernel's FIN, last ACK" {
    run make -s -C "$ROOT" demo
    [ "$status" -eq 0 ]
    [[ $output == *"[SYN] "* ]]
    [[ $output == *"172.16.0.2 → 172.16.0.1 TCP 60 9007 → "*"[SYN, ACK]"* ]]
    [[ $output == *"172.16.0.2 → 172.16.0.1 TCP 52 9007 → "*"[FIN, ACK] Seq=1 Ack=1"* ]]
    [[ $output == *"172.16.0.1 → 172.16.0.2 TCP 52 "*"[FIN, ACK] Seq=1 Ack=2"* ]]
    [[ $output == *"172.16.0.2 → 172.16.0.1 TCP 52 9007 → "*"[ACK] Seq=2 Ack=2"* ]]
}

@test "kernel nc talks to the preloaded echo server" {
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx bash -c "echo hello tuntcp | timeout 10 nc -N $STACK 7"
    [ "$status" -eq 0 ]
    [ "$output" = "hello tuntcp" ]
}

@test "100 MB each way through the preloaded echo server, checked by sha256" {
    head -c 100M /dev/urandom > "$TMP/in"
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx bash -c "set -o pipefail; timeout 120 nc -N $STACK 7 < $TMP/in | sha256sum"
    [ "$status" -eq 0 ]
    [ "${output%% *}" = "$(sha256sum < "$TMP/in" | cut -d' ' -f1)" ]
}

@test "the preloaded echo client talks to a kernel socat server" {
    kernel_echo_server 7
    run preloaded bash -c "echo round trip | timeout 10 $EX/echo_client $KERNEL 7"
    [ "$status" -eq 0 ]
    [ "$output" = "round trip" ]
}

@test "preloaded nc -N delivers everything before it exits" {
    tun_up
    head -c 3M /dev/urandom > "$TMP/in"
    background bash -c "exec nc -l $KERNEL 9000 > $TMP/out"
    wait_until listening "$KERNEL" 9000
    run preloaded timeout 20 nc -N "$KERNEL" 9000 < "$TMP/in"
    [ "$status" -eq 0 ]
    wait_until cmp -s "$TMP/in" "$TMP/out"
}

@test "the kernel connecting to a closed port of the stack is refused (RST)" {
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx timeout 10 nc -v "$STACK" 8 </dev/null
    [ "$status" -eq 1 ]
    [[ $output == *"Connection refused"* ]]
}

@test "a preloaded program connecting to a closed kernel port gets ECONNREFUSED" {
    run preloaded timeout 10 "$EX/echo_client" "$KERNEL" 9 </dev/null
    [ "$status" -eq 1 ]
    [[ $output == *"Connection refused"* ]]
}

@test "a device another program holds is refused with what to do" {
    nsx ip tuntap add dev tun0 mode tun
    background python3 -c '
import fcntl, os, struct, time
fd = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(fd, 0x400454ca, struct.pack("16sH", b"tun0", 0x1001))   # TUNSETIFF
print("holding", flush=True)
time.sleep(60)
' > "$TMP/held"
    wait_until grep -q holding "$TMP/held"
    run preloaded timeout 10 "$EX/echo_client" "$KERNEL" 9 </dev/null
    [ "$status" -eq 1 ]
    [[ $output == *"tun0 is in use by another program (not a tuntcp stack)"*"TUNTCP_DEV"* ]]
}

@test "python http.server under the preload serves curl on the kernel side" {
    echo "served by tuntcp" > "$TMP/index.txt"
    background_preloaded python3 -m http.server --bind "$STACK" --directory "$TMP" 8000
    wait_until nsx curl -s -o /dev/null "http://$STACK:8000/"
    run nsx curl -s --max-time 10 "http://$STACK:8000/index.txt"
    [ "$status" -eq 0 ]
    [ "$output" = "served by tuntcp" ]
}

@test "preloaded curl fetches from a kernel http.server" {
    tun_up
    echo "served by the kernel" > "$TMP/k.txt"
    background python3 -m http.server --bind "$KERNEL" --directory "$TMP" 8001
    wait_until listening "$KERNEL" 8001
    run preloaded curl -s --max-time 10 "http://$KERNEL:8001/k.txt"
    [ "$status" -eq 0 ]
    [ "$output" = "served by the kernel" ]
}

@test "100 concurrent connections to the preloaded echo server" {
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx timeout 120 python3 "$ROOT/tests/tools/many_clients.py" "$STACK" 7 100 65536
    [ "$status" -eq 0 ]
    [ "$output" = "100 connections ok" ]
}

@test "a peer reset mid-transfer is ECONNRESET to the preloaded program" {
    tun_up
    background python3 "$ROOT/tests/tools/reset_server.py" "$KERNEL" 9100 200000
    wait_until listening "$KERNEL" 9100
    run preloaded timeout 20 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9100))
n = 0
try:
    while data := s.recv(65536):
        n += len(data)
    print("end of stream after", n)
except ConnectionResetError as e:
    print("reset:", e.errno)
' "$KERNEL"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "reset: 104" ]
}

@test "preloaded socat TCP-LISTEN serves a kernel client" {
    background_preloaded socat TCP-LISTEN:9200,bind=$STACK,reuseaddr SYSTEM:'echo from socat'
    wait_until_output() { nsx bash -c "timeout 2 nc $STACK 9200 </dev/null" | grep -q "from socat"; }
    wait_until wait_until_output
}

@test "preloaded python urllib fetches from a kernel server" {
    tun_up
    echo "urllib payload" > "$TMP/u.txt"
    background python3 -m http.server --bind "$KERNEL" --directory "$TMP" 8002
    wait_until listening "$KERNEL" 8002
    run preloaded timeout 20 python3 -c '
import urllib.request, sys
print(urllib.request.urlopen("http://%s:8002/u.txt" % sys.argv[1], timeout=10).read().decode().strip())
' "$KERNEL"
    [ "$status" -eq 0 ]
    [ "$output" = "urllib payload" ]
}

@test "passthrough: loopback HTTP, files and unix sockets beside a TUN server" {
    mkfifo "$TMP/in"
    background_preloaded bash -c "python3 $ROOT/tests/tools/passthrough.py $STACK < $TMP/in > $TMP/out"
    exec 7>"$TMP/in"
    wait_until grep -q "unix socket" "$TMP/out"
    port=$(head -1 "$TMP/out")
    run nsx curl -s --max-time 10 "http://$STACK:$port/f.txt"
    exec 7>&-
    [ "$output" = "file content" ]
    ! grep -q FAILED "$TMP/out"
    [ "$(grep -c ' ok$' "$TMP/out")" -eq 4 ]
}

@test "socket options, flags, timeouts and errors behave as on Linux" {
    kernel_echo_server 9300
    run_checks socket_semantics 9300
    [ "$status" -eq 0 ]
}

@test "TUNTCP_PCAP writes a capture that tcpdump reads" {
    background_preloaded env TUNTCP_PCAP="$TMP/cap.pcap" "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx bash -c "echo pcap | timeout 10 nc -N $STACK 7"
    [ "$output" = "pcap" ]
    run tcpdump -nr "$TMP/cap.pcap"
    [ "$status" -eq 0 ]
    [[ $output == *"172.16.0.1."*" > 172.16.0.2.7: Flags [S]"* ]]
    [[ $output == *"172.16.0.2.7 > 172.16.0.1."*"Flags [S.]"* ]]
}

@test "20 MB each way over a link with 5% loss, duplication and reordering, by sha256" {
    # tc netem where the kernel has it; TUNTCP_IMPAIR (the same, in the
    # process, both directions) always
    head -c 20M /dev/urandom > "$TMP/in"
    background_preloaded env TUNTCP_IMPAIR=loss=0.05,dup=0.01,reorder=0.05,seed=7 \
        "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    nsx tc qdisc add dev tun0 root netem loss 5% duplicate 1% reorder 25% 50% delay 1ms 2>/dev/null || true
    run nsx bash -c "set -o pipefail; timeout 120 nc -N $STACK 7 < $TMP/in | sha256sum"
    [ "$status" -eq 0 ]
    [ "${output%% *}" = "$(sha256sum < "$TMP/in" | cut -d' ' -f1)" ]
}

@test "a preloaded receiver closing while a kernel sender still sends resets it, as kernel TCP does, over a lossy link" {
    # RFC 1122 4.2.2.13: data after close is answered with a RST. The
    # receiver reads all that is readable first, so its close sends a FIN
    # (with loss, data is held out of order then too); the data still
    # coming used to fill a buffer nobody read, the sender stalled behind
    # a zero window and the daemon stayed.
    local tool=$ROOT/tests/tools/close_while_receiving.py
    background_preloaded env TUNTCP_IMPAIR=loss=0.01,seed=1 TUNTCP_MSL_MS=100 \
        python3 "$tool" receive "$STACK" 7 1000000 > "$TMP/receiver"
    wait_until grep -q listening "$TMP/receiver"
    run nsx timeout 60 python3 "$tool" send "$STACK" 7
    [ "$output" = "reset" ]
    wait_until grep -q closed "$TMP/receiver"
    # nothing left: the daemon ends once its last connection is gone
    wait_until bash -c "[ -z \"\$(ip netns pids $NS)\" ]"
}

@test "the stack's connections use CUBIC and SACK by default, and what TUNTCP_CC and TUNTCP_SACK say" {
    local tool=$ROOT/tests/tools/negotiated.py
    background_preloaded python3 "$tool" server "$STACK" 7 > "$TMP/default"
    wait_until grep -q listening "$TMP/default"
    run nsx timeout 10 python3 "$tool" client "$STACK" 7
    [ "$output" = $'stack: cubic\nkernel: sack' ]
    # the daemon takes its settings when it starts: wait until it is gone
    wait_until bash -c "[ -z \"\$(ip netns pids $NS)\" ]"
    background_preloaded env TUNTCP_CC=reno TUNTCP_SACK=0 python3 "$tool" server "$STACK" 7 > "$TMP/set"
    wait_until grep -q listening "$TMP/set"
    run nsx timeout 10 python3 "$tool" client "$STACK" 7
    [ "$output" = $'stack: reno\nkernel: no sack' ]
}

@test "preloaded socat as a client of a kernel server" {
    tun_up
    background socat TCP-LISTEN:9400,bind=$KERNEL,reuseaddr SYSTEM:'echo from the kernel'
    wait_until listening "$KERNEL" 9400
    run preloaded timeout 10 socat -u "TCP:$KERNEL:9400" -
    [ "$status" -eq 0 ]
    [ "$output" = "from the kernel" ]
}

@test "TUNTCP_LOG=info and debug say what the stack does" {
    run preloaded env TUNTCP_LOG=debug timeout 10 "$EX/echo_client" "$KERNEL" 9 </dev/null
    [[ $output == *"tuntcp["*"]: stack 172.16.0.2/24 on tun0, MTU 1500"* ]]
    [[ $output =~ fd\ [0-9]+:\ moved\ to\ the\ stack ]]
}

@test "TUN offloads: on by default (super-packets both ways), off with TUNTCP_OFFLOAD=0, the same bytes either way" {
    head -c 20M /dev/urandom > "$TMP/in"
    local want mode pid
    want=$(sha256sum < "$TMP/in" | cut -d' ' -f1)
    for mode in 1 0; do
        background_preloaded env TUNTCP_OFFLOAD=$mode TUNTCP_LOG=info "$EX/echo_server" "$STACK" 7 \
            2> "$TMP/log.$mode"
        pid=$!
        wait_until nsx nc -z "$STACK" 7
        run nsx bash -c "timeout 60 nc -N $STACK 7 < $TMP/in | sha256sum"
        [ "${output%% *}" = "$want" ]
        run nsx "$ROOT/build/tuntcp" stats
        local gso_in gso_out
        gso_in=$(awk '$1 == "gso_in" {print $2}' <<<"$output")
        gso_out=$(awk '$1 == "gso_out" {print $2}' <<<"$output")
        if [ $mode = 1 ]; then
            grep -q "MTU 1500, offloads on" "$TMP/log.1"
            [ "$gso_in" -gt 0 ] && [ "$gso_out" -gt 0 ]
        else
            grep -q "MTU 1500, offloads off" "$TMP/log.0"
            [ "$gso_in" -eq 0 ] && [ "$gso_out" -eq 0 ]
        fi
        # the next mode needs a new daemon: end the server, wait for the daemon
        kill "$pid"
        wait_until bash -c "[ -z \"\$(ip netns pids $NS)\" ]"
    done
}

@test "TUN offloads the kernel refuses: the stack runs without them, says why, and moves the same bytes" {
    # the daemon of `tuntcp up` gets a shim whose TUNSETOFFLOAD fails, as
    # on a kernel whose TUN driver lacks an offload asked for
    nsx env LD_PRELOAD="$ROOT/build/tools/refuse_tun_offload.so" TUNTCP_LOG=info \
        "$ROOT/build/tuntcp" up 2> "$TMP/daemon.log"
    wait_until grep -q "offloads off (the TUN device refused them: Invalid argument)" "$TMP/daemon.log"
    head -c 20M /dev/urandom > "$TMP/in"
    local want
    want=$(sha256sum < "$TMP/in" | cut -d' ' -f1)
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx bash -c "timeout 60 nc -N $STACK 7 < $TMP/in | sha256sum"
    [ "${output%% *}" = "$want" ]
    run nsx "$ROOT/build/tuntcp" stats
    [ "$(awk '$1 == "gso_in" {print $2}' <<<"$output")" -eq 0 ]
    [ "$(awk '$1 == "gso_out" {print $2}' <<<"$output")" -eq 0 ]
    [ "$(awk '$1 == "tcp.bytes_out" {print $2}' <<<"$output")" -ge 20971520 ]
}

@test "close with SO_LINGER 0 resets the connection; with a timeout it waits for the ACK of the FIN" {
    background_preloaded python3 -c '
import socket, struct, sys
s = socket.socket()
s.bind((sys.argv[1], 9500))
s.listen()
print("listening", flush=True)
for linger in (0, 5):
    c, _ = s.accept()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, linger))
    c.sendall(b"bye")
    c.close()
' "$STACK" > "$TMP/server"
    wait_until grep -q listening "$TMP/server"
    run nsx timeout 20 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 9500), timeout=10)
got = []
try:   # the data, then the reset (Linux reads queued data first)
    while data := s.recv(10):
        got.append(data)
    got.append("end of stream")
except ConnectionResetError:
    got.append("reset")
print("first:", *got)
s = socket.create_connection((sys.argv[1], 9500), timeout=10)
print("second:", s.recv(10), s.recv(10))
' "$STACK"
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "first: b'bye' reset" ]
    [ "${lines[1]}" = "second: b'bye' b''" ]
}

@test "tuntcp up makes a device a preloaded process attaches to; tuntcp down removes it" {
    nsx "$ROOT/build/tuntcp" up --user nobody
    run nsx ip -d link show tun0
    [[ $output == *"persist on user nobody"* ]]
    nsx ip -4 addr show dev tun0 | grep -q "172.16.0.1/24"
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx bash -c "echo attached | timeout 10 nc -N $STACK 7"
    [ "$output" = "attached" ]
    kill "${PIDS[0]}"
    wait "${PIDS[0]}" || true
    PIDS=()
    nsx "$ROOT/build/tuntcp" down
    ! nsx ip link show tun0
}

# Runs tests/tools/options_around_the_move.py against the kernel echo
# server on PORT, on kernel TCP (listening on 172.16.0.1) and under the
# preload (on the stack): $TMP/kernel-NAME.out, $TMP/stack-NAME.out and
# its stderr $TMP/stack-NAME.err. With "unprivileged", both without
# CAP_NET_ADMIN and CAP_NET_RAW.
options_around_the_move() {
    local name=$1 port=$2 how=${3:-} drop=()
    [ -z "$how" ] || drop=(setpriv --bounding-set -net_admin,-net_raw --inh-caps -net_admin,-net_raw)
    local tool="$ROOT/tests/tools/options_around_the_move.py"
    nsx "${drop[@]}" timeout 60 python3 "$tool" "$KERNEL" "$KERNEL" "$port" ${how:+--$how} \
        > "$TMP/kernel-$name.out"
    preloaded "${drop[@]}" timeout 60 python3 "$tool" "$STACK" "$KERNEL" "$port" ${how:+--$how} \
        > "$TMP/stack-$name.out" 2> "$TMP/stack-$name.err"
}

# The lines of OUT without those about options the stack refuses.
accepted_lines() { grep -v '^refused' "$1"; }

@test "options set before bind or connect reach the stack and read back as on kernel TCP" {
    kernel_echo_server 9310
    options_around_the_move root 9310
    diff "$TMP/kernel-root.out" "$TMP/stack-root.out" || true   # shown if the test fails
    diff <(accepted_lines "$TMP/kernel-root.out") <(accepted_lines "$TMP/stack-root.out")
    grep -q '^listener with TCP_DEFER_ACCEPT readable before data: False$' "$TMP/stack-root.out"
    grep -q '^accepted: its data = b.x.$' "$TMP/stack-root.out"
    grep -q '^SO_PRIORITY 7 after bind: ok$' "$TMP/stack-root.out"
    # what the stack lacks, the kernel takes before the move ...
    [ "$(grep '^refused' "$TMP/kernel-root.out" | grep -vc ': ok$')" -eq 0 ]
    # ... and the stack fails the bind or connect with the error it gives
    # for the option after the move, and says why
    diff <(grep '^refused' "$TMP/stack-root.out") - <<EXPECTED
refused TCP_SYNCNT 3 before bind: setsockopt: ok
refused TCP_SYNCNT 3 before bind: bind: ENOPROTOOPT
refused TCP_SYNCNT 3 before connect: setsockopt: ok
refused TCP_SYNCNT 3 before connect: connect: ENOPROTOOPT
refused SO_OOBINLINE 1 before bind: setsockopt: ok
refused SO_OOBINLINE 1 before bind: bind: ENOPROTOOPT
refused SO_OOBINLINE 1 before connect: setsockopt: ok
refused SO_OOBINLINE 1 before connect: connect: ENOPROTOOPT
refused SO_BINDTODEVICE lo before bind: setsockopt: ok
refused SO_BINDTODEVICE lo before bind: bind: ENODEV
refused TCP_SYNCNT 3 after bind: setsockopt: ENOPROTOOPT
refused SO_OOBINLINE 1 after bind: setsockopt: ENOPROTOOPT
refused SO_BINDTODEVICE lo after bind: setsockopt: ENODEV
EXPECTED
    grep -qx 'tuntcp: fd [0-9]*: bind fails: TCP_SYNCNT, set before it, is one the stack refuses (Protocol not available)' "$TMP/stack-root.err"
    grep -qx 'tuntcp: fd [0-9]*: connect fails: SO_OOBINLINE, set before it, is one the stack refuses (Protocol not available)' "$TMP/stack-root.err"
}

@test "SO_PRIORITY above 6 needs CAP_NET_ADMIN on the stack as on kernel TCP, before the move and after" {
    kernel_echo_server 9320
    options_around_the_move unprivileged 9320 unprivileged
    diff "$TMP/kernel-unprivileged.out" "$TMP/stack-unprivileged.out" || true
    diff <(accepted_lines "$TMP/kernel-unprivileged.out") <(accepted_lines "$TMP/stack-unprivileged.out")
    grep -qx 'SO_PRIORITY 7 before bind: EPERM' "$TMP/stack-unprivileged.out"
    grep -qx 'SO_PRIORITY 7 after bind: EPERM' "$TMP/stack-unprivileged.out"
    grep -qx 'SO_PRIORITY after bind = 6' "$TMP/stack-unprivileged.out"
}
