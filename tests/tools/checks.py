"""Shared by the test tools: one line per check ("ok" or "FAIL"; finish()
exits 1 if any failed), and clients that connect all at once."""
import sys

failed = []


def check(name, cond):
    print(("ok   " if cond else "FAIL ") + name, flush=True)
    if not cond:
        failed.append(name)


def finish():
    sys.exit(1 if failed else 0)


def concurrent_clients(host, port, count, exchange):
    """Opens `count` connections to host:port, all connected at once, and
    runs exchange(i, sock) on each in a thread of its own; it returns a
    failure message or None. Returns the failures (an exception is one)."""
    import socket
    import threading

    failures = []
    barrier = threading.Barrier(count)

    def client(i):
        try:
            with socket.create_connection((host, port), timeout=30) as s:
                barrier.wait(timeout=30)
                failure = exchange(i, s)
            if failure:
                failures.append(f"connection {i}: {failure}")
        except Exception as e:  # reported by the caller, the test fails
            failures.append(f"connection {i}: {e!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return failures


def accept_one(addr, port):
    """Listens on addr:port, prints "listening" (for the test to wait on)
    and returns the first connection."""
    import socket

    with socket.socket() as ls:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(1)
        print("listening", flush=True)
        return ls.accept()[0]
