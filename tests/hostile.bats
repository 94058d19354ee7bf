#!/usr/bin/env bats
# Hostile peers against a preloaded server: a SYN flood.

load helpers

# Real clients, one after another while the flood lasts: each sends a line
# and must get it back. Prints "served N failed M".
clients_during_flood() {
    local served=0 failed=0 i=0
    while ! grep -q "^sent" "$TMP/flood"; do
        i=$((i + 1))
        if [ "$(echo "client $i" | nsx timeout 5 nc -N "$STACK" 7)" = "client $i" ]; then
            served=$((served + 1))
        else
            failed=$((failed + 1))
        fi
        [ "$i" -lt 1000 ] || break
    done
    echo "served $served failed $failed"
}

@test "a preloaded server under 10,000 spoofed SYNs a second keeps accepting and serving real clients (SYN cookies)" {
    background_preloaded "$EX/echo_server" "$STACK" 7
    wait_until nsx nc -z "$STACK" 7
    background timeout 30 python3 "$ROOT/tests/tools/syn_flood.py" "$STACK" 7 10000 6 > "$TMP/flood"
    wait_until grep -q flooding "$TMP/flood"
    run clients_during_flood
    echo "$output; $(cat "$TMP/flood")"
    [[ $output == "served "*" failed 0" ]]
    local served=${output#served }
    served=${served%% *}
    [ "$served" -ge 20 ]
    # the flood went out whole
    [ "$(tail -1 "$TMP/flood")" = "sent 60000 SYNs" ]
}
