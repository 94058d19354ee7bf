#!/usr/bin/env bats
# Configuration and the launcher: bad values stop the program with a
# one-line error that says what is expected; missing permissions say
# what to do.

load helpers

@test "a malformed TUNTCP_NET stops the program with a one-line error" {
    run env TUNTCP_NET=172.16.0.0/33 LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [ "$output" = "tuntcp: TUNTCP_NET=172.16.0.0/33 is not valid: expected an IPv4 subnet such as 172.16.0.0/24 (prefix 8 to 30)" ]
}

@test "TUNTCP_ADDR outside the subnet, a bad MTU and log level are refused" {
    run env TUNTCP_ADDR=10.0.0.2 LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [[ $output == "tuntcp: TUNTCP_ADDR=10.0.0.2 is not valid"* ]]
    run env TUNTCP_MTU=9x LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [[ $output == "tuntcp: TUNTCP_MTU=9x is not valid: expected a number from 576 to 65520" ]]
    run env TUNTCP_LOG=loud LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [[ $output == *"expected error, warn, info, debug or packets" ]]
}

@test "a malformed TUNTCP_MEM_LIMIT, TUNTCP_SACK or TUNTCP_CC is refused" {
    run env TUNTCP_MEM_LIMIT=12q LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [ "$output" = "tuntcp: TUNTCP_MEM_LIMIT=12q is not valid: expected a number of bytes from 1M to 1024G, with an optional K, M or G" ]
    run env TUNTCP_MEM_LIMIT=512K LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    run env TUNTCP_SACK=yes LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [ "$output" = "tuntcp: TUNTCP_SACK=yes is not valid: expected 0 or 1" ]
    run env TUNTCP_CC=bbr LD_PRELOAD="$LIB" true
    [ "$status" -eq 2 ]
    [ "$output" = "tuntcp: TUNTCP_CC=bbr is not valid: expected cubic or reno" ]
}

@test "tuntcp run passes its options on and checks them" {
    run "$ROOT/build/tuntcp" run --net nonsense -- true
    [ "$status" -eq 2 ]
    [[ $output == "tuntcp: TUNTCP_NET=nonsense is not valid"* ]]
    run "$ROOT/build/tuntcp" run --frobnicate -- true
    [ "$status" -eq 2 ]
    [ "$output" = "tuntcp: unknown option --frobnicate (see tuntcp --help)" ]
    run "$ROOT/build/tuntcp" run --
    [ "$status" -eq 2 ]
    run "$ROOT/build/tuntcp" --help
    [ "$status" -eq 0 ]
    [[ $output == *"tuntcp run"*"tuntcp up"* ]]
}

@test "without permission for the device, the socket call fails and says what to do" {
    run nsx setpriv --reuid=nobody --regid=nogroup --clear-groups \
        env LD_PRELOAD="$LIB" TUNTCP_DEV=tunnope "$EX/seed_server" "$STACK" 9007
    [ "$status" -eq 1 ]
    [[ $output == *"tuntcp: "*"tuntcp up"* ]]
    [[ $output == *"seed_server: listen: "* ]]
}

@test "programs and sockets outside the subnet do not start the stack" {
    run preloaded python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print("ok")'
    [ "$status" -eq 0 ]
    [ "$output" = "ok" ]
    ! nsx ip link show tun0
}
