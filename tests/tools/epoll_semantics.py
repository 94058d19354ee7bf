"""epoll on stack sockets, mixed with kernel fds, checked from inside a
preloaded process against a kernel echo server at HOST:PORT. One line per
check; exit status 1 if any failed."""
import os
import resource
import select
import socket
import sys
import time

from checks import check, finish

host, port = sys.argv[1], int(sys.argv[2])



def connect():
    s = socket.create_connection((host, port), timeout=10)
    s.setblocking(False)
    return s


def wait_readable(ep, timeout=5.0):
    return dict(ep.poll(timeout))


ep = select.epoll()
s = connect()
ep.register(s.fileno(), select.EPOLLIN)
check("nothing to read: an idle wait times out", ep.poll(0.2) == [])
s.send(b"level")
ev = wait_readable(ep)
check("level-triggered: EPOLLIN once data arrives", ev.get(s.fileno(), 0) & select.EPOLLIN)
check("level-triggered: reported again while unread", dict(ep.poll(0)).get(s.fileno(), 0) & select.EPOLLIN)
time.sleep(0.05)
s.recv(100)
check("level-triggered: quiet once read", ep.poll(0) == [])

ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLET)
s.send(b"edge")
check("edge-triggered: reported on arrival", wait_readable(ep).get(s.fileno(), 0) & select.EPOLLIN)
check("edge-triggered: not again without new data", ep.poll(0.1) == [])
s.recv(100)

ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLONESHOT)
s.send(b"one")
check("oneshot: reported once", wait_readable(ep).get(s.fileno(), 0) & select.EPOLLIN)
time.sleep(0.05)
check("oneshot: disabled after that", ep.poll(0.1) == [])
ep.modify(s.fileno(), select.EPOLLIN)
check("oneshot: re-armed by EPOLL_CTL_MOD", wait_readable(ep).get(s.fileno(), 0) & select.EPOLLIN)
s.recv(100)

r, w = os.pipe()
ep.register(r, select.EPOLLIN)
os.write(w, b"x")
s.send(b"both")
time.sleep(0.1)
ev = dict(ep.poll(1))
check("a kernel pipe and a stack socket in one set", r in ev and s.fileno() in ev)
os.read(r, 1)
s.recv(100)

ep.modify(s.fileno(), select.EPOLLIN | select.EPOLLRDHUP)
s.shutdown(socket.SHUT_WR)   # the echo server closes in turn
ev = wait_readable(ep)
m = ev.get(s.fileno(), 0)
check("EPOLLRDHUP and EPOLLIN at end of stream", m & select.EPOLLRDHUP and m & select.EPOLLIN)

fd = s.fileno()
s.close()
try:
    ep.unregister(fd)
    check("a closed fd has left the set (EBADF)", False)
except OSError as e:
    check("a closed fd has left the set (EBADF)", e.errno == 9)

t = connect()
ep2 = select.epoll()
ep.register(t.fileno(), select.EPOLLIN)
ep2.register(t.fileno(), select.EPOLLIN)
t.send(b"two sets")
time.sleep(0.1)
check("one socket in two epoll sets: both report it",
      t.fileno() in dict(ep.poll(1)) and t.fileno() in dict(ep2.poll(1)))
other = connect()
os.dup2(other.fileno(), t.fileno())     # t's socket is closed by dup2
other.send(b"x")
time.sleep(0.1)
ev = dict(ep.poll(0.2))
check("dup2 over a watched fd takes the old socket out of the set", t.fileno() not in ev)
ep2.close()

w2 = connect()
ep.register(w2.fileno(), select.EPOLLOUT)
check("EPOLLOUT on a connected socket", wait_readable(ep).get(w2.fileno(), 0) & select.EPOLLOUT)
ep.unregister(w2.fileno())

idle = connect()
ep.register(idle.fileno(), select.EPOLLIN)
before = resource.getrusage(resource.RUSAGE_SELF)
t0 = time.monotonic()
ep.poll(1.0)
waited = time.monotonic() - t0
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
check(f"an idle 1 s wait uses no CPU ({cpu * 1000:.1f} ms) and lasts 1 s ({waited:.2f} s)",
      cpu < 0.05 and 0.95 < waited < 1.5)
finish()
