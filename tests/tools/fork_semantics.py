"""fork with a stack socket open, from inside a preloaded process against
a kernel echo server at HOST:PORT: parent and child share the connection
as they would a kernel socket, and it stays open while either holds it."""
import os
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
s = socket.create_connection((host, port), timeout=10)
s.sendall(b"before")
assert s.recv(10) == b"before"


def in_child(work):
    pid = os.fork()
    if pid == 0:
        try:
            code = work()
        except Exception:
            code = 2
        os._exit(code)
    return pid


def child_uses_and_closes():
    s.sendall(b"child")
    ok = s.recv(10) == b"child"
    s.close()
    return 0 if ok else 1


_, status = os.waitpid(in_child(child_uses_and_closes), 0)
print("child used it:", os.waitstatus_to_exitcode(status))
s.sendall(b"after")
print("parent after the child closed its copy:", s.recv(10).decode())


def child_outlives_parent_copy():
    os.read(r, 1)            # the parent has closed its copy by now
    s.sendall(b"late")
    return 0 if s.recv(10) == b"late" else 1


r, w = os.pipe()
pid = in_child(child_outlives_parent_copy)
s.close()
os.write(w, b"x")
_, status = os.waitpid(pid, 0)
print("child after the parent closed its copy:", os.waitstatus_to_exitcode(status))
