"""A client that is killed with its connection open, SIGINT at its default
action (not KeyboardInterrupt). ADDR PORT MODE [NBYTES]:
  write NBYTES: writes NBYTES (bytes 0..255 repeated), prints "ready PID"
                and waits: what it wrote may still be queued on the way;
  unread:       waits until data has arrived, reads none of it, prints
                "ready PID" and waits.
The test then kills it."""
import os
import select
import signal
import socket
import sys

signal.signal(signal.SIGINT, signal.SIG_DFL)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
if sys.argv[3] == "write":
    n = int(sys.argv[4])
    s.sendall((bytes(range(256)) * (n // 256 + 1))[:n])
else:
    p = select.poll()
    p.register(s, select.POLLIN)
    p.poll(20000)
print("ready", os.getpid(), flush=True)
signal.pause()
