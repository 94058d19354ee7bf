#!/usr/bin/env bats
# Capacity: 100,000 connections one after another against a preloaded server give back every fd, connection and socket they held; `tuntcp stats`; TUNTCP_MSL_MS.

load helpers

# One value of a `tuntcp stats` listing: stat NAME FILE
stat() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { exit !f }' "$2"; }
stats() { nsx "$ROOT/build/tuntcp" stats; }
# The stack counts VALUE of NAME now.
counts() { [ "$(stats | awk -v k="$1" '$1 == k { print $2 }')" = "$2" ]; }
open_fds() { ls "/proc/$1/fd" | wc -l; }
# Waits (15 s at most) until the connection table and the stack's
# sockets are as in FILE.
table_back_as_in() {
    local i
    for i in $(seq 300); do
        stats > "$TMP/now"
        [ "$(stat conns_open "$TMP/now")" = "$(stat conns_open "$1")" ] &&
            [ "$(stat time_wait "$TMP/now")" = "$(stat time_wait "$1")" ] &&
            [ "$(stat sockets "$TMP/now")" = "$(stat sockets "$1")" ] && return 0
        sleep 0.05
    done
    echo "the table did not empty: $(grep -E '^(conns_open|time_wait|sockets) ' "$TMP/now")" >&2
    return 1
}

# What must come back to its value before the connections.
GIVEN_BACK="conns_open time_wait sockets tcp.buffer_bytes daemon.relays daemon.bound daemon.clients daemon.fds"

@test "100,000 connections one after another to a preloaded server that closes first leave the server's fds, the stack's connections and sockets and the daemon's fds as they were" {
    # The stack's side closes first and holds TIME-WAIT, 2 x 2 s here:
    # long enough that the kernel's client comes back to ports whose
    # connection is still in TIME-WAIT on the stack (RFC 6191 reuse).
    background_preloaded env TUNTCP_MSL_MS=2000 "$ROOT/build/tools/one_byte_server" "$STACK" 7 \
        > "$TMP/server"
    local server=${PIDS[-1]}
    wait_until grep -q listening "$TMP/server"
    [ "$(cat "/proc/$server/comm")" = one_byte_server ]
    stats > "$TMP/before"
    local server_fds
    server_fds=$(open_fds "$server")

    run nsx timeout 60 "$ROOT/build/tools/sequential_connections" "$STACK" 7 100000
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == "100000 connections in "* ]]
    stats > "$TMP/end"
    echo "# $output; right after: $(stat conns_open "$TMP/end") connections and" \
        "$(stat time_wait "$TMP/end") TIME-WAIT records in the tables, $(stat sockets "$TMP/end") sockets" >&3

    # TIME-WAIT ends 4 s after the last one
    table_back_as_in "$TMP/before"
    stats > "$TMP/after"
    echo "# memory before: $(grep -Ei 'vm_|mem|buf' "$TMP/before" | tr '\n' ' ')" >&3
    echo "# memory after:  $(grep -Ei 'vm_|mem|buf' "$TMP/after" | tr '\n' ' ')" >&3
    local name
    for name in $GIVEN_BACK; do
        echo "$name: $(stat "$name" "$TMP/before") before, $(stat "$name" "$TMP/after") after"
        [ "$(stat "$name" "$TMP/after")" = "$(stat "$name" "$TMP/before")" ]
    done
    [ "$(open_fds "$server")" = "$server_fds" ]
    # every one was a connection of its own, none was reset or refused
    [ $(($(stat tcp.passive_opens "$TMP/after") - $(stat tcp.passive_opens "$TMP/before"))) -eq 100000 ]
    [ "$(stat tcp.rst_out "$TMP/after")" = "$(stat tcp.rst_out "$TMP/before")" ]
    [ "$(stat drops.tcp_backlog "$TMP/after")" = "$(stat drops.tcp_backlog "$TMP/before")" ]
}

@test "tuntcp stats lists the stack's counters for root, says when no stack runs, and refuses a user who may not use the stack" {
    run nsx "$ROOT/build/tuntcp" stats
    [ "$status" -eq 1 ]
    [ "$output" = "tuntcp: no stack serves tun0" ]

    tun_up
    run stats
    [ "$status" -eq 0 ]
    # "name value" lines, each name once: the stack's, the TCP counters,
    # drops by reason, the daemon's
    [ -z "$(grep -vE '^[a-z_.]+ [0-9]+$' <<<"$output")" ]
    [ -z "$(cut -d' ' -f1 <<<"$output" | sort | uniq -d)" ]
    for name in ip_in tcp.segs_out tcp.passive_opens drops.tcp_checksum conns_open time_wait sockets \
        daemon.relays daemon.bound daemon.fds daemon.vm_rss_kb daemon.vm_hwm_kb; do
        grep -q "^$name [0-9]" <<<"$output"
    done
    # the kernel's connection attempt to a port with no listener: a RST and its drop
    run nsx timeout 5 nc -z "$STACK" 9
    [ "$status" -eq 1 ]
    stats > "$TMP/after"
    [ "$(stat drops.tcp_no_socket "$TMP/after")" = 1 ]
    [ "$(stat tcp.rst_out "$TMP/after")" = 1 ]

    run nsx setpriv --reuid=nobody --regid=nogroup --clear-groups "$ROOT/build/tuntcp" stats
    [ "$status" -eq 1 ]
    [ "$output" = "tuntcp: stats of tun0: Permission denied" ]

    run nsx "$ROOT/build/tuntcp" stats --dev other0
    [ "$status" -eq 1 ]
    [ "$output" = "tuntcp: no stack serves other0" ]
}

@test "TUNTCP_MSL_MS sets how long the stack holds a connection in TIME-WAIT (2 MSL), and a malformed value is refused" {
    run nsx env TUNTCP_MSL_MS=0 LD_PRELOAD="$LIB" "$EX/echo_server" "$STACK" 7
    [ "$status" -eq 2 ]
    [ "$output" = "tuntcp: TUNTCP_MSL_MS=0 is not valid: expected a number of milliseconds from 1 to 600000" ]

    background_preloaded env TUNTCP_MSL_MS=1000 "$ROOT/build/tools/one_byte_server" "$STACK" 7 \
        > "$TMP/server"
    wait_until grep -q listening "$TMP/server"
    run nsx timeout 10 "$ROOT/build/tools/sequential_connections" "$STACK" 7 1
    [ "$status" -eq 0 ]
    local start=$SECONDS
    # the server closed first: its side is in TIME-WAIT for 2 s, then gone
    counts time_wait 1
    wait_until counts time_wait 0
    [ $((SECONDS - start)) -ge 1 ]
}
