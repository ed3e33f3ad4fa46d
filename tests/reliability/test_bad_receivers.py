"""Receivers that hang, drip, flood, bomb, redirect, reset or push back, against the whole
engine (``Webhooks`` with its worker) on SQLite. Every server listens on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from email.utils import format_datetime

import pytest

from hookwire import AttemptError, DeliveryStatus
from hookwire.core.clock import utcnow
from hookwire.testing import Receiver, Reply
from tests.conftest import HooksFactory
from tests.reliability.conftest import RssPeak, attempts, delivery, loopback_settings
from tests.reliability.servers import (
    GIB,
    Behaviour,
    RawServer,
    drip,
    endless_body,
    gzip_bomb,
    hang,
    head,
    reset_mid_body,
    respond,
    sequence,
)

MIB = 1024 * 1024
TIMEOUT = 2.0

STALLING: dict[str, Behaviour] = {
    "never answers": hang(),
    "drips the head": drip(head(body=b"x" * 100), interval=0.3),
    "drips the body": drip(
        b"x" * 1000, interval=0.3, prefix=b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    ),
}


@pytest.mark.parametrize("behaviour", STALLING.values(), ids=STALLING.keys())
async def test_a_stalling_receiver_is_cut_off_at_the_timeout(
    make_hooks: HooksFactory, behaviour: Behaviour
) -> None:
    settings = loopback_settings(request_timeout=TIMEOUT, retry_schedule=(0, 600), concurrency=1)
    hooks = await make_hooks(settings)
    async with RawServer(behaviour) as server, Receiver() as healthy:
        await hooks.endpoints.create("default", server.url, filter_types=["stall"])
        await hooks.endpoints.create("default", healthy.url, filter_types=["ok"])
        message = await hooks.trigger("stall", {"n": 1})
        [attempt] = await attempts(hooks, message.id, 1)
        # The connection was dropped, not left open: the socket and the slot are free.
        async with asyncio.timeout(1):
            while server.open_connections:
                await asyncio.sleep(0.01)
        # With one slot in all, a new delivery goes out at once.
        sent = time.perf_counter()
        await hooks.trigger("ok", {"n": 2})
        [request] = await healthy.wait_for(1, timeout=5)

    print(f"\nstalling receiver: attempt ended after {attempt.duration_ms} ms (timeout {TIMEOUT:g} s)")
    assert attempt.error is AttemptError.TIMEOUT
    assert attempt.status_code is None
    assert (TIMEOUT - 1) * 1000 <= attempt.duration_ms <= (TIMEOUT + 1) * 1000
    assert request.received_at - sent < 1
    assert len(server.requests) == 1  # the retry is ten minutes away


async def test_a_gigabyte_body_is_read_only_up_to_the_cap(make_hooks: HooksFactory) -> None:
    hooks = await make_hooks(loopback_settings())
    async with RawServer(endless_body(GIB)) as server:
        await hooks.add("big", server.url)
        with RssPeak() as memory:
            started = time.perf_counter()
            message = await hooks.trigger("big", {})
            [attempt] = await attempts(hooks, message.id, 1)
            elapsed = time.perf_counter() - started
            # Whatever the server still manages to push must fail, not be read.
            await asyncio.sleep(0.2)

    print(
        f"\n1 GiB body: server wrote {server.bytes_sent / MIB:.1f} MiB before the client hung up, "
        f"stored {len(attempt.response_body)} B, RSS growth {memory.growth / MIB:.1f} MiB, {elapsed:.2f} s"
    )
    assert attempt.status_code == 200
    assert attempt.succeeded
    assert len(attempt.response_body) == hooks.settings.stored_response_bytes
    # Kernel socket buffers hold a few MiB the client never reads; 1 GiB never moves.
    assert server.bytes_sent < 64 * MIB
    assert memory.growth < 64 * MIB
    assert elapsed < 5


async def test_a_gzip_bomb_is_never_inflated(make_hooks: HooksFactory) -> None:
    bomb = gzip_bomb(GIB)
    raw = head("200 OK", [("Content-Encoding", "gzip"), ("Content-Type", "application/json")], bomb)
    hooks = await make_hooks(loopback_settings())
    async with RawServer(respond(raw)) as server:
        await hooks.add("bomb", server.url)
        with RssPeak() as memory:
            message = await hooks.trigger("bomb", {})
            [attempt] = await attempts(hooks, message.id, 1)

    print(
        f"\ngzip bomb: {len(bomb) / MIB:.2f} MiB inflating to 1 GiB; stored "
        f"{len(attempt.response_body)} B, RSS growth {memory.growth / MIB:.1f} MiB"
    )
    assert attempt.status_code == 200
    assert attempt.response_body == bomb[: hooks.settings.stored_response_bytes]  # compressed bytes
    assert memory.growth < 64 * MIB


OVERSIZED = {
    "a 200 KB header": head("200 OK", [("X-Big", "a" * 200_000)]),
    "200 headers": head("200 OK", [(f"X-Header-{i}", "v") for i in range(200)]),
}


@pytest.mark.parametrize("raw", OVERSIZED.values(), ids=OVERSIZED.keys())
async def test_oversized_response_headers_are_a_classified_failure(
    make_hooks: HooksFactory, raw: bytes
) -> None:
    hooks = await make_hooks(loopback_settings(retry_schedule=(0, 0.05)))
    async with RawServer(respond(raw)) as server:
        await hooks.add("big", server.url)
        message = await hooks.trigger("big", {})
        found = await attempts(hooks, message.id, 2)
        await hooks.wait_until_idle()
        settled = await delivery(hooks, message.id)

    print(f"\noversized headers: {[(a.error, a.error_detail) for a in found]}")
    assert [a.error for a in found] == [AttemptError.TOO_LARGE] * 2
    assert all(a.status_code is None for a in found)
    assert settled.status is DeliveryStatus.FAILED
    assert len(server.requests) == 2


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
async def test_redirects_are_never_followed(make_hooks: HooksFactory, code: int) -> None:
    hooks = await make_hooks(loopback_settings(retry_schedule=(0, 0.05)))
    async with Receiver() as elsewhere:
        redirect = Reply(code, headers={"Location": f"{elsewhere.url}internal"})
        async with Receiver(default=redirect) as receiver:
            await hooks.add("a.b", receiver.url)
            message = await hooks.trigger("a.b", {})
            found = await attempts(hooks, message.id, 2)
            await hooks.wait_until_idle()
            await asyncio.sleep(0.1)  # room for a stray follow-up request to arrive

    assert [a.status_code for a in found] == [code, code]
    assert not any(a.succeeded for a in found)
    assert len(receiver.requests) == 2  # one request per attempt
    assert elsewhere.requests == []


async def test_gone_disables_the_endpoint_and_cancels_its_pending_retries(make_hooks: HooksFactory) -> None:
    hooks = await make_hooks(loopback_settings(retry_schedule=(0, 1.0)))
    async with Receiver() as receiver:
        receiver.respond(500, 410)
        endpoint = await hooks.add("a.b", receiver.url)
        first = await hooks.trigger("a.b", {"n": 1})
        await attempts(hooks, first.id, 1)  # failed; its retry is due in a second
        second = await hooks.trigger("a.b", {"n": 2})
        await attempts(hooks, second.id, 1)  # 410 Gone
        await hooks.wait_until_idle(timeout=10)  # the first one's retry fell due meanwhile

        assert (await hooks.endpoints.get("default", endpoint.id)).disabled
        assert len(receiver.requests) == 2
        assert [len((await hooks.attempts.by_message("default", m.id)).items) for m in (first, second)] == [
            1,
            1,
        ]
        assert (await delivery(hooks, first.id)).status is DeliveryStatus.FAILED


def _http_date(seconds: int) -> str:
    return format_datetime(utcnow() + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("status", "retry_after", "cap", "expected"),
    [
        (429, "120", timedelta(hours=6), 120),
        (503, "120", timedelta(hours=6), 120),
        (429, "86400", timedelta(minutes=10), 600),  # bounded by retry_after_max
        (429, "HTTP-date in 180 s", timedelta(hours=6), 180),
    ],
)
async def test_retry_after_pushes_the_next_attempt_back_within_bounds(
    make_hooks: HooksFactory, status: int, retry_after: str, cap: timedelta, expected: int
) -> None:
    value = _http_date(180) if retry_after.startswith("HTTP-date") else retry_after
    hooks = await make_hooks(loopback_settings(retry_schedule=(0, 5), retry_after_max=cap))
    async with Receiver() as receiver:
        receiver.respond(Reply(status, headers={"Retry-After": value}))
        await hooks.add("a.b", receiver.url)
        message = await hooks.trigger("a.b", {})
        [attempt] = await attempts(hooks, message.id, 1)
        pending = await delivery(hooks, message.id)
        await asyncio.sleep(0.3)

    assert pending.status is DeliveryStatus.PENDING
    assert pending.next_attempt_at is not None
    delay = (pending.next_attempt_at - attempt.started_at).total_seconds()
    print(f"\n{status} Retry-After {value!r}: next attempt {delay:.1f} s later")
    assert expected - 2 <= delay <= expected + 2
    assert len(receiver.requests) == 1


async def test_a_reset_mid_body_is_classified_and_retried(make_hooks: HooksFactory) -> None:
    hooks = await make_hooks(loopback_settings(retry_schedule=(0, 0.05)))
    async with RawServer(sequence(reset_mid_body(), respond(head(body=b"ok")))) as server:
        await hooks.add("a.b", server.url)
        message = await hooks.trigger("a.b", {})
        found = await attempts(hooks, message.id, 2)
        await hooks.wait_until_idle()
        settled = await delivery(hooks, message.id)

    assert [(a.error, a.status_code) for a in found] == [(AttemptError.CONNECTION_RESET, None), (None, 200)]
    assert settled.status is DeliveryStatus.SUCCEEDED
    assert [r.headers["webhook-id"] for r in server.requests] == [message.id] * 2
