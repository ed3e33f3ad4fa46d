"""The ASGI ``Receiver``: verification, de-duplication, dispatch and the answers it gives."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest

from hookwire.core.signing import InvalidSecret
from hookwire.receiver import ClaimResult, Receiver, Unsubscribe, Webhook
from hookwire.receiver.app import Message
from tests.receiver.signing import SECRET, event, new_id, signed


class Recorder:
    """Handlers that record every webhook they were called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Webhook]] = []

    def handler(self, name: str) -> Callable[[Webhook], Any]:
        async def record(webhook: Webhook) -> None:
            self.calls.append((name, webhook))

        return record

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver(SECRET)


@pytest.fixture
async def client(receiver: Receiver) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        yield http


async def deliver(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await client.post("/webhooks", content=body, headers=headers)


async def test_a_valid_delivery_runs_its_handler_once(receiver: Receiver, client: httpx.AsyncClient) -> None:
    recorder = Recorder()
    receiver.on("invoice.paid")(recorder.handler("paid"))
    body, headers = signed(event("invoice.paid", id="in_1"), msg_id="msg_one")

    response = await deliver(client, body, headers)

    assert response.status_code == 200
    assert response.json() == {"status": "handled"}
    [(_, webhook)] = recorder.calls
    assert webhook.id == "msg_one"
    assert webhook.event_type == "invoice.paid"
    assert webhook.payload["data"] == {"id": "in_1"}
    assert webhook.timestamp == datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert webhook.headers["webhook-id"] == "msg_one"
    with pytest.raises(TypeError):
        webhook.headers["x"] = "y"  # type: ignore[index]


async def test_a_duplicate_is_answered_2xx_without_running_the_handler(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    recorder = Recorder()
    receiver.on("*")(recorder.handler("any"))
    msg_id = new_id()
    body, headers = signed(event("invoice.paid"), msg_id=msg_id)
    first = await deliver(client, body, headers)
    # A retry: same id and body, a new timestamp and signature.
    body, retry_headers = signed(
        event("invoice.paid"), msg_id=msg_id, timestamp=int(headers["webhook-timestamp"]) + 5
    )
    second = await deliver(client, body, retry_headers)

    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json() == {"status": "duplicate"}
    assert recorder.names == ["any"]


@pytest.mark.parametrize(
    ("tamper", "status", "code"),
    [
        (lambda h: h.update({"webhook-signature": "v1," + "A" * 43 + "="}), 401, "no_matching_signature"),
        (lambda h: h.update({"webhook-timestamp": "1000000000"}), 401, "timestamp_out_of_tolerance"),
        (lambda h: h.pop("webhook-id"), 400, "missing_header"),
        (lambda h: h.update({"webhook-signature": "v1,"}), 400, "malformed_header"),
    ],
)
async def test_a_request_failing_verification_never_reaches_a_handler(
    receiver: Receiver,
    client: httpx.AsyncClient,
    tamper: Callable[[dict[str, str]], object],
    status: int,
    code: str,
) -> None:
    recorder = Recorder()
    receiver.on("*")(recorder.handler("any"))
    body, headers = signed(event("invoice.paid"))
    tamper(headers)

    response = await deliver(client, body, headers)

    assert response.status_code == status
    assert response.json()["status"] == "rejected"
    assert response.json()["code"] == code
    assert recorder.calls == []


async def test_a_tampered_body_is_rejected(receiver: Receiver, client: httpx.AsyncClient) -> None:
    recorder = Recorder()
    receiver.on("*")(recorder.handler("any"))
    body, headers = signed(event("invoice.paid", amount=10))

    response = await deliver(client, body.replace(b"10", b"99"), headers)

    assert response.status_code == 401
    assert recorder.calls == []


async def test_a_failing_handler_answers_500_and_its_retry_runs_it_again(
    receiver: Receiver, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    attempts: list[str | None] = []

    @receiver.on("invoice.paid")
    def flaky(webhook: Webhook) -> None:
        attempts.append(webhook.id)
        if len(attempts) == 1:
            raise RuntimeError("database is down: secret internals")

    body, headers = signed(event("invoice.paid"))
    failed = await deliver(client, body, headers)
    retried = await deliver(client, body, headers)
    again = await deliver(client, body, headers)

    assert failed.status_code == 500
    assert failed.json() == {"status": "failed", "code": "handler_failed", "detail": "the handler failed"}
    assert "secret internals" not in failed.text
    assert "database is down" in caplog.text
    assert (retried.status_code, again.json()["status"]) == (200, "duplicate")
    assert attempts == [headers["webhook-id"]] * 2


async def test_unsubscribe_answers_410_and_is_not_recorded_as_handled(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    calls: list[str] = []

    @receiver.on("customer.deleted")
    async def gone(webhook: Webhook) -> None:
        calls.append("gone")
        raise Unsubscribe("no such customer any more")

    body, headers = signed(event("customer.deleted"))
    first = await deliver(client, body, headers)
    second = await deliver(client, body, headers)

    assert first.status_code == second.status_code == 410
    assert first.json() == {
        "status": "unsubscribed",
        "code": "unsubscribed",
        "detail": "no such customer any more",
    }
    assert calls == ["gone", "gone"]


@pytest.mark.parametrize(
    ("event_type", "expected"),
    [
        ("invoice.paid", "exact"),
        ("invoice.voided", "invoice.*"),
        ("invoice.line.added", "invoice.line.*"),
        ("invoice.line", "invoice.*"),
        ("invoice", "*"),
        ("customer.created", "*"),
        (None, "*"),
    ],
)
async def test_the_most_specific_pattern_wins(
    receiver: Receiver, client: httpx.AsyncClient, event_type: str | None, expected: str
) -> None:
    recorder = Recorder()
    receiver.on("invoice.paid")(recorder.handler("exact"))
    receiver.on("invoice.*")(recorder.handler("invoice.*"))
    receiver.on("invoice.line.*")(recorder.handler("invoice.line.*"))
    receiver.on("*")(recorder.handler("*"))

    response = await deliver(client, *signed(event(event_type)))

    assert response.json() == {"status": "handled"}
    assert recorder.names == [expected]


async def test_an_event_type_nobody_handles_is_acknowledged(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    recorder = Recorder()
    receiver.on("invoice.*")(recorder.handler("invoice"))

    response = await deliver(client, *signed(event("customer.created")))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert recorder.calls == []


def test_one_handler_may_take_several_patterns_but_a_pattern_only_one_handler(receiver: Receiver) -> None:
    recorder = Recorder()
    receiver.on("a.b", "c.*")(recorder.handler("first"))
    assert receiver.handler_for("c.d") is receiver.handler_for("a.b") is not None
    with pytest.raises(ValueError, match="already has a handler"):
        receiver.on("a.b")(recorder.handler("second"))
    for bad in ("", "a*", "*.b", ".*", "a.*.c"):
        with pytest.raises(ValueError, match=r"pattern|prefix"):
            receiver.on(bad)
    with pytest.raises(ValueError, match="at least one"):
        receiver.on()


async def test_sync_handlers_run_off_the_event_loop_and_async_ones_on_it(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    threads: dict[str, int] = {}

    @receiver.on("sync.event")
    def blocking(webhook: Webhook) -> None:
        threads["sync"] = threading.get_ident()

    @receiver.on("async.event")
    async def non_blocking(webhook: Webhook) -> None:
        threads["async"] = threading.get_ident()

    for event_type in ("sync.event", "async.event"):
        assert (await deliver(client, *signed(event(event_type)))).json() == {"status": "handled"}

    assert threads["async"] == threading.get_ident()
    assert threads["sync"] != threading.get_ident()


async def test_concurrent_copies_of_one_delivery_run_the_handler_once(
    receiver: Receiver, client: httpx.AsyncClient
) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    runs: list[str | None] = []

    @receiver.on("*")
    async def slow(webhook: Webhook) -> None:
        runs.append(webhook.id)
        started.set()
        await release.wait()

    body, headers = signed(event("invoice.paid"))
    first = asyncio.create_task(deliver(client, body, headers))
    await started.wait()
    second = await deliver(client, body, headers)
    release.set()
    handled = await first
    third = await deliver(client, body, headers)

    assert second.status_code == 409
    assert second.json()["status"] == "in_progress"
    assert handled.json() == {"status": "handled"}
    assert third.json() == {"status": "duplicate"}
    assert len(runs) == 1


async def test_a_cancelled_handler_releases_its_claim(receiver: Receiver) -> None:
    started = asyncio.Event()
    runs: list[str] = []

    @receiver.on("*")
    async def hangs(webhook: Webhook) -> None:
        runs.append("run")
        if len(runs) == 1:
            started.set()
            await asyncio.Event().wait()

    body, headers = signed(event("x.y"))
    task = asyncio.create_task(receiver.handle(body, headers))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert (await receiver.handle(body, headers)).result == "handled"
    assert runs == ["run", "run"]


async def test_a_body_over_the_limit_is_refused_with_413() -> None:
    receiver = Receiver(SECRET, max_body_size=100)
    recorder = Recorder()
    receiver.on("*")(recorder.handler("any"))
    body, headers = signed(event("big", blob="x" * 200))
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://receiver") as http:
        declared = await http.post("/", content=body, headers=headers)

    # Without a content-length, the body is counted as it streams in.
    streamed = await call_asgi(receiver, [body[:60], body[60:120], body[120:]], headers)

    assert declared.status_code == 413
    assert declared.json()["code"] == "payload_too_large"
    assert streamed[0]["status"] == 413
    assert recorder.calls == []


async def test_only_post_is_answered(client: httpx.AsyncClient) -> None:
    response = await client.get("/webhooks")
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_a_client_gone_before_the_body_arrived_gets_no_answer(receiver: Receiver) -> None:
    sent: list[Message] = []
    script: list[Message] = [
        {"type": "http.request", "body": b"{", "more_body": True},
        {"type": "http.disconnect"},
    ]
    messages = iter(script)

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    await receiver({"type": "http", "method": "POST", "headers": []}, receive, send)
    assert sent == []


async def test_lifespan_and_websocket_scopes(receiver: Receiver) -> None:
    sent: list[Message] = []
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    await receiver({"type": "lifespan"}, receive, send)
    await receiver({"type": "websocket"}, receive, send)
    assert [m["type"] for m in sent] == [
        "lifespan.startup.complete",
        "lifespan.shutdown.complete",
        "websocket.close",
    ]


async def test_a_static_token_alone_or_beside_the_signature() -> None:
    token_only = Receiver(token="s3cret-token", token_header="x-hook-token")
    both = Receiver(SECRET, token="s3cret-token")
    seen: list[Webhook] = []
    token_only.on("*")(seen.append)
    both.on("*")(seen.append)
    body = orjson.dumps(event("a.b"))

    accepted = await token_only.handle(body, {"x-hook-token": "s3cret-token"})
    refused = await token_only.handle(body, {"x-hook-token": "guess"})
    _, headers = signed(event("a.b"))
    signature_without_token = await both.handle(orjson.dumps(event("a.b")), headers)
    body, headers = signed(event("a.b"))
    with_both = await both.handle(body, {**headers, "authorization": "Bearer s3cret-token"})

    assert (accepted.status, accepted.result) == (200, "handled")
    assert (refused.status, refused.code) == (401, "invalid_token")
    assert (signature_without_token.status, signature_without_token.code) == (401, "invalid_token")
    assert with_both.result == "handled"
    assert [w.id for w in seen] == [None, headers["webhook-id"]]


def test_a_receiver_refuses_to_run_unauthenticated_or_with_a_bad_secret() -> None:
    with pytest.raises(ValueError, match="secret, a static token"):
        Receiver()
    with pytest.raises(InvalidSecret):
        Receiver("whsec_not-base64!")
    with pytest.raises(InvalidSecret):
        Receiver([])


async def test_the_event_type_can_come_from_elsewhere() -> None:
    receiver = Receiver(SECRET, event_type=lambda payload, headers: headers.get("x-event-type"))
    seen: list[str | None] = []

    @receiver.on("order.created")
    async def created(webhook: Webhook) -> None:
        seen.append(webhook.event_type)

    body, headers = signed({"id": 42})  # hookwire sends the raw payload; the type rides in a header
    outcome = await receiver.handle(body, {**headers, "X-Event-Type": "order.created"})

    assert outcome.result == "handled"
    assert seen == ["order.created"]


async def test_a_broken_event_type_getter_answers_500() -> None:
    receiver = Receiver(SECRET, event_type=lambda payload, headers: payload["missing"])
    outcome = await receiver.handle(*signed(event("a.b")))
    assert (outcome.status, outcome.code) == (500, "receiver_error")


async def test_a_failing_deduplicator_answers_503_without_running_the_handler() -> None:
    class Broken:
        async def claim(self, webhook_id: str) -> ClaimResult:
            raise OSError("disk on fire")

        async def complete(self, webhook_id: str) -> None: ...

        async def release(self, webhook_id: str) -> None: ...

    receiver = Receiver(SECRET, deduplicator=Broken())
    calls: list[Webhook] = []
    receiver.on("*")(calls.append)

    outcome = await receiver.handle(*signed(event("a.b")))

    assert (outcome.status, outcome.result) == (503, "unavailable")
    assert calls == []


async def call_asgi(app: Receiver, chunks: list[bytes], headers: dict[str, str]) -> list[Message]:
    """Call the app directly, streaming ``chunks`` without a content-length."""
    messages = iter(
        [
            {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
            for i, chunk in enumerate(chunks)
        ]
    )
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    await app({"type": "http", "method": "POST", "headers": raw}, receive, send)
    return sent
