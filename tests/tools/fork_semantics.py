"""fork with stack sockets open, from inside a preloaded process against a
kernel echo server at HOST:PORT: the child gets an unconnected socket in
place of each (ENOTCONN/EPIPE), may close it, and the parent's connection
goes on working."""
import errno
import os
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.settimeout(None)
s.sendall(b"before")
assert s.recv(10) == b"before"
pid = os.fork()
if pid == 0:
    code = 0
    try:
        s.recv(1)
        code = 1
    except OSError as e:
        code = 0 if e.errno == errno.ENOTCONN else 2
    try:
        s.send(b"x")
        code = code or 3
    except OSError as e:
        code = code or (0 if e.errno == errno.EPIPE else 4)
    s.close()
    os._exit(code)
_, status = os.waitpid(pid, 0)
print("child:", os.waitstatus_to_exitcode(status))
s.sendall(b"after")
print("parent:", s.recv(10).decode())
