"""Sends hostile messages to the control socket of the stack of device DEV
and prints, per kind, the errors the daemon answered with (one line each).
A message the daemon does not answer is a failure: it times out."""
import os
import random
import socket
import struct
import sys

dev = sys.argv[1]
CTL_MAX_OPTS = 24
REQ = struct.Struct(f"=IIIIQIHHi{2 * CTL_MAX_OPTS}i")    # struct ctl_req, then padding
REQ_SIZE = 232
CTL_VERSION, CTL_HELLO, CTL_CONNECT, CTL_LISTEN, CTL_SETOPT, CTL_STOP = 1, 1, 3, 4, 6, 10


def request(version=CTL_VERSION, op=CTL_HELLO, nopts=0, ident=0, nonce=0):
    body = REQ.pack(version, op, 0, 0, ident, nonce, 0, nopts, 0, *([0] * 2 * CTL_MAX_OPTS))
    return body.ljust(REQ_SIZE, b"\0")


def ask(message, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(f"\0tuntcp/{dev}/ctl")
    s.sendmsg([message], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack(f"{len(fds)}i", *fds))]
              if fds else [])
    reply = s.recv(4096)
    s.close()
    result = struct.unpack_from("i", reply)[0]
    return os.strerror(-result) if result < 0 else str(result)


rng = random.Random(7)
kinds = {
    "too short": [b"garbage"],
    "too long": [b"x" * 1000],
    "wrong version": [request(version=99)],
    "too many options": [request(op=CTL_SETOPT, nopts=500)],
    "unknown operation": [request(op=0), request(op=77), request(op=0xffffffff)],
    "unknown socket": [request(op=CTL_LISTEN, ident=12345, nonce=rng.getrandbits(32))],
    "random bytes": [rng.randbytes(REQ_SIZE) for _ in range(2000)],
    # any operation but those that reach out (connect) or end the stack
    "random requests": [request(op=rng.choice([o for o in range(12) if o not in (CTL_CONNECT, CTL_STOP)]),
                                nopts=rng.randrange(13),
                                ident=rng.getrandbits(64), nonce=rng.getrandbits(32))
                        for _ in range(2000)],
}
for kind, messages in kinds.items():
    answers = sorted({ask(m) for m in messages})
    print(f"{kind}: {', '.join(answers)}")
r, w = os.pipe()
print("a pipe as the socket:", ask(request(op=CTL_LISTEN, ident=1), [r, w, r]))
