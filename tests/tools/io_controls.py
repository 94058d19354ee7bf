"""FIONREAD, SIOCOUTQ, TCP_INFO and fcntl flags on a stack socket, from
inside a preloaded process against a kernel echo server at HOST:PORT."""
import array
import fcntl
import os
import socket
import struct
import sys
import termios
import time

from checks import check, finish

host, port = sys.argv[1], int(sys.argv[2])
SIOCOUTQ = termios.TIOCOUTQ



def ioctl_int(fd, request):
    buf = array.array("i", [0])
    fcntl.ioctl(fd, request, buf, True)
    return buf[0]


opened = time.monotonic()
s = socket.create_connection((host, port), timeout=10)
s.settimeout(None)
check("F_GETFL: blocking", not fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
s.setblocking(False)
check("F_GETFL after setblocking(False): O_NONBLOCK", fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK)
s.setblocking(True)
sent = time.monotonic()
s.sendall(b"12345")
deadline = time.monotonic() + 5
while ioctl_int(s.fileno(), termios.FIONREAD) < 5 and time.monotonic() < deadline:
    time.sleep(0.01)
check("FIONREAD counts the bytes ready", ioctl_int(s.fileno(), termios.FIONREAD) == 5)
s.recv(5)
check("FIONREAD is 0 once read", ioctl_int(s.fileno(), termios.FIONREAD) == 0)
while ioctl_int(s.fileno(), SIOCOUTQ) and time.monotonic() < deadline:
    time.sleep(0.01)
check("SIOCOUTQ is 0 once all is acknowledged", ioctl_int(s.fileno(), SIOCOUTQ) == 0)
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
state = info[0]
rto, = struct.unpack_from("I", info, 8)
snd_mss, = struct.unpack_from("I", info, 16)
rtt, = struct.unpack_from("I", info, 68)
cwnd, = struct.unpack_from("I", info, 80)
check("TCP_INFO: ESTABLISHED, RTO, MSS, RTT and cwnd", state == 1 and rto >= 200000 and snd_mss > 0 and rtt > 0 and cwnd >= 10)
# the later fields of linux/tcp.h's struct tcp_info (232 bytes)
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
check("TCP_INFO: the whole struct", len(info) == 232)
total_retrans, = struct.unpack_from("I", info, 100)
bytes_acked, bytes_received = struct.unpack_from("QQ", info, 120)
segs_out, segs_in = struct.unpack_from("II", info, 136)
min_rtt, = struct.unpack_from("I", info, 148)
delivery_rate, = struct.unpack_from("Q", info, 160)
delivered, = struct.unpack_from("I", info, 192)
bytes_sent, bytes_retrans = struct.unpack_from("QQ", info, 200)
# as Linux: an active open counts its SYN in bytes_acked and delivered
check("TCP_INFO: bytes_acked is what was sent, and the SYN", bytes_acked == 1 + 5)
check("TCP_INFO: bytes_sent and bytes_retrans", bytes_sent == 5 + bytes_retrans and (total_retrans > 0) == (bytes_retrans > 0))
check("TCP_INFO: bytes_received", bytes_received == 5)
check("TCP_INFO: a delivery rate, a min RTT, segments delivered", delivery_rate > 0 and min_rtt > 0 and delivered == 2)
check("TCP_INFO: segments counted", segs_out >= 3 and segs_in >= 3)
notsent, = struct.unpack_from("I", info, 144)
check("TCP_INFO: notsent_bytes is 0 once all is acknowledged", notsent == 0)
busy, rwnd_limited, sndbuf_limited = struct.unpack_from("QQQ", info, 168)
check("TCP_INFO: busy while the 5 bytes were in flight, not limited",
      0 < busy <= (time.monotonic() - opened) * 1e6 and rwnd_limited == 0 and sndbuf_limited == 0)
# the times since the last data sent, data received and ACK (ms), which
# grow while the connection is idle, and busy_time, which does not
time.sleep(0.2)
info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
since_send_ms = (time.monotonic() - sent) * 1000
last_data_sent, = struct.unpack_from("I", info, 44)
last_data_recv, last_ack_recv = struct.unpack_from("II", info, 52)
check("TCP_INFO: last_data_sent is the time since the send",
      200 <= last_data_sent <= since_send_ms + 1)
check("TCP_INFO: last_data_recv and last_ack_recv came after it",
      200 <= last_data_recv <= last_data_sent and 200 <= last_ack_recv <= last_data_sent)
check("TCP_INFO: busy_time does not grow while idle", struct.unpack_from("Q", info, 168)[0] == busy)
listener = socket.socket()
listener.bind((s.getsockname()[0], 0))
listener.listen()
try:
    ioctl_int(listener.fileno(), termios.FIONREAD)
    check("FIONREAD on a listener is EINVAL", False)
except OSError as e:
    check("FIONREAD on a listener is EINVAL", e.errno == 22)
finish()
