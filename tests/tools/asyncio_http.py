"""A small HTTP/1.1 server on asyncio streams (no aiohttp): GET /N answers
N bytes of a fixed pattern, keeping connections alive. usage: HOST PORT"""
import asyncio
import sys

PATTERN = bytes(range(256)) * 4096


async def handle(reader, writer):
    try:
        while True:
            request = await reader.readuntil(b"\r\n\r\n")
            path = request.split(b" ", 2)[1].decode()
            size = int(path.lstrip("/") or 0)
            body = (PATTERN * (size // len(PATTERN) + 1))[:size]
            writer.write(b"HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nContent-Length: %d\r\n"
                         b"Content-Type: application/octet-stream\r\n\r\n" % len(body))
            writer.write(body)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    writer.close()


async def main():
    server = await asyncio.start_server(handle, sys.argv[1], int(sys.argv[2]))
    print("asyncio http: listening", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
