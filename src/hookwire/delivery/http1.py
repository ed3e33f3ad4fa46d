"""A lean HTTP/1.1 client for webhook POSTs: kept-alive connections per origin, responses parsed
by ``httptools`` (llhttp, the parser of Node.js), and nothing else.

A webhook request is always the same shape: one POST of a small body, answered by a status, a
few headers and a body that is mostly ignored. A general client pays per request for what this
shape never needs (cookies, redirects, proxies, decompression, streaming, tracing hooks), and
that bookkeeping was most of the sender's CPU time. Here a request is one write of bytes built
in one go and one parser callback per header; the rest is the event loop's.

What it does, and refuses to do:

- Connections are kept alive per ``(scheme, host, port)``, reused most-recently-used first, and
  closed after :data:`KEEPALIVE_SECONDS` idle, when the server says ``Connection: close``, or
  when anything about an exchange went wrong (a connection is reused only after a complete
  response).
- Names are resolved by the SSRF guard's resolver and connected to by the vetted address, so
  there is no second lookup for a rebinding DNS server to answer differently; answers are
  cached for :data:`DNS_TTL_SECONDS`. IP literals are connected to as they are (the transport
  vets them before calling).
- Bodies are never decompressed; at most ``max_response_bytes`` are read (the first
  ``stored_response_bytes`` kept), past that the connection is dropped instead of drained.
  Response heads are bounded in size and header count.
- TLS always verifies the certificate and the host name, with the context it is given.
- Every phase is bounded: resolving and connecting by the connect timeout, the whole exchange
  by the request's deadline.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import httptools

from hookwire.delivery.guard import DestinationBlocked, GuardedResolver

#: Idle kept-alive connections are closed after this long (aiohttp's default too): long enough
#: to carry a steady stream, short enough not to hold sockets of endpoints gone quiet.
KEEPALIVE_SECONDS = 15.0
#: How long a vetted DNS answer is reused.
DNS_TTL_SECONDS = 10.0
#: Bounds on a response head, those of common servers and clients.
MAX_HEADER_LINE = 8190
MAX_HEADERS = 100
MAX_HEAD_BYTES = 64 * 1024


class ResponseTooLarge(Exception):
    """The response's head broke a bound (a header line, the header count, the whole head)."""


class InvalidResponse(Exception):
    """The bytes received are not an HTTP/1.1 response."""


class ResponseIncomplete(ConnectionError):
    """The connection closed before the response was complete."""


class ConnectTimeout(TimeoutError):
    """No connection within the connect timeout (resolving included)."""


class RequestTimeout(TimeoutError):
    """No complete response before the request's deadline."""


class ResolveFailed(OSError):
    """The host name could not be resolved."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A complete response: its status, the first bytes of its body, its ``Retry-After``."""

    status: int
    body: bytes
    retry_after: str | None


@dataclass(frozen=True, slots=True)
class Target:
    """Where a request goes, parsed once per URL."""

    scheme: str
    host: str  # as in the URL, IPv6 without brackets
    port: int
    literal: bool  # the host is an IP address: connect to it without resolving
    path: str  # path and query, as sent on the request line
    host_header: str

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port


class _Connection(asyncio.Protocol):
    """One kept-alive connection; at most one exchange on it at a time."""

    def __init__(self, client: Http1Client, origin: tuple[str, str, int]) -> None:
        self._client = client
        self.origin = origin
        self._transport: asyncio.Transport | None = None
        self._parser = httptools.HttpResponseParser(self)
        self._waiter: asyncio.Future[Reply] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.idle_timer: asyncio.TimerHandle | None = None
        self.closed = False
        self._reset_response()

    def _reset_response(self) -> None:
        self._head_bytes = 0
        self._head_done = False
        self._headers = 0
        self._framed = False  # Content-Length or chunked: the body does not end at EOF
        self._retry_after: str | None = None
        self._body = bytearray()
        self._body_seen = 0
        self._failure: Exception | None = None

    # -- the exchange --------------------------------------------------------------------------

    def exchange(self, request: bytes, deadline: float) -> asyncio.Future[Reply]:
        loop = self._client.loop
        self._reset_response()
        waiter = self._waiter = loop.create_future()
        self._timer = loop.call_at(deadline, self._timed_out)
        assert self._transport is not None
        self._transport.write(request)
        return waiter

    def abort(self) -> None:
        """Drop the connection now, without waiting for buffered writes."""
        self.closed = True
        if self._transport is not None:
            self._transport.abort()

    def _finish(self, reply: Reply | None, error: Exception | None, *, reusable: bool) -> None:
        waiter, self._waiter = self._waiter, None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if reusable and not self.closed:
            self._client.release(self)
        else:
            self.abort()
        if waiter is None or waiter.done():
            return
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(reply)  # type: ignore[arg-type]  # one of the two is set

    def _fail(self, error: Exception) -> None:
        self._finish(None, error, reusable=False)

    def _timed_out(self) -> None:
        self._timer = None
        self._fail(RequestTimeout())

    # -- asyncio.Protocol ----------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Nothing was asked: a server talking out of turn cannot be trusted with the next
            # request (a late 408 before closing is the usual case).
            self.abort()
            return
        if not self._head_done:
            self._head_bytes += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(InvalidResponse("the server switched protocols"))
            return
        except httptools.HttpParserError as exc:
            self._fail(self._failure or InvalidResponse(str(exc) or type(exc).__name__))
            return
        if not self._head_done and self._head_bytes > MAX_HEAD_BYTES and self._waiter is not None:
            self._fail(ResponseTooLarge("response head too large"))

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._client.forget(self)
        if self._waiter is None:
            return
        if self._head_done and not self._framed:
            # Neither Content-Length nor chunked: the body ends where the connection does.
            self._complete(reusable=False)
            return
        self._fail(ResponseIncomplete("the connection closed before the response was complete"))

    # -- httptools callbacks -------------------------------------------------------------------

    def on_message_begin(self) -> None:
        if self._waiter is None:
            # A second response to one request: the connection is out of step, drop it.
            self.abort()
            raise _Done

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers += 1
        if self._headers > MAX_HEADERS:
            self._stop(ResponseTooLarge(f"more than {MAX_HEADERS} response headers"))
        if len(name) + len(value) > MAX_HEADER_LINE:
            self._stop(ResponseTooLarge(f"a response header line longer than {MAX_HEADER_LINE} bytes"))
        # Only three headers matter; their lengths rule out the others without lowering them.
        size = len(name)
        if size == 14 or size == 17:
            lowered = name.lower()
            if lowered == b"content-length" or lowered == b"transfer-encoding":
                self._framed = True
        elif size == 11 and name.lower() == b"retry-after":
            self._retry_after = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self._head_done = True

    def on_body(self, body: bytes) -> None:
        client = self._client
        kept = len(self._body)
        if kept < client.stored_bytes:
            self._body += body[: client.stored_bytes - kept]
        self._body_seen += len(body)
        if self._body_seen > client.max_body_bytes:
            # More than we will ever read: answer with what we have, and drop the connection
            # rather than drain it.
            self._complete(reusable=False)
            raise _Done

    def on_message_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200:
            self._reset_response()  # an interim response; the real one follows
            return
        self._complete(reusable=self._parser.should_keep_alive())

    def _complete(self, *, reusable: bool) -> None:
        status = self._parser.get_status_code()
        self._finish(Reply(status, bytes(self._body), self._retry_after), None, reusable=reusable)

    def _stop(self, error: Exception) -> None:
        self._failure = error
        raise error


class _Done(Exception):
    """Raised from a parser callback to stop parsing a response that is already answered."""


class Http1Client:
    """POSTs over kept-alive HTTP/1.1 connections. Create it inside the loop that will use it.

    Args:
        resolver: resolves and vets host names (the SSRF guard).
        tls: the context for ``https`` URLs; it must verify certificates and host names.
        connect_timeout: seconds to resolve and connect.
        max_body_bytes: the most of a response body ever read.
        stored_bytes: how much of it a reply keeps.
        max_idle: kept-alive connections held open at most, all origins together.
    """

    def __init__(
        self,
        *,
        resolver: GuardedResolver,
        tls: ssl.SSLContext,
        connect_timeout: float,
        max_body_bytes: int,
        stored_bytes: int,
        max_idle: int,
    ) -> None:
        self.loop = asyncio.get_running_loop()
        self.max_body_bytes = max_body_bytes
        self.stored_bytes = stored_bytes
        self._resolver = resolver
        self._tls = tls
        self._connect_timeout = connect_timeout
        self._max_idle = max_idle
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        self._idle_count = 0
        self._dns: dict[tuple[str, int], tuple[float, list[tuple[socket.AddressFamily, str]]]] = {}
        self._open: set[_Connection] = set()

    async def post(self, target: Target, head: bytes, body: bytes, deadline: float) -> Reply:
        """Send ``head`` (request line and headers, ending with the blank line) and ``body``.

        Raises:
            ConnectTimeout, RequestTimeout, ResolveFailed, ResponseTooLarge, InvalidResponse,
            ResponseIncomplete, ssl.SSLError, OSError, and the guard's ``DestinationBlocked``.
        """
        connection = self._take_idle(target.origin)
        if connection is None:
            connection = await self._connect(target, deadline)
        waiter = connection.exchange(head + body, deadline)
        try:
            return await waiter
        except asyncio.CancelledError:
            connection.abort()  # the response may still come; this connection cannot carry another
            raise

    async def close(self) -> None:
        for connection in list(self._open):
            connection.abort()
        self._open.clear()
        self._idle.clear()
        self._idle_count = 0
        await self._resolver.close()

    # -- the pool ------------------------------------------------------------------------------

    def _take_idle(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()  # the most recently used: least likely to be closed by now
            self._idle_count -= 1
            if connection.idle_timer is not None:
                connection.idle_timer.cancel()
                connection.idle_timer = None
            if not connection.closed:
                return connection
        return None

    def release(self, connection: _Connection) -> None:
        """Keep ``connection`` for the next request to its origin, or close it if too many are."""
        if self._idle_count >= self._max_idle:
            connection.abort()
            return
        self._idle.setdefault(connection.origin, deque()).append(connection)
        self._idle_count += 1
        connection.idle_timer = self.loop.call_later(KEEPALIVE_SECONDS, self._expire, connection)

    def _expire(self, connection: _Connection) -> None:
        connection.idle_timer = None
        self._unpool(connection)
        connection.abort()

    def forget(self, connection: _Connection) -> None:
        """``connection`` closed: stop counting it."""
        self._open.discard(connection)
        if connection.idle_timer is not None:
            connection.idle_timer.cancel()
            connection.idle_timer = None
            self._unpool(connection)

    def _unpool(self, connection: _Connection) -> None:
        idle = self._idle.get(connection.origin)
        if idle is not None and connection in idle:
            idle.remove(connection)
            self._idle_count -= 1
            if not idle:
                del self._idle[connection.origin]

    # -- connecting ----------------------------------------------------------------------------

    async def _connect(self, target: Target, deadline: float) -> _Connection:
        timeout = min(self._connect_timeout, deadline - self.loop.time())
        try:
            async with asyncio.timeout(timeout):
                addresses = await self._addresses(target)
                return await self._connect_any(target, addresses)
        except TimeoutError as exc:
            raise ConnectTimeout("timed out connecting") from exc

    async def _addresses(self, target: Target) -> list[tuple[socket.AddressFamily, str]]:
        if target.literal:
            family = socket.AF_INET6 if ":" in target.host else socket.AF_INET
            return [(family, target.host)]
        key = (target.host, target.port)
        cached = self._dns.get(key)
        now = self.loop.time()
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            results = await self._resolver.resolve(target.host, target.port, socket.AF_UNSPEC)
        except DestinationBlocked:
            raise
        except OSError as exc:
            raise ResolveFailed(str(exc)) from exc
        addresses = [(socket.AddressFamily(result["family"]), result["host"]) for result in results]
        if not addresses:
            raise ResolveFailed(f"no addresses for {target.host}")
        self._dns[key] = (now + DNS_TTL_SECONDS, addresses)
        return addresses

    async def _connect_any(
        self, target: Target, addresses: list[tuple[socket.AddressFamily, str]]
    ) -> _Connection:
        """Connect to the first address that answers, in the resolver's order."""
        tls = self._tls if target.scheme == "https" else None
        factory: Callable[[], _Connection] = lambda: _Connection(self, target.origin)  # noqa: E731
        error: OSError | None = None
        for family, address in addresses:
            try:
                _, connection = await self.loop.create_connection(
                    factory,
                    address,
                    target.port,
                    family=family,
                    ssl=tls,
                    server_hostname=target.host if tls is not None else None,
                )
            except ssl.SSLError:
                raise  # the certificate is the same whichever address served it
            except OSError as exc:
                error = exc
                continue
            self._open.add(connection)
            return connection
        assert error is not None
        raise error
