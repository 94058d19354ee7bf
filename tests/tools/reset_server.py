"""A kernel-side server that sends some data and then resets the
connection (SO_LINGER 0 close). usage: HOST PORT BYTES"""
import socket
import struct
import sys

host, port, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((host, port))
srv.listen()
conn, _ = srv.accept()
conn.sendall(b"x" * nbytes)
conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
conn.close()
