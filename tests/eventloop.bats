#!/usr/bin/env bats
# Event-driven programs: epoll over stack sockets and kernel fds.

load helpers

@test "epoll: level- and edge-triggered, oneshot, RDHUP, mixed sets, closed fds, no busy waiting" {
    kernel_echo_server 9600
    run_checks epoll_semantics 9600
    [ "$status" -eq 0 ]
}

@test "a python asyncio echo server under the preload serves 200 concurrent clients" {
    background_preloaded python3 "$ROOT/tests/tools/asyncio_echo.py" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    run nsx timeout 120 python3 "$ROOT/tests/tools/many_clients.py" "$STACK" 7 200 65536
    [ "$status" -eq 0 ]
    [ "$output" = "200 connections ok" ]
}

@test "dup, dup2, F_DUPFD and close_range keep Linux's meaning for stack sockets" {
    kernel_echo_server 9700
    run_checks dup_semantics 9700
    [ "$status" -eq 0 ]
}

@test "fcntl flags, FIONREAD, SIOCOUTQ and TCP_INFO on stack sockets" {
    kernel_echo_server 9800
    run_checks io_controls 9800
    [ "$status" -eq 0 ]
}

@test "fork: parent and child share a connection, which lives while either holds it" {
    kernel_echo_server 9950
    run_checks fork_semantics 9950
    [ "$status" -eq 0 ]
    [ "${lines[0]}" = "child used it: 0" ]
    [ "${lines[1]}" = "parent after the child closed its copy: after" ]
    [ "${lines[2]}" = "child after the parent closed its copy: 0" ]
}

@test "an HTTP server on asyncio streams under the preload serves curl and ab" {
    background_preloaded python3 "$ROOT/tests/tools/asyncio_http.py" "$STACK" 8080
    wait_until nsx curl -sf -o /dev/null "http://$STACK:8080/1"
    run nsx bash -c "curl -sf --max-time 30 http://$STACK:8080/3000000 | wc -c"
    [ "$output" -eq 3000000 ]
    expected=$(python3 -c 'import sys; sys.stdout.buffer.write((bytes(range(256)) * 4096)[:100000])' | sha256sum)
    run nsx bash -c "curl -sf --max-time 30 http://$STACK:8080/100000 | sha256sum"
    [ "$output" = "$expected" ]
    run nsx timeout 120 ab -q -k -n 2000 -c 20 "http://$STACK:8080/100"
    [[ $output == *"Complete requests:      2000"* ]]
    [[ $output == *"Failed requests:        0"* ]]
}

@test "closing a socket another thread is blocked on: the call goes on as on Linux, nothing breaks" {
    kernel_echo_server 9960
    run_checks close_while_blocked 9960
    [ "$status" -eq 0 ]
    [ "$output" = "reader: [b'ping']" ]
}
