"""A fast HTTP/1.1 receiver for benchmarks, run as its own process so that it does not share an
event loop (or a core's time slice) with the sender being measured.

It answers on kept-alive connections and behaves by the first segment of the request path:

- ``/slow/...``: ``200`` after ``--slow-seconds`` (1 s by default), a customer that is slow;
- ``/fail/...``: ``500`` at once, a customer that is broken;
- anything else: ``200`` at once.

Control paths (``GET``): ``/_stats`` answers ``{"requests": n, "by_kind": {...}}`` counting every
request received; ``/_arrivals`` answers the arrivals recorded since the last call, as
``[[monotonic_seconds, path, webhook_id], ...]``, and forgets them; ``/_reset`` zeroes everything.
Arrivals are recorded only for requests that carry a ``webhook-id`` header. Their times come
from ``time.monotonic()``, which on Linux is one clock for every process on the machine, so
a sender can subtract its own ``time.monotonic()`` readings from them.

Run: ``python -m hookwire.benchmarks.receiver PORT_FILE [--slow-seconds 1]`` writes the port
it listens on (127.0.0.1, chosen by the system) to PORT_FILE.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import time
from collections import Counter
from pathlib import Path

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
FAIL = b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 4\r\ncontent-type: text/plain\r\n\r\nfail"
#: Past this many unread arrivals the oldest are no longer kept, so a run that never reads them
#: cannot grow the receiver without bound.
MAX_ARRIVALS = 2_000_000


class Tally:
    """What the receiver has seen, shared by its connections."""

    def __init__(self, slow_seconds: float) -> None:
        self.slow_seconds = slow_seconds
        self.by_kind: Counter[str] = Counter()
        self.arrivals: list[tuple[float, str, str]] = []

    def stats(self) -> bytes:
        return json.dumps({"requests": self.by_kind.total(), "by_kind": dict(self.by_kind)}).encode()

    def take_arrivals(self) -> bytes:
        taken, self.arrivals = self.arrivals, []
        return json.dumps(taken).encode()

    def reset(self) -> bytes:
        self.by_kind.clear()
        self.arrivals = []
        return b"{}"


def _json_response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\ncontent-type: application/json\r\n\r\n"
    return head.encode() + body


class _Connection(asyncio.Protocol):
    """Parses just enough HTTP/1.1 (request line, headers, Content-Length body) to answer.

    Responses go out in request order even when a slow one is pending, as HTTP/1.1 requires
    of a connection that pipelines.
    """

    def __init__(self, tally: Tally) -> None:
        self._tally = tally
        self._buffer = bytearray()
        self._transport: asyncio.WriteTransport | None = None
        self._ready_at = 0.0  # when the last scheduled response goes out

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a TCP transport writes

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            lines = bytes(self._buffer[:end]).split(b"\r\n")
            length, webhook_id = 0, ""
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    length = int(value)
                elif name == b"webhook-id":
                    webhook_id = value.strip().decode()
            total = end + 4 + length
            if len(self._buffer) < total:
                return
            del self._buffer[:total]
            self._answer(lines[0], webhook_id)

    def _answer(self, request_line: bytes, webhook_id: str) -> None:
        parts = request_line.split(b" ")
        path = parts[1].decode() if len(parts) > 1 else "/"
        if path.startswith("/_"):
            self._send(self._control(path), 0.0)
            return
        kind = path.split("/", 2)[1] if path.count("/") >= 2 else ""
        kind = kind if kind in ("slow", "fail") else "ok"
        self._tally.by_kind[kind] += 1
        if webhook_id and len(self._tally.arrivals) < MAX_ARRIVALS:
            self._tally.arrivals.append((time.monotonic(), path, webhook_id))
        if kind == "slow":
            self._send(OK, self._tally.slow_seconds)
        else:
            self._send(FAIL if kind == "fail" else OK, 0.0)

    def _control(self, path: str) -> bytes:
        if path.startswith("/_arrivals"):
            return _json_response(self._tally.take_arrivals())
        if path.startswith("/_reset"):
            return _json_response(self._tally.reset())
        return _json_response(self._tally.stats())

    def _send(self, response: bytes, delay: float) -> None:
        now = time.monotonic()
        at = max(now + delay, self._ready_at)
        if at <= now:
            self._write(response)
            return
        self._ready_at = at
        asyncio.get_running_loop().call_later(at - now, self._write, response)

    def _write(self, response: bytes) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(response)


def _raise_open_files_limit() -> None:
    # A baseline that opens one connection per request (node-webhooks from a plain loop) needs
    # thousands of sockets at once; the receiver must not be what refuses them.
    if sys.platform == "win32":
        return
    import resource  # not on Windows

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


async def serve(port_file: Path, slow_seconds: float) -> None:
    """Listen on 127.0.0.1, write the port to ``port_file``, serve until the process ends."""
    tally = Tally(slow_seconds)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Connection(tally), "127.0.0.1", 0, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    port_file.write_text(str(port))  # noqa: ASYNC240 - once, before serving
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("port_file", type=Path)
    parser.add_argument("--slow-seconds", type=float, default=1.0)
    args = parser.parse_args(argv)
    _raise_open_files_limit()
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(args.port_file, args.slow_seconds))
    else:
        uvloop.run(serve(args.port_file, args.slow_seconds))


if __name__ == "__main__":
    main()
