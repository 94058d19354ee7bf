"""Opens N connections at once to an echo server, sends each a distinct
payload and checks that exactly that comes back. usage: HOST PORT N SIZE"""
import hashlib
import socket
import sys
import threading

host, port, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
failures = []
barrier = threading.Barrier(count)


def client(i):
    payload = hashlib.sha256(str(i).encode()).digest() * (size // 32)
    try:
        with socket.create_connection((host, port), timeout=30) as s:
            barrier.wait(timeout=30)          # all connected at once
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
            got = bytearray()
            while chunk := s.recv(65536):
                got += chunk
        if got != payload:
            failures.append(f"connection {i}: {len(got)} bytes back, expected {len(payload)}")
    except Exception as e:  # reported below, the test fails
        failures.append(f"connection {i}: {e!r}")


threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("\n".join(failures) if failures else f"{count} connections ok")
sys.exit(1 if failures else 0)
