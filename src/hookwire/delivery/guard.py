"""The SSRF guard at connect time, for aiohttp.

:mod:`hookwire.core.addresses` decides which addresses are acceptable; this module makes
aiohttp obey. Two controls are needed because aiohttp takes two paths to an address:

* **Names** go through the connector's resolver. :class:`GuardedResolver` wraps the real one
  and refuses the whole name when any answer is refused. aiohttp then connects to exactly the
  addresses it returned, so there is no second lookup for a rebinding DNS server to answer
  differently.
* **IP literals** never reach the resolver: ``TCPConnector._resolve_host`` returns any host that
  ``aiohttp.helpers.is_ip_address`` accepts (all digits and dots, or any colon) as it is. The
  transport therefore calls :func:`check_literal_host` before each request.

What callers must also do, because a resolver cannot:

* create the session with ``trust_env=False``, so proxy variables (``HTTP_PROXY``...) cannot
  send the request to a proxy that would resolve and connect on the guard's behalf;
* not follow redirects automatically (``allow_redirects=False``): aiohttp would connect to a
  literal ``Location`` host without calling :func:`check_literal_host` on it.

Refusals surface as :class:`DestinationBlocked`, possibly wrapped by aiohttp;
:func:`blocked_reason` recognises them, so the transport sees one "blocked" outcome.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence

from aiohttp import ClientConnectorError, InvalidUrlClientError
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver
from yarl import URL

from hookwire.core.addresses import (
    INVALID_LITERAL,
    NON_CANONICAL_LITERAL,
    Network,
    literal_host_reason,
    parse_ip_literal,
    refusal_reason,
)
from hookwire.core.errors import HookwireError

__all__ = ["DestinationBlocked", "GuardedResolver", "blocked_reason", "check_literal_host"]

# Exception chains are short; the bound only guards against pathological cycles.
_MAX_CHAIN = 16


class DestinationBlocked(HookwireError, OSError):
    """The SSRF guard refused to connect to a webhook destination.

    It is an :class:`OSError` so that aiohttp treats a refusal from the resolver like any
    other resolution failure and wraps it, rather than letting it escape unwrapped.

    Attributes:
        reason: the category of the refused address (``"loopback"``, ``"link-local"``...).
            Safe to show to the customer who owns the URL: neither it nor the message ever
            contains the resolved address, which would leak the internal network's layout.
    """

    code = "destination_blocked"

    def __init__(self, reason: str) -> None:
        message = f"destination refused: {reason} address"
        super().__init__(message)
        self.reason = reason
        # aiohttp's ClientConnectorError builds its own message from the strerror it wraps.
        self.strerror = message

    def __str__(self) -> str:
        return self.message


class GuardedResolver(AbstractResolver):
    """A resolver that refuses names resolving to addresses hookwire must not reach.

    Use it as ``aiohttp.TCPConnector(resolver=GuardedResolver(allow))``. A name is refused
    when *any* of its addresses is refused: otherwise a name answering one public and one
    internal address would reach the internal one whenever the public one fails.

    Args:
        allow: networks to accept although they are not publicly routable.
        inner: the resolver that does the lookups; ``aiohttp.resolver.ThreadedResolver()``
            by default (which needs a running event loop, like ``TCPConnector`` itself).
    """

    def __init__(self, allow: Sequence[Network] = (), *, inner: AbstractResolver | None = None) -> None:
        self._allow = tuple(allow)
        self._inner = inner if inner is not None else ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` with the inner resolver and vet every answer.

        Args:
            host: the name to resolve.
            port: the port to put in the results.
            family: the address family aiohttp asks for.

        Returns:
            The inner resolver's results, unchanged, when all are acceptable.

        Raises:
            DestinationBlocked: when ``host`` is a refused literal spelling or any resolved
                address is refused.
        """
        # getaddrinfo accepts legacy numeric forms (0x7f000001) that aiohttp sends here as
        # names; judge them the way the transport does, so both paths agree.
        check_literal_host(host, self._allow)
        results = await self._inner.resolve(host, port, family)
        for result in results:
            reason = _resolved_reason(result["host"], self._allow)
            if reason is not None:
                raise DestinationBlocked(reason)
        return results

    async def close(self) -> None:
        """Close the inner resolver."""
        await self._inner.close()


def check_literal_host(host: str, allow: Sequence[Network] = ()) -> None:
    """Refuse a URL host that is an IP literal hookwire must not connect to.

    Call it before every request: aiohttp connects to IP literals without asking the
    resolver. Names pass; :class:`GuardedResolver` judges them when they are resolved.

    Args:
        host: the URL's host as yarl gives it (IPv6 without brackets).
        allow: networks to accept although they are not publicly routable.

    Raises:
        DestinationBlocked: when the host is a refused address, or looks like an IP literal
            without being a canonical one (``2130706433``, ``0x7f000001``, ``127.1``).
    """
    reason = literal_host_reason(host, allow)
    if reason is not None:
        raise DestinationBlocked(reason)


def blocked_reason(exc: BaseException) -> str | None:
    """Tell whether an error out of an aiohttp request means the SSRF guard refused it.

    aiohttp wraps the resolver's :class:`DestinationBlocked` in ``ClientConnectorDNSError``
    (as ``os_error`` and ``__cause__``), and itself rejects non-canonical IPv4 literals with
    ``InvalidUrlClientError``; both count as blocked.

    Args:
        exc: what ``ClientSession.post(...)`` (or the guard) raised.

    Returns:
        The refusal category, or ``None`` when the error is not a refusal.
    """
    for link in _chain(exc):
        if isinstance(link, DestinationBlocked):
            return link.reason
        if isinstance(link, InvalidUrlClientError) and _is_non_canonical(link):
            return NON_CANONICAL_LITERAL
    return None


def _resolved_reason(host: str, allow: Sequence[Network]) -> str | None:
    address = parse_ip_literal(host)
    if address is None:
        # A resolver answer that is not an address cannot be vetted: fail closed.
        return INVALID_LITERAL
    return refusal_reason(address, allow)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Walk ``exc`` and what it wraps: ``os_error`` (aiohttp) and ``__cause__`` (``from``)."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending and len(seen) < _MAX_CHAIN:
        link = pending.pop()
        if id(link) in seen:
            continue
        seen.add(id(link))
        yield link
        if isinstance(link, ClientConnectorError):
            pending.append(link.os_error)
        if link.__cause__ is not None:
            pending.append(link.__cause__)


def _is_non_canonical(exc: InvalidUrlClientError) -> bool:
    # aiohttp raises it with the bare host for a non-canonical IPv4 literal, and with the
    # whole URL for other problems (no host...), which are not refusals.
    url = exc.url
    if isinstance(url, str) and "/" in url:
        try:
            url = URL(url)
        except ValueError:
            return False
    host = url.host if isinstance(url, URL) else url
    return host is not None and literal_host_reason(host) == NON_CANONICAL_LITERAL
