"""A server at ADDR PORT that hands each of four connections it accepts to
another process, a different way each time, and closes its own copy:
  1. a forked child serves it;
  2. it is passed over a unix socket (SCM_RIGHTS) to a worker forked
     before the listener accepted anything;
  3. a program is exec'd with it on fds 0 and 1 (inetd style), through
     subprocess (vfork and exec);
  4. the same through os.posix_spawn with dup2 file actions.
Whoever serves reads a line and answers "<how>: <peer address> <line>",
then closes; the client sees the answer and then EOF. Prints "listening"
once clients may connect, "done" once all four were handed off."""
import os
import socket
import subprocess
import sys

addr, port = sys.argv[1], int(sys.argv[2])

# What the exec'd programs run: the peer comes from getpeername(0).
INETD = ("import socket, sys; s = socket.socket(fileno=0); "
         "print(sys.argv[1] + ':', s.getpeername()[0], sys.stdin.readline().strip(), flush=True)")


def serve(conn, how):
    line = conn.makefile("rb").readline().decode().strip()
    conn.sendall(f"{how}: {conn.getpeername()[0]} {line}\n".encode())
    conn.close()


parent_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind((addr, port))
listener.listen()

worker = os.fork()
if worker == 0:
    listener.close()
    parent_end.close()
    _, fds, _, _ = socket.recv_fds(worker_end, 1, 1)
    serve(socket.socket(fileno=fds[0]), "passed")
    os._exit(0)
worker_end.close()
print("listening", flush=True)

children = [worker]
conn, _ = listener.accept()
child = os.fork()
if child == 0:
    listener.close()
    serve(conn, "forked")
    os._exit(0)
children.append(child)
conn.close()

conn, _ = listener.accept()
socket.send_fds(parent_end, [b"c"], [conn.fileno()])
conn.close()

conn, _ = listener.accept()
execd = subprocess.Popen([sys.executable, "-c", INETD, "exec"], stdin=conn, stdout=conn)
conn.close()

conn, _ = listener.accept()
spawned = os.posix_spawn(sys.executable, [sys.executable, "-c", INETD, "posix_spawn"], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, conn.fileno(), 0),
                                       (os.POSIX_SPAWN_DUP2, conn.fileno(), 1)])
conn.close()
children.append(spawned)
listener.close()

execd.wait()
for pid in children:
    os.waitpid(pid, 0)
print("done", flush=True)
