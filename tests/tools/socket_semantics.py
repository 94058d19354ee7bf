"""Linux socket semantics a program relies on, checked from inside a
preloaded process against a kernel echo server at HOST:PORT (and a closed
port PORT+1). Prints one line per check; exit status 1 if any failed."""
import errno
import select
import socket
import struct
import sys
import time

from checks import check, finish

host, port = sys.argv[1], int(sys.argv[2])



# options set before connect reach the stack's socket
pre = socket.socket()
pre.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
pre.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32768)
pre.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1000)
pre.connect((host, port))
check("SO_RCVBUF set before connect is kept (doubled)",
      pre.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 131072)
check("SO_SNDBUF set before connect is kept (doubled)",
      pre.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) == 65536)
check("TCP_MAXSEG set before connect limits the MSS",
      0 < pre.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG) <= 1000)
pre.close()

s = socket.create_connection((host, port), timeout=10)
s.settimeout(None)
check("SO_TYPE is SOCK_STREAM", s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) == socket.SOCK_STREAM)
check("SO_DOMAIN is AF_INET", s.getsockopt(socket.SOL_SOCKET, socket.SO_DOMAIN) == socket.AF_INET)
check("getpeername", s.getpeername() == (host, port))
check("getsockname is the stack's address", s.getsockname()[0] != "0.0.0.0")
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
check("TCP_NODELAY reads back", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
check("SO_RCVBUF reads back doubled", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 131072)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, 0x10)   # as ssh does
check("IP_TOS reads back", s.getsockopt(socket.IPPROTO_IP, socket.IP_TOS) == 0x10)
check("IP_TTL is 64 by default", s.getsockopt(socket.IPPROTO_IP, socket.IP_TTL) == 64)
check("SO_BINDTODEVICE is empty while unbound (as sshd asks)",
      s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16) == b"")
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"tun0")
check("SO_BINDTODEVICE to the stack's device reads back",
      s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16) == b"tun0\0")
try:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"nosuchdev0")
    check("SO_BINDTODEVICE to another device is ENODEV", False)
except OSError as e:
    check("SO_BINDTODEVICE to another device is ENODEV", e.errno == errno.ENODEV)
check("TCP_CONGESTION names the stack's default algorithm",
      s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0") == b"cubic")
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
check("TCP_CONGESTION reno reads back",
      s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16) == b"reno".ljust(16, b"\0"))
try:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"nosuchcc")
    check("TCP_CONGESTION with an algorithm the stack lacks is ENOENT", False)
except OSError as e:
    check("TCP_CONGESTION with an algorithm the stack lacks is ENOENT", e.errno == errno.ENOENT)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
check("TCP_QUICKACK is taken", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK) in (0, 1))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, 30000)
check("TCP_USER_TIMEOUT reads back", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 30000)
try:
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 5)   # not the stack's (yet)
    check("an unsupported option is ENOPROTOOPT", False)
except OSError as e:
    check("an unsupported option is ENOPROTOOPT", e.errno == errno.ENOPROTOOPT)

s.sendall(b"peekaboo")
time.sleep(0)  # the echo comes back in its own time; MSG_PEEK blocks for it
check("MSG_PEEK leaves the data", s.recv(4, socket.MSG_PEEK) == b"peek")
check("MSG_WAITALL waits for all", s.recv(8, socket.MSG_WAITALL) == b"peekaboo")
try:
    s.recv(1, socket.MSG_DONTWAIT)
    check("MSG_DONTWAIT with nothing to read is EAGAIN", False)
except BlockingIOError:
    check("MSG_DONTWAIT with nothing to read is EAGAIN", True)

s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 300000))
t0 = time.monotonic()
try:
    s.recv(1)
    check("SO_RCVTIMEO times out with EAGAIN", False)
except (BlockingIOError, TimeoutError, OSError) as e:
    waited = time.monotonic() - t0
    check("SO_RCVTIMEO times out with EAGAIN", getattr(e, "errno", None) == errno.EAGAIN and 0.25 < waited < 2)
s.close()

n = socket.socket()
n.setblocking(False)
rc = n.connect_ex((host, port + 1))
check("nonblocking connect is EINPROGRESS", rc == errno.EINPROGRESS)
select.select([], [n], [], 10)
check("SO_ERROR reports the refusal", n.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == errno.ECONNREFUSED)
n.close()

h = socket.create_connection((host, port), timeout=10)
h.shutdown(socket.SHUT_WR)
check("after SHUT_WR the peer's EOF arrives", h.recv(10) == b"")
try:
    h.send(b"x")
    check("send after SHUT_WR is EPIPE", False)
except BrokenPipeError:
    check("send after SHUT_WR is EPIPE", True)
h.close()

finish()
