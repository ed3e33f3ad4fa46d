"""The ingest front answers what it takes as the stack would, and hands the rest to the stack
untouched (the equivalence with the declared route is checked against a real server in
``tests/api/test_ingest.py``)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, MutableMapping
from pathlib import Path
from typing import Any

import pytest

from hookwire import Webhooks
from hookwire.api.context import ServerOptions
from hookwire.api.ingest import MessageIngest
from hookwire.api.metrics import Metrics
from hookwire.api.middleware import ASGIApp, Receive, RequestLog, Scope, Send
from hookwire.core import ids

ADMIN = "hwk_front-test-admin"
BODY = json.dumps({"eventType": "invoice.paid", "payload": {"id": 1}}).encode()


class Stack:
    """Stands for the application behind the front: records what it was handed."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"stack"})


@pytest.fixture
async def hooks(tmp_path: Path) -> AsyncIterator[Webhooks]:
    async with Webhooks(f"sqlite:///{tmp_path}/front.db", worker=False) as opened:
        await opened.apps.create("acme", uid="acme")
        yield opened


def front(hooks: Webhooks, stack: ASGIApp, limit: int = 1024) -> MessageIngest:
    return MessageIngest(
        stack, hooks=hooks, options=ServerOptions(admin_keys=(ADMIN,)), metrics=Metrics(), limit=limit
    )


async def call(
    app: MessageIngest,
    body: bytes,
    *,
    path: str = "/api/v1/app/acme/msg",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[bytes, bytes], bytes]:
    given = {"content-type": "application/json", "authorization": f"Bearer {ADMIN}", **(headers or {})}
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in given.items()],
    }
    chunks = [body[i : i + 100] for i in range(0, len(body), 100)] or [b""]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> MutableMapping[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    sent: list[MutableMapping[str, Any]] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    start, body_message = sent
    return start["status"], dict(start["headers"]), body_message["body"]


async def test_a_usual_message_is_stored_and_answered_with_the_request_id(hooks: Webhooks) -> None:
    stack = Stack()
    status, headers, body = await call(front(hooks, stack), BODY, headers={"x-request-id": "trace-1"})
    assert (status, headers[b"x-request-id"], stack.bodies) == (202, b"trace-1", [])
    stored = await hooks.messages.get("acme", json.loads(body)["id"])
    assert json.loads(stored.payload) == {"id": 1}


@pytest.mark.parametrize(
    ("path", "headers", "body"),
    [
        ("/api/v1/app/acme/endpoint", {}, BODY),  # another route
        ("/api/v1/app/acme/msg", {"idempotency-key": "k1"}, BODY),  # idempotency is the stack's
        ("/api/v1/app/acme/msg", {}, b'{"eventType": "a.b", "payload": {}, "extra": 1}'),  # unusual shape
        ("/api/v1/app/acme/msg", {"content-length": "99999"}, BODY),  # declared over the limit
    ],
)
async def test_anything_else_reaches_the_stack_with_its_whole_body(
    hooks: Webhooks, path: str, headers: dict[str, str], body: bytes
) -> None:
    stack = Stack()
    status, _, answer = await call(front(hooks, stack), body, path=path, headers=headers)
    assert (status, answer, stack.bodies) == (299, b"stack", [body])


async def test_a_request_handed_to_the_stack_keeps_the_id_the_front_gave_it(
    hooks: Webhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []
    make = ids.new_id

    def new_id(prefix: str) -> str:
        made.append(make(prefix))
        return made[-1]

    monkeypatch.setattr(ids, "new_id", new_id)
    stack = RequestLog(Stack())  # the stack echoes and logs the request's id
    unusual = b'{"eventType": "a.b", "payload": {}, "extra": 1}'
    status, headers, _ = await call(front(hooks, stack), unusual)
    assert (status, [headers[b"x-request-id"].decode()]) == (299, made)


async def test_a_body_outgrowing_the_limit_is_413(hooks: Webhooks) -> None:
    stack = Stack()
    status, headers, body = await call(front(hooks, stack, limit=len(BODY) - 1), BODY)
    assert (status, json.loads(body)["code"], stack.bodies) == (413, "payload_too_large", [])
    assert headers[b"x-request-id"].startswith(b"req_")


async def test_a_domain_error_is_answered_as_the_routes_handlers_do(hooks: Webhooks) -> None:
    status, headers, body = await call(front(hooks, Stack()), BODY, headers={"authorization": "Bearer wrong"})
    assert (status, json.loads(body)["code"], headers[b"www-authenticate"]) == (
        401,
        "authentication_failed",
        b"Bearer",
    )


async def test_an_unexpected_error_is_a_logged_500(
    hooks: Webhooks, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk caught fire")

    monkeypatch.setattr(hooks.messages, "accept", broken)
    with caplog.at_level(logging.ERROR, logger="hookwire.api"):
        status, headers, body = await call(front(hooks, Stack()), BODY, headers={"x-request-id": "trace-2"})
    assert (status, json.loads(body)["code"], headers[b"x-request-id"]) == (500, "internal_error", b"trace-2")
    assert "the disk caught fire" in caplog.text
