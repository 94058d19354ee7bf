"""What the kernel-side peers of the kill and exit tests share: one
accepted connection, and waiting for a file the test makes (20 s at most
for each)."""
import os
import socket
import time


def accept_one(addr, port):
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind((addr, port))
    l.listen()
    l.settimeout(20)
    c, _ = l.accept()
    c.settimeout(20)
    return c


def wait_for_file(path):
    """True once path exists, False after 20 s."""
    deadline = time.monotonic() + 20
    while not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)
    return os.path.exists(path)
