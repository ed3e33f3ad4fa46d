"""The HTTP transport: one long-lived aiohttp session that POSTs attempts and classifies what
comes back. The only place in hookwire that opens outbound connections.

Choices, each for a reason:

- One session and one connector for the worker's life: keep-alive connections are reused per
  host, which is most of the cost of a small request.
- The connector's resolver is the SSRF guard, so the address that was vetted is the address
  connected to; IP-literal hosts, which aiohttp never resolves, are vetted before the request.
- ``trust_env=False``: proxy variables in the environment could route requests around the
  guard, and a webhook sender has no business following them.
- Redirects are not followed (a 3xx is a failure), bodies are never decompressed and read only
  up to a cap, so a hostile receiver cannot make us fetch internal URLs or inflate a bomb.
- Certificates and host names are always verified, against ``Settings.ca_file`` when it is
  set; there is no switch to turn verification off, so a bad certificate is a ``tls`` failure
  on every attempt, never a retry without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import yarl

from hookwire._version import __version__
from hookwire.core.clock import utcnow
from hookwire.core.settings import Network, Settings
from hookwire.core.types import AttemptError
from hookwire.delivery.guard import DestinationBlocked, GuardedResolver, blocked_reason, check_literal_host

USER_AGENT = f"hookwire/{__version__}"

#: Files beyond one socket per request: the database, listening sockets, logs.
SPARE_FILES = 256


@dataclass(frozen=True, slots=True)
class Response:
    """What one attempt produced. Either ``status_code`` or ``error`` is set."""

    started_at: datetime
    duration_ms: int
    status_code: int | None
    body: bytes
    retry_after: str | None
    error: AttemptError | None
    error_detail: str | None


class Transport:
    """Sends attempts. Create it inside the event loop that will use it; ``close()`` when done."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._allow = settings.networks
        _allow_open_files(settings.concurrency + settings.stalled_concurrency + SPARE_FILES)
        connector = aiohttp.TCPConnector(
            resolver=GuardedResolver(allow=self._allow),
            ssl=_tls_context(settings.ca_file),
            # Both lanes of the worker (see delivery.lanes): each request holds a connection.
            limit=settings.concurrency + settings.stalled_concurrency,
            limit_per_host=0,  # the worker enforces its own per-endpoint cap
            ttl_dns_cache=10,  # cached answers were vetted when they were resolved
            enable_cleanup_closed=True,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=settings.request_timeout, sock_connect=settings.connect_timeout
            ),
            trust_env=False,
            auto_decompress=False,
            cookie_jar=aiohttp.DummyCookieJar(),
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
            raise_for_status=False,
        )

    async def close(self) -> None:
        await self._session.close()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body`` to ``url``. Never raises for anything the receiver or network does."""
        started_at = utcnow()
        started = time.perf_counter()
        try:
            # The session's own total timeout covers connect and headers; this one also bounds a
            # body dripped one byte at a time.
            async with asyncio.timeout(self._settings.request_timeout):
                status, content, retry_after = await self._exchange(url, body, headers)
        except Exception as exc:  # every failure of the receiver or network becomes an outcome
            error, detail = self._classify(exc)
            return Response(started_at, _elapsed_ms(started), None, b"", None, error, detail)
        return Response(started_at, _elapsed_ms(started), status, content, retry_after, None, None)

    async def _exchange(
        self, url: str, body: bytes, headers: Mapping[str, str]
    ) -> tuple[int, bytes, str | None]:
        target = _parse(url)
        _check_literal(target.host or "", self._allow)
        async with self._session.post(target, data=body, headers=headers, allow_redirects=False) as response:
            content = await self._read_capped(response)
            return response.status, content, response.headers.get("Retry-After")

    async def _read_capped(self, response: aiohttp.ClientResponse) -> bytes:
        limit = self._settings.max_response_bytes
        content = bytearray()
        while len(content) < limit:
            chunk = await response.content.read(limit - len(content))
            if not chunk:
                break
            content += chunk
        if not response.content.at_eof():
            # More than we will ever read: drop the connection instead of draining it.
            response.close()
        return bytes(content[: self._settings.stored_response_bytes])

    def _classify(self, exc: BaseException) -> tuple[AttemptError, str]:
        reason = blocked_reason(exc)
        if isinstance(exc, DestinationBlocked) or reason is not None:
            return AttemptError.BLOCKED, reason or str(exc)
        return classify(exc, self._settings.request_timeout)


def classify(exc: BaseException, timeout: float) -> tuple[AttemptError, str]:
    """Map an exception from a request to an error kind and a short detail without internals."""
    match exc:
        case aiohttp.ConnectionTimeoutError():
            return AttemptError.TIMEOUT, "timed out connecting"
        case TimeoutError():
            return AttemptError.TIMEOUT, f"no complete response within {timeout:g} s"
        case aiohttp.ClientConnectorCertificateError():
            return AttemptError.TLS, f"certificate rejected: {exc.certificate_error}"
        case aiohttp.ClientSSLError():
            return AttemptError.TLS, "TLS handshake failed"
        case aiohttp.ClientConnectorDNSError():
            return AttemptError.DNS, "the host name could not be resolved"
        case aiohttp.ClientConnectorError():
            return AttemptError.CONNECT, exc.strerror or "connection failed"
        case aiohttp.ClientResponseError() if "more than" in exc.message or "too many" in exc.message.lower():
            return AttemptError.TOO_LARGE, "response headers too large"
        case aiohttp.ClientResponseError():
            return AttemptError.INVALID_RESPONSE, f"malformed response: {exc.message}"[:200]
        case aiohttp.ServerDisconnectedError() | aiohttp.ClientPayloadError() | aiohttp.ClientOSError():
            return AttemptError.CONNECTION_RESET, "the connection was closed before the response was complete"
        case aiohttp.InvalidURL():
            return AttemptError.INVALID_RESPONSE, "the URL cannot be requested"
        case _:
            return AttemptError.CONNECT, type(exc).__name__


def _allow_open_files(needed: int) -> None:
    """Raise the process's soft limit on open files to ``needed``, within its hard limit.

    Many systems start processes with a soft limit of 1024 and a much higher hard one. Every
    request in flight holds a socket; running out would fail requests to healthy endpoints
    along with the rest, so the limit is raised the way Go's runtime does it, only as far as
    the configured concurrency needs.
    """
    if sys.platform == "win32":
        return
    import resource  # not on Windows

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return
    target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if target > soft:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def _tls_context(ca_file: str | None) -> ssl.SSLContext | bool:
    """Verify certificates and host names always; against ``ca_file`` when given, else the
    system's authorities (``True`` lets aiohttp build its default verifying context)."""
    if ca_file is None:
        return True
    return ssl.create_default_context(cafile=ca_file)


@functools.lru_cache(maxsize=4096)
def _check_literal(host: str, allow: tuple[Network, ...]) -> None:
    # Pure in its arguments, and an exception is not cached: a refused host is checked (and
    # refused) again every time, an allowed one only once.
    check_literal_host(host, allow)


@functools.lru_cache(maxsize=4096)
def _parse(url: str) -> yarl.URL:
    # An endpoint's URL is sent to again and again; parse it once.
    return yarl.URL(url)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
