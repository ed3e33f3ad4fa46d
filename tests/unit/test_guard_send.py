"""The SSRF guard on the real aiohttp send path, against a receiver on 127.0.0.1 only.

Every request here targets the loopback receiver (or a loopback proxy port that nothing
listens on): the guard must stop the refused ones before a byte reaches it.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from ipaddress import ip_network

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from hookwire.core.addresses import Network
from hookwire.delivery.guard import DestinationBlocked, GuardedResolver, blocked_reason, check_literal_host

LOOPBACK_V4: tuple[Network, ...] = (ip_network("127.0.0.0/8"),)
DELIVERED = "delivered"


@dataclass
class Receiver:
    port: int
    requests: int = 0


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(port=0)

    async def count(request: web.Request) -> web.Response:
        state.requests += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", count)
    runner = web.AppRunner(app)
    await runner.setup()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    state.port = sock.getsockname()[1]
    await web.SockSite(runner, sock).start()
    yield state
    await runner.cleanup()


async def post(url: str, allow: Sequence[Network], *, check: bool = True, trust_env: bool = False) -> str:
    """Send one webhook the way the transport does; return ``DELIVERED`` or the refusal reason."""
    try:
        if check:
            check_literal_host(URL(url).host or "", allow)
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(allow))
        async with (
            aiohttp.ClientSession(connector=connector, trust_env=trust_env) as session,
            session.post(url, json={"type": "ping"}, allow_redirects=False) as response,
        ):
            assert response.status == 200
            return DELIVERED
    except (DestinationBlocked, aiohttp.ClientError) as exc:
        error = exc
    reason = blocked_reason(error)
    if reason is None:
        raise error
    # The refusal is shown to the customer: it must not reveal what an internal name resolves to.
    assert "127.0.0.1" not in str(error)
    return reason


@pytest.mark.parametrize(
    ("netloc", "reason"),
    [
        ("127.0.0.1:{port}", "loopback"),
        ("localhost:{port}", "loopback"),
        ("2130706433:{port}", "non-canonical IP"),
        ("0x7f000001:{port}", "non-canonical IP"),
        ("127.1:{port}", "non-canonical IP"),
        ("[::ffff:127.0.0.1]:{port}", "loopback"),
    ],
)
async def test_loopback_is_refused_before_any_request(receiver: Receiver, netloc: str, reason: str) -> None:
    url = f"http://{netloc.format(port=receiver.port)}/"

    assert await post(url, ()) == reason
    assert receiver.requests == 0


@pytest.mark.parametrize(
    ("netloc", "reason"),
    [
        ("localhost:{port}", "loopback"),  # GuardedResolver vets the answer
        ("0x7f000001:{port}", "non-canonical IP"),  # GuardedResolver refuses the spelling
        ("2130706433:{port}", "non-canonical IP"),  # aiohttp's InvalidUrlClientError
        ("127.1:{port}", "non-canonical IP"),  # aiohttp's InvalidUrlClientError
    ],
)
async def test_names_are_refused_by_the_connector_alone(receiver: Receiver, netloc: str, reason: str) -> None:
    url = f"http://{netloc.format(port=receiver.port)}/"

    assert await post(url, (), check=False) == reason
    assert receiver.requests == 0


async def test_aiohttp_skips_the_resolver_for_literals_so_the_transport_must_check(
    receiver: Receiver,
) -> None:
    # Pins why check_literal_host exists: if aiohttp starts resolving literals, this fails.
    assert await post(f"http://127.0.0.1:{receiver.port}/", (), check=False) == DELIVERED
    assert receiver.requests == 1


async def test_allowed_loopback_literal_is_delivered(receiver: Receiver) -> None:
    assert await post(f"http://127.0.0.1:{receiver.port}/", LOOPBACK_V4) == DELIVERED
    assert receiver.requests == 1


def _localhost_addresses(port: int) -> set[str]:
    infos = socket.getaddrinfo("localhost", port, type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)
    return {str(info[4][0]) for info in infos}


async def test_localhost_is_delivered_when_its_addresses_are_allowed(receiver: Receiver) -> None:
    # localhost may also answer ::1; aiohttp then falls back to 127.0.0.1, where the receiver is.
    allow = (*LOOPBACK_V4, ip_network("::1/128"))

    assert await post(f"http://localhost:{receiver.port}/", allow) == DELIVERED
    assert receiver.requests == 1


async def test_localhost_with_only_ipv4_loopback_allowed(receiver: Receiver) -> None:
    # Where localhost also answers ::1, allowing 127.0.0.0/8 is not enough: every answer counts.
    only_ipv4 = _localhost_addresses(receiver.port) <= {"127.0.0.1"}

    outcome = await post(f"http://localhost:{receiver.port}/", LOOPBACK_V4)

    assert outcome == (DELIVERED if only_ipv4 else "loopback")
    assert receiver.requests == (1 if only_ipv4 else 0)


@pytest.fixture
def proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Port 1 on loopback: nothing listens, so a request sent to the proxy fails.
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:1")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("proxy_environment")
async def test_proxy_variables_are_ignored(receiver: Receiver) -> None:
    assert await post(f"http://127.0.0.1:{receiver.port}/", LOOPBACK_V4) == DELIVERED
    assert receiver.requests == 1


@pytest.mark.usefixtures("proxy_environment")
async def test_proxy_variables_would_be_used_if_trusted(receiver: Receiver) -> None:
    # Shows the test above could fail: trust_env=True sends the request to the proxy.
    with pytest.raises(aiohttp.ClientConnectorError):
        await post(f"http://127.0.0.1:{receiver.port}/", LOOPBACK_V4, trust_env=True)
    assert receiver.requests == 0
