"""Marks its stderr close-on-exec (as node does with fds 0-2 at startup),
then listens on ADDR PORT, prints "listening", answers one connection with
"served" and exits. usage: ADDR PORT"""
import fcntl
import socket
import sys

fcntl.fcntl(2, fcntl.F_SETFD, fcntl.fcntl(2, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen()
print("listening", flush=True)
c, _ = s.accept()
c.sendall(b"served\n")
c.close()
