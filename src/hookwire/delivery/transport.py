"""The HTTP transport: POSTs attempts over kept-alive connections and classifies what comes
back. The only place in hookwire that opens outbound connections.

Choices, each for a reason:

- :mod:`hookwire.delivery.http1` sends: a lean HTTP/1.1 client for exactly this request shape,
  with connections kept alive per origin, since connecting is most of the cost of a small
  request and a general client's per-request bookkeeping was most of the rest.
- Names are resolved by the SSRF guard's resolver and the vetted address is the one connected
  to; IP-literal hosts are vetted before each request.
- Proxy variables in the environment are never read: they could route requests around the
  guard, and a webhook sender has no business following them.
- Redirects are not followed (a 3xx is a failure), bodies are never decompressed and read only
  up to a cap, so a hostile receiver cannot make us fetch internal URLs or inflate a bomb.
- Certificates and host names are always verified, against ``Settings.ca_file`` when it is
  set; there is no switch to turn verification off, so a bad certificate is a ``tls`` failure
  on every attempt, never a retry without it.
"""

from __future__ import annotations

import contextlib
import functools
import ssl
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import yarl

from hookwire._version import __version__
from hookwire.core.addresses import parse_ip_literal
from hookwire.core.clock import utcnow
from hookwire.core.settings import Settings
from hookwire.core.types import AttemptError
from hookwire.delivery.guard import DestinationBlocked, GuardedResolver, blocked_reason, check_literal_host
from hookwire.delivery.http1 import (
    ConnectTimeout,
    Http1Client,
    InvalidResponse,
    ResolveFailed,
    ResponseIncomplete,
    ResponseTooLarge,
    Target,
)

USER_AGENT = f"hookwire/{__version__}"

#: Host spellings remembered as vetted; past this many the memory starts over.
VETTED_HOSTS = 65_536

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
        # Hosts whose spelling passed the literal check: the check is pure, so once is enough.
        self._vetted: set[str] = set()
        # Both lanes of the worker (see delivery.lanes): each request holds a connection.
        connections = settings.concurrency + settings.stalled_concurrency
        _allow_open_files(connections + SPARE_FILES)
        self._client = Http1Client(
            resolver=GuardedResolver(allow=self._allow),
            tls=_tls_context(settings.ca_file),
            connect_timeout=settings.connect_timeout,
            max_body_bytes=settings.max_response_bytes,
            stored_bytes=settings.stored_response_bytes,
            max_idle=connections,
        )

    async def close(self) -> None:
        await self._client.close()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body`` to ``url``. Never raises for anything the receiver or network does."""
        started_at = utcnow()
        started = time.perf_counter()
        deadline = self._client.loop.time() + self._settings.request_timeout
        try:
            target = _target(url)
            if target.host not in self._vetted:
                check_literal_host(target.host, self._allow)  # raises for a refused literal
                if len(self._vetted) >= VETTED_HOSTS:
                    self._vetted.clear()
                self._vetted.add(target.host)
            reply = await self._client.post(target, _head(target, headers, len(body)), body, deadline)
        except Exception as exc:  # every failure of the receiver or network becomes an outcome
            error, detail = self._classify(exc)
            return Response(started_at, _elapsed_ms(started), None, b"", None, error, detail)
        elapsed = _elapsed_ms(started)
        return Response(started_at, elapsed, reply.status, reply.body, reply.retry_after, None, None)

    def _classify(self, exc: BaseException) -> tuple[AttemptError, str]:
        reason = blocked_reason(exc)
        if isinstance(exc, DestinationBlocked) or reason is not None:
            return AttemptError.BLOCKED, reason or str(exc)
        return classify(exc, self._settings.request_timeout)


def classify(exc: BaseException, timeout: float) -> tuple[AttemptError, str]:
    """Map an exception from a request to an error kind and a short detail without internals."""
    match exc:
        case ConnectTimeout():
            return AttemptError.TIMEOUT, "timed out connecting"
        case TimeoutError():
            return AttemptError.TIMEOUT, f"no complete response within {timeout:g} s"
        case ssl.SSLCertVerificationError():
            return AttemptError.TLS, f"certificate rejected: {exc.verify_message}"
        case ssl.SSLError():
            return AttemptError.TLS, "TLS handshake failed"
        case ResolveFailed():
            return AttemptError.DNS, "the host name could not be resolved"
        case ResponseTooLarge():
            return AttemptError.TOO_LARGE, str(exc)
        case InvalidResponse():
            return AttemptError.INVALID_RESPONSE, f"malformed response: {exc}"[:200]
        case ResponseIncomplete() | ConnectionResetError() | BrokenPipeError() | ConnectionAbortedError():
            return AttemptError.CONNECTION_RESET, "the connection was closed before the response was complete"
        case InvalidTarget():
            return AttemptError.INVALID_RESPONSE, str(exc)
        case OSError():
            return AttemptError.CONNECT, exc.strerror or str(exc) or "connection failed"
        case _:
            return AttemptError.CONNECT, type(exc).__name__


class InvalidTarget(ValueError):
    """A URL, or a header, that cannot be put on the wire."""


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


def _tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verify certificates and host names always; against ``ca_file`` when given, else the
    system's authorities."""
    return ssl.create_default_context(cafile=ca_file)


@functools.lru_cache(maxsize=4096)
def _target(url: str) -> Target:
    """Parse an endpoint's URL once: it is sent to again and again."""
    try:
        parsed = yarl.URL(url)
    except ValueError as exc:
        raise InvalidTarget("the URL cannot be requested") from exc
    host = parsed.raw_host
    if parsed.scheme not in ("http", "https") or not host or parsed.port is None:
        raise InvalidTarget("the URL cannot be requested")
    shown = f"[{host}]" if ":" in host else host
    if not parsed.is_default_port():
        shown = f"{shown}:{parsed.port}"
    return Target(
        scheme=parsed.scheme,
        host=host,
        port=parsed.port,
        literal=parse_ip_literal(host) is not None,
        path=parsed.raw_path_qs or "/",
        host_header=shown,
    )


def _head(target: Target, headers: Mapping[str, str], length: int) -> bytes:
    """The request line and headers of a POST, ending with the blank line."""
    lines = [f"POST {target.path} HTTP/1.1\r\nhost: {target.host_header}\r\ncontent-length: {length}\r\n"]
    lines.extend(f"{name}: {value}\r\n" for name, value in headers.items())
    lines.append("\r\n")
    text = "".join(lines)
    # Validation refuses line breaks in names and values; a stored one from before a rule
    # change must still not split a header (counted in C, cheaper than a check per header).
    if text.count("\n") != len(headers) + 4 or text.count("\r") != len(headers) + 4:
        raise InvalidTarget("a header name or value holds a line break")
    return text.encode()


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
