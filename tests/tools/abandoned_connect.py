"""A connect given up before the peer answered: the client closes its
socket, and the peer must never see that connection (Linux: a closed
socket sends no more SYNs; a late SYN-ACK would be reset). ADDR PORT
[LIB]: a kernel listener on ADDR:PORT whose queue (backlog 0) is full, so
it drops SYNs; a client (under LD_PRELOAD=LIB if given) connects
nonblocking and closes its socket 300 ms later; then the listener makes
room and waits 3.5 s, past two SYN retransmissions (1 s, 3 s). Prints
"no connection", or what came."""
import os
import socket
import subprocess
import sys

addr, port = sys.argv[1], int(sys.argv[2])
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind((addr, port))
l.listen(0)
filler = socket.create_connection((addr, port))
env = dict(os.environ)
if len(sys.argv) > 3:
    env["LD_PRELOAD"] = sys.argv[3]
subprocess.run([sys.executable, "-c", """
import socket, sys, time
s = socket.socket()
s.setblocking(False)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except BlockingIOError:
    pass
time.sleep(0.3)
s.close()
""", addr, str(port)], env=env, check=True, timeout=20)
l.accept()          # the filler: the queue has room now
l.settimeout(3.5)
try:
    c, peer = l.accept()
    c.settimeout(5)
    print("a connection from", peer[0], "which then sent", c.recv(100))
except socket.timeout:
    print("no connection")
