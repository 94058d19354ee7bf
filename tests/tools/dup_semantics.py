"""dup, dup2, F_DUPFD and close_range on stack sockets, from inside a
preloaded process against a kernel echo server at HOST:PORT."""
import fcntl
import os
import socket
import sys

from checks import check, finish

host, port = sys.argv[1], int(sys.argv[2])


def connect():
    s = socket.create_connection((host, port), timeout=10)
    s.settimeout(None)   # blocking, so that os.read waits as on any fd
    return s



s = connect()
fd = s.detach()
d = os.dup(fd)
os.close(fd)
os.write(d, b"dup")
check("a dup keeps the connection after the original is closed", os.read(d, 10) == b"dup")
e = fcntl.fcntl(d, fcntl.F_DUPFD_CLOEXEC, 100)
check("F_DUPFD_CLOEXEC gives an fd at or above the minimum", e >= 100)
os.write(e, b"fcntl")
check("the F_DUPFD copy is the same connection", os.read(d, 10) == b"fcntl")
os.close(d)
os.close(e)

a = connect()
b = connect()
os.dup2(a.fileno(), b.fileno())   # b's connection is closed, b is now a
os.write(b.fileno(), b"over")
check("dup2 over a stack socket makes it the other connection", a.recv(10) == b"over")
a.close()
b.close()

c = connect()
cfd = c.detach()
os.closerange(cfd, cfd + 1)   # close_range(2) in CPython 3.10+
try:
    os.fstat(cfd)
    check("close_range closes a stack socket", False)
except OSError:
    check("close_range closes a stack socket", True)
n = connect()
n.sendall(b"still")
check("new connections work after all that", n.recv(10) == b"still")
finish()
