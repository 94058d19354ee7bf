#!/usr/bin/env bats
# Real event-driven programs, unmodified, under the preload.

load helpers

@test "nginx serves a 50 MB file (sha256) and 10,000 requests from ab without errors" {
    mkdir -p "$TMP/www"
    head -c 50M /dev/urandom > "$TMP/www/big.bin"
    echo hello > "$TMP/www/index.html"
    sed "s|@TMP@|$TMP|g" "$ROOT/tests/programs/nginx.conf.in" > "$TMP/nginx.conf"
    background_preloaded nginx -c "$TMP/nginx.conf" -e stderr
    wait_until nsx curl -sf -o /dev/null "http://$STACK/"
    run nsx bash -c "curl -sf --max-time 60 http://$STACK/big.bin | sha256sum"
    [ "${output%% *}" = "$(sha256sum < "$TMP/www/big.bin" | cut -d' ' -f1)" ]
    run nsx timeout 120 ab -q -n 10000 -c 50 "http://$STACK/"
    [ "$status" -eq 0 ]
    [[ $output == *"Complete requests:      10000"* ]]
    [[ $output == *"Failed requests:        0"* ]]
    [[ $output != *"Non-2xx"* ]]
}

@test "redis-server under the preload takes redis-benchmark without errors" {
    background_preloaded redis-server --bind "$STACK" --port 6379 --save '' --appendonly no \
        --protected-mode no
    wait_until bash -c "ip netns exec $NS redis-cli -h $STACK ping | grep -q PONG"
    run nsx timeout 120 redis-benchmark -h "$STACK" -q -n 20000 -c 50 -t set,get,incr,lpush
    [ "$status" -eq 0 ]
    [[ $output == *"SET: "*"requests per second"* ]]
    [[ $output == *"LPUSH: "*"requests per second"* ]]
    run nsx redis-cli -h "$STACK" dbsize
    [ "$output" -ge 2 ]
}

@test "redis-cli under the preload talks to a kernel redis" {
    tun_up
    background redis-server --bind "$KERNEL" --port 6380 --save '' --appendonly no --protected-mode no
    wait_until listening "$KERNEL" 6380
    run preloaded timeout 10 redis-cli -h "$KERNEL" -p 6380 set k tuntcp
    [ "$output" = "OK" ]
    run preloaded timeout 10 redis-cli -h "$KERNEL" -p 6380 get k
    [ "$output" = "tuntcp" ]
}

@test "socat with nonblocking I/O in both directions, 5 MB by sha256" {
    head -c 5M /dev/urandom > "$TMP/in"
    # one connection (socat without fork): readiness from its log, not a probe
    background_preloaded bash -c "exec socat -d -d TCP-LISTEN:9900,bind=$STACK,reuseaddr,nonblock EXEC:cat 2>$TMP/log"
    wait_until grep -q "listening on" "$TMP/log"
    run nsx bash -c "timeout 60 socat -b 65536 - TCP:$STACK:9900,nonblock,shut-down < $TMP/in | sha256sum"
    [ "${output%% *}" = "$(sha256sum < "$TMP/in" | cut -d' ' -f1)" ]
}

@test "a preloaded socat client with nonblocking I/O against a kernel server" {
    tun_up
    head -c 5M /dev/urandom > "$TMP/in"
    background socat TCP-LISTEN:9901,bind=$KERNEL,reuseaddr EXEC:cat
    wait_until listening "$KERNEL" 9901
    run preloaded bash -c "timeout 60 socat - TCP:$KERNEL:9901,nonblock,shut-down < $TMP/in | sha256sum"
    [ "${output%% *}" = "$(sha256sum < "$TMP/in" | cut -d' ' -f1)" ]
}

@test "preloaded curl --parallel runs 20 transfers from a kernel server" {
    tun_up
    for i in $(seq 20); do head -c 200K /dev/urandom > "$TMP/f$i"; done
    background python3 -m http.server --bind "$KERNEL" --directory "$TMP" 8003
    wait_until listening "$KERNEL" 8003
    mkdir "$TMP/out"
    urls=()
    for i in $(seq 20); do urls+=(-o "$TMP/out/f$i" "http://$KERNEL:8003/f$i"); done
    run preloaded timeout 60 curl -sf --parallel --parallel-max 20 "${urls[@]}"
    [ "$status" -eq 0 ]
    for i in $(seq 20); do cmp "$TMP/f$i" "$TMP/out/f$i"; done
}
