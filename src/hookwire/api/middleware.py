"""ASGI middleware of the API: request ids and access logs, the body size limit, idempotency."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

import orjson

from hookwire.core import ids
from hookwire.core.errors import HookwireError, StoreError
from hookwire.service.webhooks import Webhooks

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

access = logging.getLogger("hookwire.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,128}")


async def respond(
    send: Send, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
    await send({"type": "http.response.body", "body": body})


def error_body(code: str, detail: str) -> bytes:
    return orjson.dumps({"code": code, "detail": detail})


def too_large_body(limit: int) -> bytes:
    """The 413 answer's body for a request body over ``limit`` bytes."""
    return error_body("payload_too_large", f"the body exceeds {limit} bytes")


def header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class RequestLog:
    """Give every request an id (the caller's ``X-Request-Id`` if sane), echo it, and log one
    structured line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            log_request(scope, request_id, status, started)


def request_id_for(scope: Scope) -> str:
    """The request's id, the caller's ``X-Request-Id`` if sane, noted in the scope's state.

    Asked again for the same request (the ingest front hands a request it does not take to the
    stack), it is the id already given, not a second one."""
    state = scope.setdefault("state", {})
    known: str | None = state.get("request_id")
    if known is not None:
        return known
    given = (header(scope, b"x-request-id") or b"").decode("latin-1")
    request_id = given if _REQUEST_ID.fullmatch(given) else ids.new_id("req")
    state["request_id"] = request_id
    return request_id


def log_request(scope: Scope, request_id: str, status: int, started: float) -> None:
    """The access log's line for a request answered with ``status``."""
    if not access.isEnabledFor(logging.INFO):
        return  # spare building the record's fields
    access.info(
        "request",
        extra={
            "request_id": request_id,
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )


class BodyLimit:
    """Refuse bodies over the limit with 413 before they are read into memory.

    A body that declares its length is refused on the declaration, and counted as it is read
    all the same. One that does not (chunked) is read here, up to the limit, before the route
    sees it: found too large only while the route reads it, it would be that route's error
    (FastAPI answers 400, "error parsing the body"), not a 413.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is None:
            try:
                received, _ = await read_body(receive, self.limit)
            except BodyTooLarge:
                await self._refuse(send)
                return
            await self.app(scope, replay(received, receive), send)
            return
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                raise BodyTooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except BodyTooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await respond(send, 413, too_large_body(self.limit))


class BodyTooLarge(Exception):
    """The body outgrew the limit while it was read."""


async def read_body(receive: Receive, limit: int) -> tuple[list[Message], bytes | None]:
    """Every message received up to the end of the body, and the body (``None`` when the
    client went away first); ``BodyTooLarge`` as soon as the body outgrows ``limit``."""
    received: list[Message] = []
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        size += len(message.get("body", b""))
        if size > limit:
            raise BodyTooLarge
        if not message.get("more_body", False):
            break
    if len(received) == 1:
        return received, received[0].get("body", b"")
    return received, b"".join(m.get("body", b"") for m in received)


def replay(received: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives what was already read, then whatever comes next."""
    pending: Iterator[Message] = iter(received)

    async def replayed() -> Message:
        for message in pending:
            return message
        return await receive()

    return replayed


class Idempotency:
    """``Idempotency-Key`` on POST: the first request runs, repeats (even concurrent ones) get its
    answer for 24 hours. Keys are scoped to the caller's credentials."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = header(scope, b"idempotency-key") if scope["type"] == "http" else None
        if key is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        if not 1 <= len(key) <= 256:
            await respond(
                send, 400, error_body("invalid_idempotency_key", "Idempotency-Key must be 1-256 bytes")
            )
            return
        body = await _read_body(receive)
        caller = hashlib.sha256(header(scope, b"authorization") or b"").hexdigest()[:32]
        fingerprint = hashlib.sha256(
            b"\n".join(
                [scope["method"].encode(), scope["path"].encode(), scope.get("query_string", b""), body]
            )
        ).hexdigest()
        hooks: Webhooks = scope["app"].state.hooks
        ran = False

        async def compute() -> tuple[int, bytes]:
            nonlocal ran
            ran = True
            return await _capture(self.app, scope, body)

        try:
            status, answer = await hooks.idempotency.run_once(f"{caller}:{key.hex()}", fingerprint, compute)
        except StoreError:
            await respond(
                send, 503, error_body("database_unavailable", "the database is unavailable; retry shortly")
            )
            return
        except HookwireError as exc:
            await respond(send, 409, error_body(exc.code, exc.message))
            return
        replayed = [] if ran else [(b"idempotent-replayed", b"true")]
        await respond(send, status, answer, replayed)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _capture(app: ASGIApp, scope: Scope, body: bytes) -> tuple[int, bytes]:
    sent = False
    status = 500
    chunks: list[bytes] = []

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def collect(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, replay, collect)
    return status, b"".join(chunks)
