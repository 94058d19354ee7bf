"""Connects to HOST PORT (a node_destroy_server.js) COUNT times; each time
sends a line, keeps its own side open, and reads until the server's close
shows: prints what came and how it ended ("b'bye\\n' then end of stream" or
"... then reset"), once per distinct outcome, and "prompt" if every close
was seen within 2 s of sending. usage: HOST PORT COUNT"""
import socket
import sys
import time

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
outcomes = []
prompt = True
for i in range(count):
    s = socket.create_connection((host, port), timeout=10)
    start = time.monotonic()
    s.sendall(b"hello %d\n" % i)
    got = b""
    try:
        while data := s.recv(100):
            got += data
        end = "end of stream"
    except ConnectionResetError:
        end = "reset"
    except socket.timeout:
        end = "nothing within 10 s"
    if time.monotonic() - start > 2:
        prompt = False
    s.close()
    outcome = f"{got!r} then {end}"
    if outcome not in outcomes:
        outcomes.append(outcome)
print(*outcomes, sep="\n")
print("prompt" if prompt else "slow")
