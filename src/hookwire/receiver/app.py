"""``Receiver``: an ASGI application that verifies, de-duplicates and dispatches webhooks.

Pure ASGI, so it runs under any ASGI server and mounts into Starlette, FastAPI, Litestar or
Django's ASGI routing; :meth:`Receiver.handle` is the same pipeline without ASGI, for the Flask
and Django adapters and ``hookwire listen``. What it answers, and why:

==========  ================  ===========================================================
status      ``status`` field  when
==========  ================  ===========================================================
200         ``handled``       the handler returned
200         ``duplicate``     this ``webhook-id`` was handled before: the handler does not run
200         ``ignored``       no handler matches the event type (2xx, or the sender retries
                              for days an event nobody will ever handle)
400 / 401   ``rejected``      malformed (400) or not authentic (401); no handler runs
405         ``rejected``      not a POST
409         ``in_progress``   another delivery of this id is being handled right now
410         ``unsubscribed``  the handler raised :class:`Unsubscribe`: senders disable the
                              endpoint
413         ``rejected``      the body is larger than ``max_body_size``
500         ``failed``        the handler raised: the sender retries, and the retry runs it
503         ``unavailable``   the de-duplication store failed: the sender retries
==========  ================  ===========================================================

Every answer is a small JSON document: ``{"status": ...}``, plus ``code`` and ``detail`` when
something went wrong. Senders store the first bytes of responses (hookwire shows them per
attempt), so ``duplicate`` and ``ignored`` are visible where the sender's operator looks.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeVar

import orjson

from hookwire.core.errors import HookwireError, WebhookVerificationError
from hookwire.receiver.dedupe import ClaimResult, Deduplicator, MemoryDeduplicator
from hookwire.receiver.verify import DEFAULT_TOLERANCE, HeadersLike
from hookwire.receiver.webhook import (
    DEFAULT_MAX_BODY_SIZE,
    BodyTooLarge,
    EventTypeGetter,
    Verifier,
    Webhook,
    error_document,
    http_status,
    type_field,
)

log = logging.getLogger("hookwire.receiver")

Result = Literal[
    "handled", "duplicate", "ignored", "in_progress", "rejected", "failed", "unsubscribed", "unavailable"
]
"""What happened to a request; the ``status`` field of every answer."""

Handler = Callable[[Webhook], object]
"""A function of one :class:`Webhook`, ``def`` or ``async def``; its return value is ignored."""

SyncRunner = Callable[[Callable[[Webhook], object], Webhook], Awaitable[object]]
"""Runs a synchronous handler from async code; the default uses a worker thread."""

H = TypeVar("H", bound=Handler)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class Unsubscribe(HookwireError):
    """Raise from a handler to answer ``410 Gone``.

    hookwire and Svix disable an endpoint that answers 410, so no more webhooks come.
    The webhook's id is not recorded as handled: if the endpoint is enabled again and the
    webhook re-sent, the handler decides anew.
    """

    code = "unsubscribed"

    def __init__(self, message: str = "the receiver asked to unsubscribe") -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the receiver did with one request, and what to answer.

    Attributes:
        status: the HTTP status code.
        result: what happened; the answer's ``status`` field.
        code: a machine-readable error code, when something went wrong.
        detail: a human-readable explanation for whoever debugs the sender.
        webhook: the verified webhook, when verification passed.
        headers: extra response headers (``allow`` on a 405).
    """

    status: int
    result: Result
    code: str | None = None
    detail: str | None = None
    webhook: Webhook | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def rejection(cls, error: WebhookVerificationError) -> Outcome:
        """The answer to a request that failed verification; see :func:`http_status`."""
        document = error_document(error)
        return cls(http_status(error), "rejected", code=document["code"], detail=document["detail"])

    @property
    def document(self) -> dict[str, str]:
        """The JSON answer as a dict."""
        document: dict[str, str] = {"status": self.result}
        if self.code is not None:
            document["code"] = self.code
        if self.detail is not None:
            document["detail"] = self.detail
        return document

    @property
    def body(self) -> bytes:
        """The JSON answer, encoded."""
        return orjson.dumps(self.document)


METHOD_NOT_ALLOWED: Final = Outcome(
    405, "rejected", code="method_not_allowed", detail="webhooks are POSTed", headers=(("allow", "POST"),)
)
"""The answer to anything but a POST."""


class _Disconnected(Exception):
    """The client went away before the body arrived; there is no one to answer."""


class Receiver:
    """An ASGI application receiving webhooks: verify, de-duplicate by ``webhook-id``, dispatch.

    Example::

        receiver = Receiver(os.environ["WEBHOOK_SECRET"])

        @receiver.on("invoice.paid")
        async def invoice_paid(webhook: Webhook) -> None:
            ...

    Args:
        secret: the endpoint's ``whsec_`` secret, or a list during a rotation.
        token: a static token to check in ``token_header`` as well as, or instead of, the
            signature (for senders that send one).
        token_header: the header carrying ``token``.
        tolerance: seconds ``webhook-timestamp`` may differ from now, either way.
        event_type: ``(payload, headers) -> str | None``; the default reads the payload's
            top-level ``"type"``.
        max_body_size: the largest body read, in bytes; a larger one is answered 413.
        deduplicator: where handled ids are recorded; a :class:`MemoryDeduplicator` by
            default. Use a shared one (``SQLiteDeduplicator``) when several processes receive.

    Raises:
        ValueError: neither ``secret`` nor ``token`` is given.
        InvalidSecret: a secret is not a valid ``whsec_`` secret.
    """

    def __init__(
        self,
        secret: str | Sequence[str] | None = None,
        *,
        token: str | None = None,
        token_header: str = "authorization",  # noqa: S107 - a header name, not a secret
        tolerance: int = DEFAULT_TOLERANCE,
        event_type: EventTypeGetter = type_field,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        deduplicator: Deduplicator | None = None,
    ) -> None:
        self.verifier = Verifier(
            secret,
            token=token,
            token_header=token_header,
            tolerance=tolerance,
            event_type=event_type,
            max_body_size=max_body_size,
        )
        self.deduplicator: Deduplicator = deduplicator if deduplicator is not None else MemoryDeduplicator()
        self._exact: dict[str, Handler] = {}
        self._prefixes: dict[str, Handler] = {}  # "invoice." for the pattern "invoice.*"
        self._any: Handler | None = None

    def on(self, *event_types: str) -> Callable[[H], H]:
        """Register the decorated function as the handler of these event types.

        A pattern is an event type (``"invoice.paid"``), a prefix (``"invoice.*"``: every type
        starting ``invoice.``) or ``"*"`` (every webhook, including those without a type).
        Each webhook runs one handler, the most specific: exact, then the longest prefix,
        then ``"*"``. Synchronous handlers run in a worker thread, off the event loop.

        Raises:
            ValueError: no pattern, a malformed one, or one that already has a handler.
        """
        if not event_types:
            raise ValueError("name at least one event type, prefix.* pattern or '*'")
        for pattern in event_types:
            _check_pattern(pattern)

        def register(handler: H) -> H:
            for pattern in event_types:
                self._add(pattern, handler)
            return handler

        return register

    def handler_for(self, event_type: str | None) -> Handler | None:
        """The handler a webhook of ``event_type`` runs, or ``None``."""
        if event_type is not None:
            handler = self._exact.get(event_type)
            if handler is not None:
                return handler
            parts = event_type.split(".")
            for end in range(len(parts) - 1, 0, -1):
                handler = self._prefixes.get(".".join(parts[:end]) + ".")
                if handler is not None:
                    return handler
        return self._any

    async def handle(
        self, body: bytes, headers: HeadersLike, *, run_sync: SyncRunner | None = None
    ) -> Outcome:
        """Verify, de-duplicate and dispatch one request; never raises for a bad request.

        Args:
            body: the raw request body.
            headers: the request headers.
            run_sync: how to run a synchronous handler; by default in a worker thread. The
                Flask and Django adapters pass their own, to keep the framework's context.

        Returns:
            What happened and what to answer.
        """
        try:
            webhook = self.verifier.read(body, headers)
        except WebhookVerificationError as exc:
            return Outcome.rejection(exc)
        except Exception:  # a broken event_type getter: the application must fix it; the sender retries
            log.exception("reading an incoming webhook failed")
            return Outcome(500, "failed", code="receiver_error", detail="the receiver failed")
        handler = self.handler_for(webhook.event_type)
        if handler is None:
            return Outcome(200, "ignored", webhook=webhook)
        runner = run_sync if run_sync is not None else _in_thread
        if webhook.id is None:  # only a token-checked request can lack one: nothing to key on
            return await _run(handler, webhook, runner)
        return await self._run_once(handler, webhook, webhook.id, runner)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            raise RuntimeError(f"the receiver does not speak ASGI {scope['type']!r}")
        try:
            outcome = await self._receive_http(scope, receive)
        except _Disconnected:
            return
        await _respond(send, outcome)

    def _add(self, pattern: str, handler: Handler) -> None:
        if pattern == "*":
            if self._any is not None:
                raise ValueError("'*' already has a handler")
            self._any = handler
            return
        table, key = (self._prefixes, pattern[:-1]) if pattern.endswith(".*") else (self._exact, pattern)
        if key in table:
            raise ValueError(f"{pattern!r} already has a handler")
        table[key] = handler

    async def _run_once(
        self, handler: Handler, webhook: Webhook, webhook_id: str, runner: SyncRunner
    ) -> Outcome:
        # Claim before running, so that a concurrent copy of this delivery sees IN_PROGRESS
        # rather than running the handler a second time.
        try:
            claim = await self.deduplicator.claim(webhook_id)
        except Exception:
            log.exception("the de-duplication store failed to claim webhook %s", webhook_id)
            return Outcome(503, "unavailable", code="deduplicator_error", detail="try again later")
        if claim is ClaimResult.DONE:
            return Outcome(200, "duplicate", webhook=webhook)
        if claim is ClaimResult.IN_PROGRESS:
            return Outcome(
                409,
                "in_progress",
                code="in_progress",
                detail="this webhook is being handled",
                webhook=webhook,
            )
        try:
            outcome = await _run(handler, webhook, runner)
        except BaseException:  # cancelled mid-handler: the work may be unfinished, let a retry redo it
            await self._settle(self.deduplicator.release, webhook_id)
            raise
        if outcome.result == "handled":
            await self._settle(self.deduplicator.complete, webhook_id)
        else:
            await self._settle(self.deduplicator.release, webhook_id)
        return outcome

    async def _settle(self, action: Callable[[str], Awaitable[None]], webhook_id: str) -> None:
        # The handler's verdict stands even if recording it fails: the claim then lapses with
        # its lease and a retry may run the handler again, which at-least-once allows.
        try:
            await action(webhook_id)
        except Exception:
            log.exception("the de-duplication store failed to record webhook %s", webhook_id)

    async def _receive_http(self, scope: Scope, receive: Receive) -> Outcome:
        if scope["method"] != "POST":
            return METHOD_NOT_ALLOWED
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        try:
            self.verifier.check_content_length(_content_length(headers))
            body = await self.verifier.read_body(_body_chunks(receive))
        except BodyTooLarge as exc:
            return Outcome.rejection(exc)
        return await self.handle(body, headers)


async def _run(handler: Handler, webhook: Webhook, runner: SyncRunner) -> Outcome:
    try:
        if _is_async(handler):
            result = handler(webhook)
        else:
            result = await runner(handler, webhook)
        if inspect.isawaitable(result):  # an async handler, or a sync one returning a coroutine
            await result
    except Unsubscribe as exc:
        return Outcome(410, "unsubscribed", code=exc.code, detail=exc.message, webhook=webhook)
    except Exception:
        log.exception("the handler of webhook %s (%s) failed", webhook.id, webhook.event_type)
        # The exception text stays in the log: it may hold internals the sender must not see.
        return Outcome(500, "failed", code="handler_failed", detail="the handler failed", webhook=webhook)
    return Outcome(200, "handled", webhook=webhook)


async def _in_thread(handler: Callable[[Webhook], object], webhook: Webhook) -> object:
    return await asyncio.to_thread(handler, webhook)


def _is_async(handler: object) -> bool:
    return inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
        getattr(handler, "__call__", None)  # noqa: B004 - an object whose __call__ is async
    )


def _check_pattern(pattern: object) -> None:
    if not isinstance(pattern, str) or not pattern:
        raise ValueError("an event-type pattern is a non-empty string")
    if pattern == "*":
        return
    name = pattern[:-2] if pattern.endswith(".*") else pattern
    if not name or "*" in name:
        raise ValueError(f"{pattern!r}: use an event type, 'prefix.*' or '*'")


def _content_length(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name.lower() == b"content-length":
            return value.decode("latin-1")
    return None


async def _body_chunks(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        yield message.get("body", b"")
        if not message.get("more_body", False):
            return


async def _respond(send: Send, outcome: Outcome) -> None:
    body = outcome.body
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        *((name.encode("latin-1"), value.encode("latin-1")) for name, value in outcome.headers),
    ]
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to set up; answering lets the receiver run as the top-level app of a server.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
