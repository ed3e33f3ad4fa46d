"""A fast HTTP/1.1 receiver for benchmarks: answers every POST with 200 on a kept-alive
connection, and counts what it received. It runs in its own process so that it does not share
a core's event loop with the sender being measured.

Run: ``python -m bench.receiver PORT_FILE`` writes the chosen port to PORT_FILE.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


class _Connection(asyncio.Protocol):
    """Parses just enough HTTP/1.1 (request line, headers, Content-Length body) to answer."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._transport: asyncio.WriteTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a TCP transport writes

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in bytes(self._buffer[:end]).split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            del self._buffer[:total]
            assert self._transport is not None
            self._transport.write(RESPONSE)


async def serve(port_file: Path) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    port_file.write_text(str(port))  # noqa: ASYNC240 - once, before serving
    async with server:
        await server.serve_forever()


def main() -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(Path(sys.argv[1])))
    else:
        uvloop.run(serve(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
