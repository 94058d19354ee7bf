"""An asyncio echo server (epoll underneath). usage: HOST PORT"""
import asyncio
import sys


async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(echo, sys.argv[1], int(sys.argv[2]), backlog=512)
    print("asyncio echo: listening", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
