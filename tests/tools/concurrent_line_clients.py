"""Opens N connections at once to HOST PORT (a forking_line_server.py),
then each sends its own line and checks the answer is the sha256 of that
line. Prints "N replies ok from P processes" (P: distinct server pids) or
what went wrong. usage: HOST PORT N"""
import hashlib
import socket
import sys
import threading

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
failures = []
pids = set()
barrier = threading.Barrier(count)


def client(i):
    line = f"client {i} " + "x" * i
    try:
        with socket.create_connection((host, port), timeout=30) as s:
            barrier.wait(timeout=30)          # all connected at once
            s.sendall(line.encode() + b"\n")
            reply = s.makefile("rb").read().decode()
        pid, digest = reply.split()
        if digest != hashlib.sha256(line.encode()).hexdigest():
            failures.append(f"connection {i}: wrong reply {reply!r}")
        pids.add(pid)
    except Exception as e:  # reported below, the test fails
        failures.append(f"connection {i}: {e!r}")


threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(failures) if failures else f"{count} replies ok from {len(pids)} processes")
sys.exit(1 if failures else 0)
