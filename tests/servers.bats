#!/usr/bin/env bats
# Servers that fork, re-exec or daemonize per connection (sshd, socat fork, ForkingTCPServer, node) under the preload.

load helpers

@test "sshd -D under the preload runs a command and copies 20 MB each way (sha256) for a kernel ssh" {
    ssh-keygen -q -t ed25519 -N '' -f "$TMP/host_key"
    ssh-keygen -q -t ed25519 -N '' -f "$TMP/client_key"
    cp "$TMP/client_key.pub" "$TMP/authorized_keys"
    cat > "$TMP/sshd_config" <<CONF
ListenAddress $STACK
Port 22
HostKey $TMP/host_key
UsePAM no
PidFile $TMP/sshd.pid
AuthorizedKeysFile $TMP/authorized_keys
StrictModes no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
CONF
    mkdir -p /run/sshd    # the privilege separation directory
    background_preloaded /usr/sbin/sshd -D -e -f "$TMP/sshd_config" 2>"$TMP/sshd.log"
    wait_until grep -q "Server listening on $STACK port 22" "$TMP/sshd.log"
    ssh_stack() {
        nsx timeout 60 ssh -i "$TMP/client_key" -o BatchMode=yes -o StrictHostKeyChecking=no \
            -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR "root@$STACK" "$@"
    }
    run ssh_stack echo hello over sshd
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "hello over sshd" ]

    head -c 20M /dev/urandom > "$TMP/in"
    ssh_stack "cat > $TMP/up" < "$TMP/in"
    [ "$(sha256sum < "$TMP/up")" = "$(sha256sum < "$TMP/in")" ]
    ssh_stack "cat $TMP/in" > "$TMP/down"
    [ "$(sha256sum < "$TMP/down")" = "$(sha256sum < "$TMP/in")" ]
    # each session was a re-exec'd sshd that saw the kernel's address as its peer
    [ "$(grep -c "Accepted publickey for root from $KERNEL" "$TMP/sshd.log")" -eq 3 ]
    # sshd sets IP_TOS on every connection; it is the stack's to carry
    ! grep -i "Protocol not available" "$TMP/sshd.log"
}

@test "socat TCP-LISTEN with fork under the preload echoes each of 20 concurrent and 20 sequential kernel clients" {
    background_preloaded bash -c "exec socat -d -d TCP-LISTEN:9700,bind=$STACK,fork,reuseaddr EXEC:cat 2>$TMP/log"
    wait_until grep -q "listening on" "$TMP/log"
    run nsx timeout 60 python3 "$ROOT/tests/tools/many_clients.py" "$STACK" 9700 20 65536
    echo "$output"
    [ "$status" -eq 0 ]
    [ "$output" = "20 connections ok" ]
    for i in $(seq 20); do
        run nsx bash -c "echo sequential client $i | timeout 10 nc -N $STACK 9700"
        [ "$status" -eq 0 ]
        [ "$output" = "sequential client $i" ]
    done
}

@test "python ForkingTCPServer under the preload answers 50 concurrent kernel clients each with its own reply" {
    background_preloaded bash -c "exec python3 $ROOT/tests/tools/forking_line_server.py $STACK 9800 > $TMP/out"
    wait_until grep -q listening "$TMP/out"
    run nsx timeout 60 python3 "$ROOT/tests/tools/concurrent_line_clients.py" "$STACK" 9800 50
    echo "$output"
    [ "$status" -eq 0 ]
    # each connection was served by its own forked child
    [ "$output" = "50 replies ok from 50 processes" ]
}

@test "a server that binds, listens and then daemonizes keeps serving after the process that bound has exited" {
    run preloaded timeout 20 python3 "$ROOT/tests/tools/daemonizing_server.py" "$STACK" 9600 "$TMP/pid"
    [ "$status" -eq 0 ]
    # the original process has exited; the daemon, in a session of its own,
    # holds the listener alone
    daemon=$(cat "$TMP/pid")
    sid=$(ps -o sid= -p "$daemon" | tr -d ' ')
    [ -n "$sid" ]
    [ "$sid" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
    for i in 1 2 3; do
        run nsx timeout 10 nc "$STACK" 9600 </dev/null
        [ "$status" -eq 0 ]
        [ "$output" = "served by $daemon in session $sid" ]
    done
}

# Node marks fds 0-2 close-on-exec at startup, so the stack daemon the
# preload spawns may start without fd 2: nothing it opens may land there.
@test "a preloaded server whose stderr is close-on-exec (as node makes it) starts the stack and listens" {
    background_preloaded bash -c "exec python3 $ROOT/tests/tools/cloexec_stderr_server.py $STACK 9010 > $TMP/out"
    wait_until grep -q listening "$TMP/out"
    run nsx timeout 10 nc "$STACK" 9010 </dev/null
    [ "$output" = "served" ]
}

@test "a node http server under the preload streams a 20 MB file to 20 parallel curls (sha256) and takes ab -n 500 -c 10" {
    head -c 20M /dev/urandom > "$TMP/big"
    background_preloaded bash -c "exec node $ROOT/tests/tools/node_file_server.js $STACK 8080 $TMP/big > $TMP/out"
    wait_until grep -q listening "$TMP/out"
    mkdir "$TMP/got"
    urls=()
    for i in $(seq 20); do urls+=(-o "$TMP/got/$i" "http://$STACK:8080/big"); done
    run nsx timeout 60 curl -sf --parallel --parallel-immediate --parallel-max 20 "${urls[@]}"
    [ "$status" -eq 0 ]
    want=$(sha256sum < "$TMP/big")
    for i in $(seq 20); do [ "$(sha256sum < "$TMP/got/$i")" = "$want" ]; done
    # one connection per request: node closes each fd (a raw close syscall
    # in libuv) and the numbers are reused
    run nsx timeout 60 ab -q -n 500 -c 10 "http://$STACK:8080/small"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"Complete requests:      500"* ]]
    [[ $output == *"Failed requests:        0"* ]]
    [[ $output != *"Non-2xx"* ]]
}

@test "socket.destroy() in a node server under the preload closes the connection as promptly as on kernel TCP" {
    background_preloaded bash -c "exec node $ROOT/tests/tools/node_destroy_server.js $STACK 9000 > $TMP/stack"
    # the same server on the kernel (loopback of the namespace)
    background bash -c "exec node $ROOT/tests/tools/node_destroy_server.js 127.0.0.1 9000 > $TMP/kernel"
    wait_until grep -q listening "$TMP/stack"
    wait_until grep -q listening "$TMP/kernel"
    run nsx timeout 60 python3 "$ROOT/tests/tools/destroyed_connection_client.py" 127.0.0.1 9000 50
    echo "kernel: $output"
    [ "$status" -eq 0 ]
    kernel=$output
    [ "${lines[-1]}" = "prompt" ]
    run nsx timeout 60 python3 "$ROOT/tests/tools/destroyed_connection_client.py" "$STACK" 9000 50
    echo "stack: $output"
    [ "$status" -eq 0 ]
    [ "$output" = "$kernel" ]
}

@test "a node http client under the preload makes 300 sequential requests and fetches 20 MB from a kernel node server" {
    tun_up
    head -c 20M /dev/urandom > "$TMP/big"
    background bash -c "exec node $ROOT/tests/tools/node_file_server.js $KERNEL 8081 $TMP/big > $TMP/out"
    wait_until listening "$KERNEL" 8081
    run preloaded timeout 60 node "$ROOT/tests/tools/node_http_client.js" "$KERNEL" 8081 300
    echo "$output"
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "300 small ok" ]
    [ "${lines[1]}" = "$(sha256sum < "$TMP/big" | cut -d' ' -f1)" ]
}
