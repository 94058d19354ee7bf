"""Ctrl-C in a blocked recv: connects to ADDR PORT (a peer that sends
nothing), prints "blocking PID" and blocks in recv. SIGINT must end the
recv with KeyboardInterrupt, as Python raises it when the call returns
EINTR: prints "KeyboardInterrupt in recv" and exits 0."""
import signal
import socket
import sys
import os

# a background job of a shell starts with SIGINT ignored; Python's own
# handler is what an interactive program has
signal.signal(signal.SIGINT, signal.default_int_handler)
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.settimeout(None)
print("blocking", os.getpid(), flush=True)
try:
    data = s.recv(100)
    print("recv returned", data)
except KeyboardInterrupt:
    print("KeyboardInterrupt in recv", flush=True)
    sys.exit(0)
sys.exit(1)
