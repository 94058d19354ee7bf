#!/usr/bin/env bats
# nginx and apache2 in their packaged shapes (daemonized, root parent, unprivileged workers) under the preload.

load helpers

# The document root, readable by the workers' user: index.html and
# big.bin of $1 random bytes.
make_www() {
    chmod 755 "$TMP"
    mkdir -p "$TMP/www"
    chmod 755 "$TMP/www"
    echo "hello from the document root" > "$TMP/www/index.html"
    head -c "$1" /dev/urandom > "$TMP/www/big.bin"
    chmod 644 "$TMP/www/index.html" "$TMP/www/big.bin"
}

# Writes tests/programs/TEMPLATE.conf.in to STATE/TEMPLATE.conf with its
# state (pid file, logs, temp dirs) in STATE, the server on LISTEN, and
# ARG as the MPM (apache2) or the upstream (nginx proxy).
render() {
    local template=$1 state=$2 listen=$3 arg=${4:-}
    mkdir -p "$state"
    chmod 755 "$state"
    sed -e "s|@STATE@|$state|g" -e "s|@WWW@|$TMP/www|g" -e "s|@LISTEN@|$listen|g" \
        -e "s|@MPM@|$arg|g" -e "s|@UPSTREAM@|$arg|g" \
        "$ROOT/tests/programs/$template.conf.in" > "$state/$template.conf"
}

# A daemonized server's pid, once its pid file is written.
pid_from() {
    wait_until test -s "$1"
    cat "$1"
}

# A process has exited (an orphan may stay a zombie until pid 1 reaps it).
gone() {
    [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

children() { ps --ppid "$1" -o pid= | tr -d ' ' | sort; }
two_children() { [ "$(children "$1" | wc -l)" -eq 2 ]; }
# Two children, none of them one of OLD (a list of pids).
two_new_children() {
    two_children "$1" || return 1
    [ -z "$(comm -12 <(children "$1") <(echo "$2"))" ]
}
users_of() { ps -o user= -p "$(children "$1" | paste -sd,)" | sort -u; }

sha_of_url() { nsx bash -c "curl -sf --max-time 60 '$1' | sha256sum" | cut -d' ' -f1; }
sha_of_file() { sha256sum < "$1" | cut -d' ' -f1; }
# Status line and headers of a response, without the Date.
headers_of() { nsx curl -sS -D - -o /dev/null "$1" | tr -d '\r' | grep -vi '^date:'; }
body_of() { nsx curl -sS "$1"; }

# ab's report has N complete requests, none failed, all 2xx.
ab_clean() {
    local n=$1 c=$2 url=$3
    run nsx timeout 60 ab -q -n "$n" -c "$c" "$url"
    echo "$output"
    [ "$status" -eq 0 ]
    [[ $output == *"Complete requests:      $n"* ]]
    [[ $output == *"Failed requests:        0"* ]]
    [[ $output != *"Non-2xx"* ]]
}

no_processes_left() { [ -z "$(ip netns pids "$NS")" ]; }

# Starts preloaded nginx from $TMP/$1.conf; it daemonizes. Sets master
# once both workers run, as nobody (no user directive: as root, the
# workers run as nobody, and reach the stack only through the fds they
# inherited from the master), and the server answers.
start_nginx() {
    preloaded nginx -c "$TMP/$1.conf"
    master=$(pid_from "$TMP/nginx.pid")
    wait_until two_children "$master"
    [ "$(users_of "$master")" = "nobody" ]
    wait_until nsx curl -sf -o /dev/null "http://$STACK/"
}
refused() { nsx curl -sv --max-time 5 "$1" 2>&1 | grep -q "Connection refused"; }

@test "nginx in its packaged default shape (daemon, master and 2 workers) serves a 50 MB file and 10,000 ab requests, reloads and quits" {
    make_www 50M
    render nginx-daemon "$TMP" "$STACK:80"
    conf=$TMP/nginx-daemon.conf
    start_nginx nginx-daemon

    [ "$(sha_of_url "http://$STACK/big.bin")" = "$(sha_of_file "$TMP/www/big.bin")" ]
    : > "$TMP/access.log"
    ab_clean 10000 50 "http://$STACK/"
    # both workers accepted on the listener they inherited: each served a
    # share (about half, as on kernel TCP; at least 1% here)
    for w in $(children "$master"); do
        [ "$(grep -c "^$w 200$" "$TMP/access.log")" -ge 100 ]
    done
    [ "$(grep -c ' 200$' "$TMP/access.log")" -eq 10000 ]

    # the same nginx on kernel TCP answers the same (headers but the Date, bodies)
    render nginx-daemon "$TMP/kernel" "127.0.0.1:8080"
    nsx nginx -c "$TMP/kernel/nginx-daemon.conf"
    wait_until nsx curl -sf -o /dev/null "http://127.0.0.1:8080/"
    for path in / /big.bin /missing; do
        diff <(headers_of "http://$STACK$path") <(headers_of "http://127.0.0.1:8080$path")
    done
    [ "$(body_of "http://$STACK/")" = "$(body_of "http://127.0.0.1:8080/")" ]
    [ "$(body_of "http://$STACK/missing")" = "$(body_of "http://127.0.0.1:8080/missing")" ]

    # reload: the master stays, two new workers serve
    old=$(children "$master")
    preloaded nginx -c "$conf" -s reload
    wait_until two_new_children "$master" "$old"
    [ "$(cat "$TMP/nginx.pid")" = "$master" ]
    [ "$(users_of "$master")" = "nobody" ]
    : > "$TMP/access.log"
    run body_of "http://$STACK/"
    [ "$output" = "hello from the document root" ]
    ab_clean 2000 20 "http://$STACK/"
    # served by the new workers only
    [ -z "$(comm -23 <(cut -d' ' -f1 "$TMP/access.log" | sort -u) <(children "$master"))" ]
    [ "$(grep -c ' 200$' "$TMP/access.log")" -eq 2001 ]

    # another program on the same stack, to see nginx's port close while
    # the stack goes on
    background_preloaded bash -c "exec socat -d -d TCP-LISTEN:8181,bind=$STACK,reuseaddr SYSTEM:'echo still here' 2>$TMP/socat.log"
    wait_until grep -q "listening on" "$TMP/socat.log"

    # quit: the master ends, and the port is closed (refused, not silent)
    preloaded nginx -c "$conf" -s quit
    wait_until gone "$master"
    wait_until refused "http://$STACK/"
    run nsx timeout 10 nc -N "$STACK" 8181 < /dev/null
    [ "$output" = "still here" ]
    # nginx left no socket behind: once socat (done after its one
    # connection) and the kernel nginx end, the stack's daemon (nginx
    # started it) has nothing left and exits too
    wait_until gone "${PIDS[0]}"
    nsx nginx -c "$TMP/kernel/nginx-daemon.conf" -s quit
    wait_until no_processes_left

    run grep -E '\[(alert|crit|emerg)\]' "$TMP/error.log"
    echo "$output"
    [ "$status" -eq 1 ]
}

@test "nginx with listen reuseport (a listening socket per worker, SO_REUSEPORT) spreads 4,000 ab requests over both workers" {
    make_www 1K
    render nginx-daemon "$TMP" "$STACK:80 reuseport"
    start_nginx nginx-daemon
    # the master bound one socket a worker on the same port
    [ "$(nsx "$ROOT/build/tuntcp" stats | awk '$1 == "daemon.bound" { print $2 }')" -ge 2 ]
    : > "$TMP/access.log"
    ab_clean 4000 20 "http://$STACK/"
    # the stack spread the connections by hash over the two listeners, so
    # each worker served a share (about half; at least 10% here)
    for w in $(children "$master"); do
        [ "$(grep -c "^$w 200$" "$TMP/access.log")" -ge 400 ]
    done
    [ "$(grep -c ' 200$' "$TMP/access.log")" -eq 4000 ]
    preloaded nginx -c "$TMP/nginx-daemon.conf" -s quit
    wait_until gone "$master"
    run grep -E '\[(alert|crit|emerg|error)\]' "$TMP/error.log"
    echo "$output"
    [ "$status" -eq 1 ]
}

@test "nginx as a reverse proxy from 172.16.0.2 to a kernel server on 172.16.0.1" {
    # a persistent tun0 (a kernel server binds 172.16.0.1 first) whose stack
    # runs as root: the workers (nobody) make the upstream connections, which
    # they may as processes given a socket of the stack (the listener)
    tun_up
    make_www 4M
    background python3 -m http.server --bind "$KERNEL" --directory "$TMP/www" 8004
    wait_until listening "$KERNEL" 8004
    render nginx-proxy "$TMP" "$STACK:80" "$KERNEL:8004"
    start_nginx nginx-proxy

    # the workers (nobody) open their upstream connections themselves
    [ "$(sha_of_url "http://$STACK/big.bin")" = "$(sha_of_file "$TMP/www/big.bin")" ]
    ab_clean 200 10 "http://$STACK/index.html"
    # what the proxy passes on is what the kernel server says directly
    [ "$(body_of "http://$STACK/")" = "$(body_of "http://$KERNEL:8004/")" ]
    [ "$(nsx curl -s -o /dev/null -w '%{http_code}' "http://$STACK/missing")" = 404 ]
    [ "$(body_of "http://$STACK/missing")" = "$(body_of "http://$KERNEL:8004/missing")" ]

    run grep -E '\[(alert|crit|emerg|error)\]' "$TMP/error.log"
    echo "$output"
    [ "$status" -eq 1 ]
}

# apache2 with MPM $1 from a config of its own (nothing from /etc/apache2),
# started as root (children as www-data) under the preload: ab, a 10 MB
# file, keep-alive, the same answers as on kernel TCP, then a clean stop.
apache_serves() {
    local mpm=$1
    make_www 10M
    render apache2-standalone "$TMP" "$STACK:80" "$mpm"
    # daemonizes; what it says before its error log is open goes to stderr
    preloaded apache2 -f "$TMP/apache2-standalone.conf" -k start 2> "$TMP/start.err"
    parent=$(pid_from "$TMP/apache2.pid")
    wait_until nsx curl -sf -o /dev/null "http://$STACK/"
    [ "$(users_of "$parent")" = "www-data" ]
    grep -q "\[mpm_$mpm:notice\].*resuming normal operations" "$TMP/error.log"

    [ "$(sha_of_url "http://$STACK/big.bin")" = "$(sha_of_file "$TMP/www/big.bin")" ]
    ab_clean 2000 20 "http://$STACK/"
    # 20 requests on one kept-alive connection
    run nsx timeout 30 curl -sS -w '%{num_connects}\n' $(printf "http://$STACK/ %.0s" $(seq 20))
    [ "$(grep -c '^hello from the document root$' <<<"$output")" -eq 20 ]
    [ "$(grep -v '^hello' <<<"$output" | awk '{ n += $1 } END { print n }')" -eq 1 ]

    # the same apache2 on kernel TCP answers the same (headers but the Date, bodies)
    render apache2-standalone "$TMP/kernel" "127.0.0.1:8080" "$mpm"
    nsx apache2 -f "$TMP/kernel/apache2-standalone.conf" -k start
    wait_until nsx curl -sf -o /dev/null "http://127.0.0.1:8080/"
    for path in / /big.bin /missing; do
        diff <(headers_of "http://$STACK$path") <(headers_of "http://127.0.0.1:8080$path")
    done
    [ "$(body_of "http://$STACK/")" = "$(body_of "http://127.0.0.1:8080/")" ]
    [ "$(body_of "http://$STACK/missing")" = "$(body_of "http://127.0.0.1:8080/missing")" ]

    preloaded apache2 -f "$TMP/apache2-standalone.conf" -k stop
    wait_until gone "$parent"
    run grep -E '\[[a-z_]*:(error|crit|alert|emerg)\]' "$TMP/error.log"
    echo "$output"
    [ "$status" -eq 1 ]
    # not even the warning that TCP_DEFER_ACCEPT is not available
    # (AH00076, at start): the stack has it
    cat "$TMP/start.err"
    ! grep -q AH00076 "$TMP/start.err" "$TMP/error.log"
}

@test "apache2 with mpm_prefork serves ab without errors" {
    apache_serves prefork
}

@test "apache2 with mpm_event serves ab without errors" {
    apache_serves event
}
