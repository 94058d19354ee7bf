"""Under the preload: one HTTP server on the TUN address, one on loopback,
files and a unix socket, all in one process; each must work."""
import http.server
import os
import socket
import sys
import tempfile
import threading
import urllib.request

tun_addr = sys.argv[1]
results = []


def serve(addr):
    srv = http.server.HTTPServer((addr, 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv.server_address[1]


with tempfile.TemporaryDirectory() as d:
    os.chdir(d)
    with open("f.txt", "w") as f:
        f.write("file content")
    with open("f.txt") as f:
        results.append(("file", f.read() == "file content"))
    loop_port = serve("127.0.0.1")
    with urllib.request.urlopen(f"http://127.0.0.1:{loop_port}/f.txt", timeout=10) as r:
        results.append(("loopback http", r.read() == b"file content"))
    tun_port = serve(tun_addr)
    results.append(("tun server bound", tun_port > 0))
    a, b = socket.socketpair(socket.AF_UNIX)
    a.sendall(b"unix")
    results.append(("unix socket", b.recv(4) == b"unix"))
    print(tun_port, flush=True)
    for name, ok in results:
        print(name, "ok" if ok else "FAILED", flush=True)
    sys.stdin.read()   # keep serving until the test is done
