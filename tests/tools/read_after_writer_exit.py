"""The kernel side of "a client writes and exits at once". ADDR PORT
NBYTES HOLDBACK EXITED: accepts one connection, reads all but the last
HOLDBACK of the NBYTES bytes, then waits until the file EXITED exists
(the test makes it once the client has exited; 20 s at most), then reads
the rest to the end of stream. Prints whether the client exited while
HOLDBACK bytes were still unread, then "N bytes, sha256 H, then EOF"."""
import hashlib
import os
import socket
import sys
import time

addr, port, total, holdback, exited = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((addr, port))
l.listen()
l.settimeout(20)
c, _ = l.accept()
c.settimeout(20)
h = hashlib.sha256()
n = 0
while n < total - holdback:
    data = c.recv(min(65536, total - holdback - n))
    if not data:
        break
    h.update(data)
    n += len(data)
deadline = time.monotonic() + 20
while not os.path.exists(exited) and time.monotonic() < deadline:
    time.sleep(0.01)
print("the client exited before the last", holdback, "bytes were read:",
      "yes" if os.path.exists(exited) else "no", flush=True)
end = "EOF"
try:
    while data := c.recv(65536):
        h.update(data)
        n += len(data)
except (ConnectionResetError, socket.timeout) as e:
    end = type(e).__name__
print(f"{n} bytes, sha256 {h.hexdigest()}, then {end}")
