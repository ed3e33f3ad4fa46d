"""The SSRF guard through the whole engine: ``Webhooks`` with its worker, default settings,
endpoints that point at a receiver on 127.0.0.1 in every spelling we know.

Nothing here may send a packet beyond loopback. A tripwire on ``socket.connect`` refuses (and
records) any connection to an address that is not loopback, so even a broken guard could not
reach the outside. Where a test needs an address the guard accepts, it allows 127.0.0.2/32 and
runs a decoy server there: a stand-in for "a public address" that never leaves the host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from hookwire import AttemptError, DeliveryStatus, InvalidURL, Settings, Webhooks
from hookwire.delivery import guard
from hookwire.testing import Receiver
from tests.conftest import HooksFactory
from tests.reliability.conftest import attempts, delivery
from tests.reliability.servers import RawServer, head, respond
from tests.unit.test_guard import FakeResolver

STAND_IN_PUBLIC = "127.0.0.2"  # allowed by the settings of the tests that use it


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Refuse every connection to a non-loopback address; fail the test if one was tried."""
    tried: list[str] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> None:
        if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            tried.append(address[0])
            raise ConnectionRefusedError(f"the test refuses to connect beyond loopback: {address[0]}")
        connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    yield tried
    assert tried == [], f"tried to connect beyond loopback: {tried}"


def _is_loopback(host: str) -> bool:
    return ipaddress.ip_address(host.split("%")[0]).is_loopback


@pytest.fixture
async def target() -> AsyncIterator[Receiver]:
    """The loopback server an attacker wants to reach."""
    async with Receiver() as receiver:
        yield receiver


SPELLINGS = [
    "127.0.0.1",
    "2130706433",  # decimal
    "0x7f000001",  # hexadecimal
    "0X7F000001",
    "0177.0.0.1",  # octal
    "0x7f.0.0.1",  # hexadecimal first octet
    "127.1",  # short forms
    "127.0.1",
    "127.0.0.1.",  # trailing dot
    "[::ffff:127.0.0.1]",  # IPv4-mapped IPv6
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::1]",
    "[::127.0.0.1]",  # IPv4-compatible
    "0.0.0.0",  # Linux connects the unspecified address to the local host
    "localhost",  # a name that resolves to loopback
]


@pytest.mark.parametrize("host", SPELLINGS)
async def test_loopback_is_blocked_in_every_spelling(
    make_hooks: HooksFactory, target: Receiver, host: str
) -> None:
    hooks = await make_hooks(Settings(retry_schedule=(0, 0.05), retry_jitter=0))  # the default guard
    await hooks.add("a.b", f"http://{host}:{target.port}/admin")
    message = await hooks.trigger("a.b", {})
    [attempt] = await attempts(hooks, message.id, 1)
    await hooks.wait_until_idle()

    assert attempt.error is AttemptError.BLOCKED
    assert "127.0.0.1" not in (attempt.error_detail or "")
    assert (await delivery(hooks, message.id)).status is DeliveryStatus.FAILED  # not retried
    assert target.requests == []


def _resolver(monkeypatch: pytest.MonkeyPatch, *answers: list[str]) -> FakeResolver:
    """Make every engine's guard ask this resolver instead of the system's."""
    fake = FakeResolver(*answers)
    monkeypatch.setattr(guard, "ThreadedResolver", lambda: fake)
    return fake


@pytest.fixture
async def decoy(target: Receiver) -> AsyncIterator[RawServer]:
    """A server on the stand-in public address, on the same port as the target."""
    async with RawServer(respond(head(body=b"ok")), host=STAND_IN_PUBLIC, port=target.port) as server:
        yield server


def _allow_stand_in(**changes: Any) -> Settings:
    return Settings(allow_networks=[f"{STAND_IN_PUBLIC}/32"], retry_jitter=0, **changes)


@pytest.mark.parametrize("answer", [[STAND_IN_PUBLIC, "127.0.0.1"], ["127.0.0.1", STAND_IN_PUBLIC]])
async def test_a_name_with_one_allowed_and_one_loopback_address_is_refused(
    make_hooks: HooksFactory,
    monkeypatch: pytest.MonkeyPatch,
    target: Receiver,
    decoy: RawServer,
    answer: list[str],
) -> None:
    resolver = _resolver(monkeypatch, answer)
    hooks = await make_hooks(_allow_stand_in(retry_schedule=(0,)))
    await hooks.add("a.b", f"http://mixed.test:{target.port}/")
    message = await hooks.trigger("a.b", {})
    [attempt] = await attempts(hooks, message.id, 1)

    assert attempt.error is AttemptError.BLOCKED
    assert resolver.calls == 1
    assert target.requests == []
    assert decoy.requests == []


async def test_dns_rebinding_never_reaches_the_loopback_server(
    database_url: str, monkeypatch: pytest.MonkeyPatch, target: Receiver, decoy: RawServer
) -> None:
    # The attacker's name answers the allowed address first, loopback ever after.
    resolver = _resolver(monkeypatch, [STAND_IN_PUBLIC], ["127.0.0.1"])
    settings = _allow_stand_in(retry_schedule=(0,))
    url = f"http://rebind.test:{target.port}/"

    async with Webhooks(database_url, settings=settings) as hooks:
        await hooks.add("a.b", url)
        first = await hooks.trigger("a.b", {"n": 1})
        await attempts(hooks, first.id, 1)
    # A new engine has an empty DNS cache, so it must look the name up again.
    async with Webhooks(database_url, settings=settings) as hooks:
        second = await hooks.trigger("a.b", {"n": 2})
        [refused] = await attempts(hooks, second.id, 1)

    assert resolver.calls == 2
    # The first request went where the vetted answer pointed, not to a second lookup's answer.
    assert [r.headers["webhook-id"] for r in decoy.requests] == [first.id]
    assert refused.error is AttemptError.BLOCKED
    assert target.requests == []


async def test_proxy_variables_are_ignored(
    database_url: str, monkeypatch: pytest.MonkeyPatch, target: Receiver
) -> None:
    async with Receiver() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        for name in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(name, raising=False)
        # Allowed: the request must go straight to the target, not through the proxy.
        async with Webhooks(database_url, settings=Settings(allow_networks=["127.0.0.0/8"])) as hooks:
            await hooks.add("a.b", target.url)
            delivered = await hooks.trigger("a.b", {})
            await target.wait_for(1)
        # Refused: a proxy would have fetched it on the guard's behalf.
        async with Webhooks(database_url, settings=Settings(retry_schedule=(0,))) as hooks:
            blocked = await hooks.trigger("a.b", {})
            [attempt] = await attempts(hooks, blocked.id, 1)

    assert [r.webhook_id for r in target.requests] == [delivered.id]
    assert attempt.error is AttemptError.BLOCKED
    assert proxy.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/_",
        "ws://example.com/",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "dict://127.0.0.1:11211/",
        "//example.com/no-scheme",
        "https://user@example.com/",
        "https://:secret@example.com/",
        "https://user:secret@example.com/",
        "http://user%40example.com:x@example.com/",
    ],
)
async def test_other_schemes_and_credentials_are_refused_at_registration(hooks: Webhooks, url: str) -> None:
    with pytest.raises(InvalidURL):
        await hooks.add("a.b", url)
    with pytest.raises(InvalidURL):
        await hooks.endpoints.create("default", url)
    assert await hooks.get_db() == {}
