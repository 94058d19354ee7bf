"""What a connection to the stack uses, seen from both ends.

  negotiated.py server ADDR PORT   accept one connection, send the name of
                                   its congestion control (TCP_CONGESTION),
                                   wait for the client to close
  negotiated.py client ADDR PORT   (kernel side) connect, print that name
                                   and whether the kernel's socket uses SACK
                                   (TCP_INFO's tcpi_options): both SYNs
                                   carried SACK-permitted"""
import socket
import sys

from checks import accept_one

TCPI_OPT_SACK = 2

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "server":
    with accept_one(addr, port) as s:
        cc = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b"\0")
        s.sendall(cc + b"\n")
        s.recv(1)
else:
    with socket.create_connection((addr, port), timeout=10) as s:
        print("stack:", s.makefile().readline().strip())
        options = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[5]
        print("kernel:", "sack" if options & TCPI_OPT_SACK else "no sack")
