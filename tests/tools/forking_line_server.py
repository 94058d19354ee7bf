"""socketserver.ForkingTCPServer at ADDR PORT: each connection is served by
a forked child that reads one line and answers "<its pid> <sha256 of the
line>", then closes. Prints "listening" once clients may connect."""
import hashlib
import os
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        line = self.rfile.readline().rstrip(b"\n")
        self.wfile.write(b"%d %s\n" % (os.getpid(), hashlib.sha256(line).hexdigest().encode()))


class Server(socketserver.ForkingTCPServer):
    allow_reuse_address = True
    request_queue_size = 64
    max_children = 64


with Server((sys.argv[1], int(sys.argv[2])), Handler) as server:
    print("listening", flush=True)
    server.serve_forever()
