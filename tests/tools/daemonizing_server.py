"""Binds and listens on ADDR PORT, then daemonizes the classic way: fork,
setsid, fork again, stdio to /dev/null; the original process and the
first child exit, the grandchild writes its pid to PIDFILE and serves:
for each connection it answers "served by <pid> in session <sid>" and
closes. The original process exits 0 once the pid file is written, so
when it has exited the listener belongs to the daemon alone.
usage: ADDR PORT PIDFILE"""
import os
import socket
import sys

addr, port, pidfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((addr, port))
listener.listen()

ready_r, ready_w = os.pipe()
if os.fork() > 0:                       # the original process
    os.close(ready_w)
    sys.exit(0 if os.read(ready_r, 1) == b"1" else 1)
os.close(ready_r)
os.setsid()
if os.fork() > 0:                       # the session leader
    os._exit(0)
devnull = os.open(os.devnull, os.O_RDWR)
for fd in (0, 1, 2):
    os.dup2(devnull, fd)
os.close(devnull)
with open(pidfile + ".tmp", "w") as f:
    f.write(f"{os.getpid()}\n")
os.rename(pidfile + ".tmp", pidfile)
os.write(ready_w, b"1")
os.close(ready_w)
while True:
    conn, _ = listener.accept()
    conn.sendall(f"served by {os.getpid()} in session {os.getsid(0)}\n".encode())
    conn.close()
