"""The kernel-side peer of a program that gets killed. ADDR PORT MODE
TRIGGER [NBYTES]: accepts one connection, then
  read:  prints "accepted", waits until the file TRIGGER exists (the
         program is dead), then reads to the end: prints "N bytes, as
         written, then EOF" (or "... then ECONNRESET", "... not as written");
  send:  sends NBYTES, prints "sent", waits for TRIGGER, then reads:
         prints "EOF", "ECONNRESET" or "data".
Waits 20 s at most for each step."""
import sys

from kernel_peer import accept_one, wait_for_file

addr, port, mode, trigger = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = accept_one(addr, port)
if mode == "send":
    c.sendall(b"x" * int(sys.argv[5]))
print("sent" if mode == "send" else "accepted", flush=True)
wait_for_file(trigger)
got = bytearray()
try:
    while data := c.recv(65536):
        got += data
    end = "EOF"
except ConnectionResetError:
    end = "ECONNRESET"
if mode == "send":
    print("data" if got else end)
else:
    same = got == (bytes(range(256)) * (len(got) // 256 + 1))[:len(got)]
    print(f"{len(got)} bytes, {'as written' if same else 'not as written'}, then {end}")
