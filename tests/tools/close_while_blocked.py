"""One thread blocked in recv on a stack socket while another closes it:
as on Linux, the blocked call goes on (the socket lives until it returns)
and gets the data that arrives; nothing crashes. HOST PORT: an echo server."""
import socket
import sys
import threading
import time

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.settimeout(None)
fd = s.detach()
got = []


def reader():
    import os
    try:
        got.append(os.read(fd, 100))
    except OSError as e:
        got.append(e.errno)


t = threading.Thread(target=reader)
t.start()
time.sleep(0.2)          # the reader is blocked by now
import os
os.write(fd, b"ping")    # the echo comes back after the close below
os.close(fd)
t.join(10)
print("reader:", got)
