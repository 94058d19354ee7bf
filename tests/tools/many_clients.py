"""Opens N connections at once to an echo server, sends each a distinct
payload and checks that exactly that comes back. usage: HOST PORT N SIZE"""
import hashlib
import socket
import sys

from checks import concurrent_clients

host, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])


def echo(i, s):
    payload = hashlib.sha256(str(i).encode()).digest() * (size // 32)
    s.sendall(payload)
    s.shutdown(socket.SHUT_WR)
    got = bytearray()
    while chunk := s.recv(65536):
        got += chunk
    if got != payload:
        return f"{len(got)} bytes back, expected {len(payload)}"
    return None


failures = concurrent_clients(host, port, count, echo)
print("\n".join(failures) if failures else f"{count} connections ok")
sys.exit(1 if failures else 0)
