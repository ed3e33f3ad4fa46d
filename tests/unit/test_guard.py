"""The connect-time SSRF guard, without the network: a fake inner resolver, pure checks."""

from __future__ import annotations

import socket
from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.client_reqrep import ConnectionKey

from hookwire.core.addresses import NON_CANONICAL_LITERAL
from hookwire.core.errors import HookwireError
from hookwire.delivery.guard import DestinationBlocked, GuardedResolver, blocked_reason, check_literal_host


class FakeResolver(AbstractResolver):
    """Answers canned addresses, one list per call (the last one repeats); opens no socket."""

    def __init__(self, *answers: list[str]) -> None:
        self._answers = answers
        self.calls = 0
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answer = self._answers[min(self.calls, len(self._answers) - 1)]
        self.calls += 1
        return [_result(host, address, port) for address in answer]

    async def close(self) -> None:
        self.closed = True


def _result(host: str, address: str, port: int) -> ResolveResult:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return ResolveResult(hostname=host, host=address, port=port, family=family, proto=0, flags=0)


async def test_public_answers_pass_through_unchanged() -> None:
    public = ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]

    results = await GuardedResolver(inner=FakeResolver(public)).resolve("example.com", 443)

    assert results == [_result("example.com", address, 443) for address in public]


async def test_one_internal_answer_refuses_the_whole_name() -> None:
    resolver = GuardedResolver(inner=FakeResolver(["93.184.215.14", "127.0.0.1"]))

    with pytest.raises(DestinationBlocked) as caught:
        await resolver.resolve("mixed.example", 80)

    assert caught.value.reason == "loopback"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "link-local"),
        ("10.0.0.5", "private"),
        ("::ffff:a9fe:a9fe", "link-local"),
        ("64:ff9b::a00:5", "private"),
        ("fe80::1%eth0", "link-local"),
        ("not-an-address", "invalid IP"),
    ],
)
async def test_internal_answers_are_refused(address: str, reason: str) -> None:
    resolver = GuardedResolver(inner=FakeResolver([address]))

    with pytest.raises(DestinationBlocked) as caught:
        await resolver.resolve("internal.example", 80)

    assert caught.value.reason == reason


async def test_dns_rebinding_is_refused_on_the_answer_used_for_connecting() -> None:
    inner = FakeResolver(["93.184.215.14"], ["127.0.0.1"])
    resolver = GuardedResolver(inner=inner)

    first = await resolver.resolve("rebind.example", 80)
    with pytest.raises(DestinationBlocked):
        await resolver.resolve("rebind.example", 80)

    assert [result["host"] for result in first] == ["93.184.215.14"]
    assert inner.calls == 2


async def test_allowed_networks_pass() -> None:
    resolver = GuardedResolver([ip_network("10.0.0.0/8")], inner=FakeResolver(["10.1.2.3"]))

    results = await resolver.resolve("internal.example", 80)

    assert [result["host"] for result in results] == ["10.1.2.3"]


async def test_non_canonical_numeric_names_are_refused_before_lookup() -> None:
    inner = FakeResolver(["127.0.0.1"])

    with pytest.raises(DestinationBlocked) as caught:
        await GuardedResolver(inner=inner).resolve("0x7f000001", 80)

    assert caught.value.reason == NON_CANONICAL_LITERAL
    assert inner.calls == 0


async def test_close_closes_the_inner_resolver() -> None:
    inner = FakeResolver(["93.184.215.14"])

    await GuardedResolver(inner=inner).close()

    assert inner.closed


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "2130706433",
        "0x7f000001",
        "0177.0.0.1",
        "127.1",
        "::ffff:127.0.0.1",
        "::1",
        "0:0:0:0:0:0:0:1",
        "::ffff:7f00:1",
        "64:ff9b::7f00:1",
    ],
)
def test_loopback_is_refused_in_every_spelling(host: str) -> None:
    with pytest.raises(DestinationBlocked):
        check_literal_host(host, ())


@pytest.mark.parametrize("host", ["example.com", "localhost", "8.8.8.8", "2606:4700:4700::1111"])
def test_names_and_public_literals_pass(host: str) -> None:
    check_literal_host(host, ())


def test_allowed_literal_passes() -> None:
    check_literal_host("127.0.0.1", [ip_network("127.0.0.0/8")])


def test_the_refusal_never_shows_the_address() -> None:
    error = DestinationBlocked("link-local")

    assert str(error) == "destination refused: link-local address"
    assert error.reason == "link-local"
    assert isinstance(error, OSError)
    assert isinstance(error, HookwireError)


def _connection_key() -> ConnectionKey:
    return ConnectionKey("internal.example", 80, False, True, None, None, None)


def test_blocked_reason_sees_through_aiohttp_wrapping() -> None:
    refusal = DestinationBlocked("private")
    wrapped = aiohttp.ClientConnectorDNSError(_connection_key(), refusal)
    wrapped.__cause__ = refusal

    assert blocked_reason(wrapped) == "private"
    assert blocked_reason(refusal) == "private"
    assert "10." not in str(wrapped)
    assert "destination refused: private address" in str(wrapped)


def test_blocked_reason_follows_the_cause_alone() -> None:
    outer = RuntimeError("transport failed")
    outer.__cause__ = DestinationBlocked("loopback")

    assert blocked_reason(outer) == "loopback"


def test_blocked_reason_recognises_aiohttps_own_non_canonical_refusal() -> None:
    error = aiohttp.InvalidUrlClientError("2130706433", "is not a canonical IPv4 address")

    assert blocked_reason(error) == NON_CANONICAL_LITERAL


@pytest.mark.parametrize(
    "error",
    [
        aiohttp.ClientConnectorDNSError(_connection_key(), OSError(-2, "Name or service not known")),
        aiohttp.InvalidUrlClientError("http:///no-host"),
        aiohttp.InvalidUrlClientError("http://[bad"),
        TimeoutError(),
    ],
)
def test_other_errors_are_not_refusals(error: BaseException) -> None:
    assert blocked_reason(error) is None


def test_blocked_reason_survives_cycles() -> None:
    first, second = RuntimeError("a"), RuntimeError("b")
    first.__cause__, second.__cause__ = second, first

    assert blocked_reason(first) is None
