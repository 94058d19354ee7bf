"""Socket options set before bind/connect and after, read back with
getsockopt: a listener on LOCAL:PORT+1 (its accepted connection included)
and a client of the echo server at REMOTE:PORT. Prints one line per
reading or call ("name = value", "ok" or the errno's name), to be compared
line by line between kernel TCP and the stack. The lines starting with
"refused" are options the stack lacks, set before the move: the kernel
takes them, the stack fails the bind or connect (see README.md).
Usage: options_around_the_move.py LOCAL REMOTE PORT [--unprivileged]
(--unprivileged: the caller lacks CAP_NET_ADMIN and CAP_NET_RAW; then
SO_BINDTODEVICE, whose unbinding needs CAP_NET_RAW, is left out)."""
import errno
import select
import socket
import struct
import sys

local, remote, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
unprivileged = "--unprivileged" in sys.argv[4:]

S, IP, TCP = socket.SOL_SOCKET, socket.IPPROTO_IP, socket.IPPROTO_TCP
LINGER = struct.Struct("ii")
TIMEVAL = struct.Struct("ll")

# name, level, option, how it is read (int, or a byte size), set before
# the move, set after it. A new IP_TOS sets SO_PRIORITY (Linux), so the
# priority comes after it.
OPTIONS = [
    ("SO_REUSEADDR", S, socket.SO_REUSEADDR, "int", 1, 0),
    ("SO_REUSEPORT", S, socket.SO_REUSEPORT, "int", 1, 0),
    ("SO_KEEPALIVE", S, socket.SO_KEEPALIVE, "int", 1, 0),
    ("SO_RCVLOWAT", S, socket.SO_RCVLOWAT, "int", 10, 1),
    ("SO_RCVBUF", S, socket.SO_RCVBUF, "int", 65536, 32768),
    ("SO_SNDBUF", S, socket.SO_SNDBUF, "int", 65536, 32768),
    ("SO_LINGER", S, socket.SO_LINGER, LINGER.size, LINGER.pack(1, 5), LINGER.pack(0, 0)),
    ("SO_RCVTIMEO", S, socket.SO_RCVTIMEO, TIMEVAL.size, TIMEVAL.pack(2, 500000), TIMEVAL.pack(0, 0)),
    ("IP_TOS", IP, socket.IP_TOS, "int", 0x10, 0x08),
    ("SO_PRIORITY", S, socket.SO_PRIORITY, "int", 3, 5),
    ("IP_TTL", IP, socket.IP_TTL, "int", 32, 33),
    ("TCP_NODELAY", TCP, socket.TCP_NODELAY, "int", 1, 0),
    ("TCP_KEEPIDLE", TCP, socket.TCP_KEEPIDLE, "int", 30, 40),
    ("TCP_KEEPINTVL", TCP, socket.TCP_KEEPINTVL, "int", 5, 6),
    ("TCP_KEEPCNT", TCP, socket.TCP_KEEPCNT, "int", 3, 4),
    ("TCP_CORK", TCP, socket.TCP_CORK, "int", 1, 0),
    ("TCP_USER_TIMEOUT", TCP, socket.TCP_USER_TIMEOUT, "int", 5000, 6000),
    ("TCP_DEFER_ACCEPT", TCP, socket.TCP_DEFER_ACCEPT, "int", 5, 30),
    ("TCP_CONGESTION", TCP, socket.TCP_CONGESTION, 16, b"reno", b"reno"),
]
if not unprivileged:
    # to the stack's device before bind, unbound again before listen
    OPTIONS.append(("SO_BINDTODEVICE", S, socket.SO_BINDTODEVICE, 16, b"tun0", b""))


def errname(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def attempt(what, fn, *args):
    try:
        fn(*args)
        print(what + ": ok", flush=True)
        return True
    except OSError as e:
        print(what + ": " + errname(e), flush=True)
        return False


def read(s, level, opt, how):
    if how == "int":
        return s.getsockopt(level, opt)
    return s.getsockopt(level, opt, how).rstrip(b"\0")


def show(where, s, options=OPTIONS):
    for name, level, opt, how, _, _ in options:
        if name == "TCP_CONGESTION" and where == "accepted":
            continue   # the kernel's child takes the system's default
        try:
            print(f"{where}: {name} = {read(s, level, opt, how)!r}", flush=True)
        except OSError as e:
            print(f"{where}: {name}: {errname(e)}", flush=True)


def set_all(where, s, which):
    for name, level, opt, _, *values in OPTIONS:
        attempt(f"{where}: set {name}", s.setsockopt, level, opt, values[which])


def readable(s, seconds):
    return bool(select.select([s], [], [], seconds)[0])


# A listener: options before bind, after it, and what its connection gets.
lst = socket.socket()
set_all("listener before bind", lst, 0)
attempt("listener before bind: set TCP_MAXSEG", lst.setsockopt, TCP, socket.TCP_MAXSEG, 1000)
lst.bind((local, port + 1))
show("listener after bind", lst)
print("listener after bind: TCP_MAXSEG =", lst.getsockopt(TCP, socket.TCP_MAXSEG), flush=True)
set_all("listener after bind", lst, 1)
show("listener set again", lst)
# a TOS that changes sets the priority from it; the same TOS leaves it
for tos in (0x1c, 0x1c | 0x3):
    lst.setsockopt(IP, socket.IP_TOS, tos)
    print(f"listener IP_TOS {tos:#x}: SO_PRIORITY =", lst.getsockopt(S, socket.SO_PRIORITY), flush=True)
    lst.setsockopt(S, socket.SO_PRIORITY, 1)
lst.listen(8)
lst.setsockopt(TCP, socket.TCP_DEFER_ACCEPT, 2)   # 1 + 2 s
client = socket.create_connection((local, port + 1), timeout=10)
print("listener with TCP_DEFER_ACCEPT readable before data:", readable(lst, 0.5), flush=True)
client.sendall(b"x")
print("listener with TCP_DEFER_ACCEPT readable once data came:", readable(lst, 5), flush=True)
conn, _ = lst.accept()
show("accepted", conn)
print("accepted: its data =", conn.recv(1), flush=True)
client.close()   # first: TIME-WAIT on the client's side, the port stays free
conn.close()

# A client: options before connect, after it, and an echo.
cli = socket.socket()
set_all("client before connect", cli, 0)
cli.connect((remote, port))
show("client after connect", cli)
set_all("client after connect", cli, 1)
show("client set again", cli)
cli.sendall(b"echo")
print("client: echo =", cli.recv(4, socket.MSG_WAITALL), flush=True)
cli.close()

# SO_PRIORITY outside 0..6 needs CAP_NET_ADMIN or CAP_NET_RAW.
for where, call in (("before bind", "bind"), ("after bind", "none")):
    p = socket.socket()
    if call == "none":
        p.bind((local, 0))
    for value in (6, 7, -1):
        attempt(f"SO_PRIORITY {value} {where}", p.setsockopt, S, socket.SO_PRIORITY, value)
    if call == "bind":
        attempt("bind after SO_PRIORITY", p.bind, (local, 0))
    print(f"SO_PRIORITY {where} =", p.getsockopt(S, socket.SO_PRIORITY), flush=True)
    p.close()

# Options the stack lacks (or values it refuses), set before the move.
# (TCP_CONGESTION is not among them: the stack has both algorithms a
# kernel lets anyone set, reno and its default, cubic.)
# (A kernel socket bound to lo cannot reach the address of tun0: bind only.)
REFUSED = [
    ("TCP_SYNCNT 3", TCP, socket.TCP_SYNCNT, 3, ("bind", "connect")),
    ("SO_OOBINLINE 1", S, socket.SO_OOBINLINE, 1, ("bind", "connect")),
    ("SO_BINDTODEVICE lo", S, socket.SO_BINDTODEVICE, b"lo", ("bind",)),
]
for name, level, opt, value, calls in REFUSED:
    for call in calls:
        r = socket.socket()
        attempt(f"refused {name} before {call}: setsockopt", r.setsockopt, level, opt, value)
        if call == "bind":
            attempt(f"refused {name} before {call}: {call}", r.bind, (local, 0))
        else:
            attempt(f"refused {name} before {call}: {call}", r.connect, (remote, port))
        r.close()
# ... and after it: the same error as the move gave
r = socket.socket()
r.bind((local, 0))
for name, level, opt, value, _ in REFUSED:
    attempt(f"refused {name} after bind: setsockopt", r.setsockopt, level, opt, value)
r.close()
