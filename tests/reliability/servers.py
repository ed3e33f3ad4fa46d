"""Misbehaving HTTP servers on 127.0.0.1, for the reliability suite.

A web framework answers politely; a broken or hostile receiver does not. ``RawServer`` is an
HTTP/1.1 server on bare asyncio streams: it reads one request per connection, records it, and
then hands the raw connection to a behaviour that may hang, drip bytes, stream a gigabyte, send
a gzip bomb, oversized headers, or reset the connection half-way through the body.

``TLSServer`` runs in a thread of its own so that it can peek at the first byte of each
connection before the handshake: a TLS client starts with a handshake record (``0x16``), so a
client that fell back to plaintext would be seen, and a client that skipped verification would
complete the handshake and show up as a request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from types import TracebackType
from typing import Self

Behaviour = Callable[["RawServer", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]

GIB = 1024**3
CHUNK = 64 * 1024
TLS_HANDSHAKE_RECORD = 0x16


@dataclass(frozen=True, slots=True)
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class RawServer:
    """An HTTP/1.1 server on a loopback address (127.0.0.1 and a port chosen by the system
    unless told) that runs ``behaviour`` on each connection after reading its request."""

    def __init__(self, behaviour: Behaviour, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._behaviour = behaviour
        self._host = host
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self.requests: list[RawRequest] = []
        self.connections = 0
        self.open_connections = 0
        self.most_open_connections = 0
        self.bytes_sent = 0
        self.port = port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}/"

    async def start(self) -> Self:
        # A deep accept queue: a thousand endpoints may connect within milliseconds.
        self._server = await asyncio.start_server(self._serve, self._host, self.port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Dropping the connections ends the handlers waiting to read; the rest are cancelled.
        for writer in self._writers:
            writer.transport.abort()
        if self._handlers:
            _, pending = await asyncio.wait(self._handlers, timeout=1)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()
        self._server = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_for(self, count: int, *, timeout: float = 10.0) -> list[RawRequest]:
        """Wait until ``count`` requests have arrived; return them all."""
        async with asyncio.timeout(timeout):
            while len(self.requests) < count:
                await asyncio.sleep(0.01)
        return list(self.requests)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.add(writer)
        self.connections += 1
        self.open_connections += 1
        self.most_open_connections = max(self.most_open_connections, self.open_connections)
        try:
            request = await read_request(reader)
            if request is not None:
                self.requests.append(request)
                await self._behaviour(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client gave up: exactly what these servers provoke
        except asyncio.CancelledError:
            pass  # only stop() cancels; asyncio would report a cancelled handler as an error
        finally:
            self._writers.discard(writer)
            self.open_connections -= 1
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            self._handlers.discard(task)


async def read_request(reader: asyncio.StreamReader) -> RawRequest | None:
    try:
        raw_head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None
    method, path, headers = parse_head(raw_head)
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return RawRequest(method, path, headers, body)


def parse_head(raw_head: bytes) -> tuple[str, str, dict[str, str]]:
    """The request line and headers (names lower-cased) of an HTTP/1.1 request head."""
    lines = raw_head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return method, path, headers


# -- behaviours -------------------------------------------------------------------------------


def hang() -> Behaviour:
    """Accept the request and never answer; hold the connection until the client closes it."""

    async def behave(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(CHUNK):
            pass

    return behave


def drip(payload: bytes, *, interval: float, prefix: bytes = b"") -> Behaviour:
    """Send ``prefix`` at once, then ``payload`` one byte every ``interval`` seconds."""

    async def behave(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(prefix)
        for index in range(len(payload)):
            writer.write(payload[index : index + 1])
            await writer.drain()
            server.bytes_sent += 1
            await asyncio.sleep(interval)

    return behave


def sequence(*behaviours: Behaviour) -> Behaviour:
    """Behave like each of ``behaviours`` in turn, one per request; the last one repeats."""
    served = 0

    async def behave(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal served
        chosen = behaviours[min(served, len(behaviours) - 1)]
        served += 1
        await chosen(server, reader, writer)

    return behave


def endless_body(total: int = GIB) -> Behaviour:
    """Announce a ``total``-byte body and stream it, generated lazily, as fast as it is read."""

    async def behave(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n".encode())
        chunk = b"x" * CHUNK
        while server.bytes_sent < total:
            writer.write(chunk)
            await writer.drain()
            server.bytes_sent += len(chunk)

    return behave


def respond(raw: bytes) -> Behaviour:
    """Write ``raw`` (status line, headers and body, exactly as given) and close."""

    async def behave(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(raw)
        await writer.drain()
        server.bytes_sent += len(raw)

    return behave


def reset_mid_body(*, announced: int = 1000, sent: int = 100) -> Behaviour:
    """Start a 200 response, send part of the body, then reset the connection (TCP RST)."""

    async def behave(server: RawServer, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\n\r\n".encode() + b"x" * sent)
        await writer.drain()
        await asyncio.sleep(0.05)  # let the client read the head and start on the body
        sock = writer.get_extra_info("socket")
        # SO_LINGER with a zero timeout turns close() into a reset instead of an orderly FIN.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    return behave


def head(status: str = "200 OK", headers: list[tuple[str, str]] | None = None, body: bytes = b"") -> bytes:
    """A raw HTTP/1.1 response."""
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers or ())]
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@cache
def gzip_bomb(inflated: int = GIB) -> bytes:
    """A valid gzip stream that inflates to ``inflated`` zero bytes, about 1/1000 of that on the wire.

    Built in milliseconds rather than by compressing a gigabyte: after a full flush the
    compressor's state is reset, so every further 8 MiB of zeros compresses to the same bytes,
    which are simply repeated. The trailer carries the real CRC-32 and length.
    """
    block = bytes(8 * 1024 * 1024)
    assert inflated % len(block) == 0
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip framing
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    repeated = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(inflated // len(block)):
        crc = zlib.crc32(block, crc)
    final_block = b"\x03\x00"  # an empty final deflate block
    trailer = struct.pack("<II", crc, inflated & 0xFFFFFFFF)
    return first + repeated * (inflated // len(block) - 1) + final_block + trailer


# -- TLS --------------------------------------------------------------------------------------


class TLSServer:
    """An HTTPS server on 127.0.0.1, in a thread, that tells TLS clients from plaintext ones.

    Attributes:
        handshakes_failed: connections whose TLS handshake the client (or we) aborted.
        plaintext: connections that did not start with a TLS handshake record.
        requests: requests read over a completed handshake.
    """

    def __init__(self, context: ssl.SSLContext) -> None:
        self._context = context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tls-test-server", daemon=True)
        self.port = self._listener.getsockname()[1]
        self.connections = 0
        self.handshakes_failed = 0
        self.plaintext = 0
        self.requests: list[RawRequest] = []

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}/"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            with connection:
                self.connections += 1
                self._handle(connection)

    def _handle(self, connection: socket.socket) -> None:
        connection.settimeout(5)
        try:
            first = connection.recv(1, socket.MSG_PEEK)
        except OSError:
            return
        if not first:
            return
        if first[0] != TLS_HANDSHAKE_RECORD:
            self.plaintext += 1
            return
        try:
            tls = self._context.wrap_socket(connection, server_side=True)  # handshakes here
        except (ssl.SSLError, OSError):
            self.handshakes_failed += 1
            return
        with tls, contextlib.suppress(OSError):
            self.requests.append(_read_blocking(tls))
            tls.sendall(head(body=b"ok"))


def _read_blocking(tls: ssl.SSLSocket) -> RawRequest:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = tls.recv(CHUNK)
        if not chunk:
            raise ConnectionResetError("the client closed before sending a request")
        data += chunk
    raw_head, _, body = data.partition(b"\r\n\r\n")
    method, path, headers = parse_head(raw_head)
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = tls.recv(CHUNK)
        if not chunk:
            break
        body += chunk
    return RawRequest(method, path, headers, body)
