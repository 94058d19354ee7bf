"""A receiver that closes while data is still coming, as in
`head -c 1M | nc`-style servers that stop early (RFC 1122 4.2.2.13).

  close_while_receiving.py receive ADDR PORT N   accept one connection, read
                                                 N bytes and then what is
                                                 readable, close() with nothing
                                                 unread, print "closed"
  close_while_receiving.py send ADDR PORT        connect and send without end;
                                                 print how the sending ended

The sender's line is "reset" when a RST ended it (ECONNRESET or EPIPE, as
a kernel receiver gives), "stalled" when nothing could be sent for 10 s."""
import errno
import socket
import sys

from checks import accept_one

mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
if mode == "receive":
    s = accept_one(addr, port)
    left = int(sys.argv[4])
    while left > 0:
        chunk = s.recv(min(left, 65536))
        if not chunk:
            break
        left -= len(chunk)
    # nothing unread at the close: no reset for that, a FIN goes out and
    # the data still coming meets a closed socket
    s.setblocking(False)
    try:
        while s.recv(65536):
            pass
    except BlockingIOError:
        pass
    s.close()
    print("closed", flush=True)
else:
    s = socket.create_connection((addr, port), timeout=10)
    block = b"x" * 65536
    try:
        for _ in range(200000):      # 13 GB at most: bounded
            s.sendall(block)
        print("sent everything")
    except socket.timeout:
        print("stalled")
    except OSError as e:
        print("reset" if e.errno in (errno.ECONNRESET, errno.EPIPE) else f"error {e!r}")
