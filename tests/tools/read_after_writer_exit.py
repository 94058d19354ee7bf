"""The kernel side of "a client writes and exits at once". ADDR PORT
NBYTES HOLDBACK EXITED: accepts one connection, reads all but the last
HOLDBACK of the NBYTES bytes, then waits until the file EXITED exists
(the test makes it once the client has exited; 20 s at most), then reads
the rest to the end of stream. Prints whether the client exited while
HOLDBACK bytes were still unread, then "N bytes, sha256 H, then EOF"."""
import hashlib
import socket
import sys

from kernel_peer import accept_one, wait_for_file

addr, port, total, holdback, exited = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), \
    int(sys.argv[4]), sys.argv[5]
c = accept_one(addr, port)
h = hashlib.sha256()
n = 0
while n < total - holdback:
    data = c.recv(min(65536, total - holdback - n))
    if not data:
        break
    h.update(data)
    n += len(data)
print("the client exited before the last", holdback, "bytes were read:",
      "yes" if wait_for_file(exited) else "no", flush=True)
end = "EOF"
try:
    while data := c.recv(65536):
        h.update(data)
        n += len(data)
except (ConnectionResetError, socket.timeout) as e:
    end = type(e).__name__
print(f"{n} bytes, sha256 {h.hexdigest()}, then {end}")
