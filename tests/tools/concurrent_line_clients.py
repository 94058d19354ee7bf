"""Opens N connections at once to HOST PORT (a forking_line_server.py),
then each sends its own line and checks the answer is the sha256 of that
line. Prints "N replies ok from P processes" (P: distinct server pids) or
what went wrong. usage: HOST PORT N"""
import hashlib
import sys

from checks import concurrent_clients

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
pids = set()


def line_and_digest(i, s):
    line = f"client {i} " + "x" * i
    s.sendall(line.encode() + b"\n")
    reply = s.makefile("rb").read().decode()
    pid, digest = reply.split()
    pids.add(pid)
    if digest != hashlib.sha256(line.encode()).hexdigest():
        return f"wrong reply {reply!r}"
    return None


failures = concurrent_clients(host, port, count, line_and_digest)
print("\n".join(failures) if failures else f"{count} replies ok from {len(pids)} processes")
sys.exit(1 if failures else 0)
