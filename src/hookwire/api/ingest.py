"""The hot route, ``POST /api/v1/app/{app_id}/msg``, answered without FastAPI's routing,
dependency injection and request model.

Those cost about twice the work of storing the message itself. This middleware sits inside
the others (request log, body limit, idempotency), so they apply as to every route. It takes
a request only when its body has the usual shape, one the request model would accept with
the same values; then it authenticates and stores the message with the very functions the
declared route uses, and answers as that route does. Any other request (another content
type, JSON that is not an object, a field it does not know, a value of another type or
length, an application to create) is handed, body and all, to the declared route, which
answers it as it always has: 422 details, refusals of unsupported fields, and so on. That
route also keeps the operation in the OpenAPI document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeGuard

from hookwire.api.context import ServerOptions, authenticate
from hookwire.api.errors import hookwire_error
from hookwire.api.metrics import Metrics
from hookwire.api.middleware import ASGIApp, Message, Receive, Scope, Send, header
from hookwire.api.routes.messages import accept_message, message_json
from hookwire.core.errors import HookwireError
from hookwire.service.webhooks import Webhooks

PREFIX = "/api/v1/app/"
SUFFIX = "/msg"
# What FastAPI reads as JSON is any application/json or application/*+json type; these are the
# spellings clients send, and any other goes to the route, which decides as it always has.
JSON_TYPES = frozenset((b"application/json", b"application/json; charset=utf-8"))
# The request model's bounds (schemas.MessageIn): a value outside them is the route's 422.
MAX_EVENT_TYPE = 256
MAX_EVENT_ID = 256
# Fields of MessageIn that the route refuses or ignores unless left out or null.
NULL_ONLY = frozenset(
    (
        "application",
        "channels",
        "tags",
        "payloadRetentionPeriod",
        "payloadRetentionHours",
        "deliverAt",
        "transformationsParams",
    )
)
ANSWER_HEADERS = (b"content-type", b"application/json")


@dataclass(frozen=True, slots=True)
class MessageFields:
    """A request body of the usual shape, as the request model would read it."""

    event_type: str
    payload: dict[str, Any]
    event_id: str | None


class MessageIngest:
    """ASGI middleware answering ``POST /api/v1/app/{app_id}/msg`` of the usual shape."""

    def __init__(self, app: ASGIApp, *, hooks: Webhooks, options: ServerOptions, metrics: Metrics) -> None:
        self.app = app
        self.hooks = hooks
        self.options = options
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app_id = app_in_path(scope)
        if app_id is None:
            await self.app(scope, receive, send)
            return
        received, body = await _read_body(receive)
        fields = None if body is None else message_fields(header(scope, b"content-type"), body)
        if fields is None:
            await self.app(scope, _replay(received, receive), send)
            return
        try:
            authorization = (header(scope, b"authorization") or b"").decode("latin-1")
            key = await authenticate(self.hooks, self.options, authorization)
            scope.setdefault("state", {})["key_id"] = key.id
            message = await accept_message(
                self.hooks, key, app_id, fields.event_type, fields.payload, event_id=fields.event_id
            )
        except HookwireError as exc:
            await hookwire_error(exc)(scope, receive, send)
            return
        self.metrics.message_accepted()
        answer = message_json(message)
        # The headers, in their order, of the route's Response(media_type="application/json").
        headers = [(b"content-length", str(len(answer)).encode()), ANSWER_HEADERS]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def app_in_path(scope: Scope) -> str | None:
    """The ``{app_id}`` of a ``POST`` to the route, as Starlette's router would match it
    (a path segment of at least one character), else ``None``."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None  # under a root path, leave matching to the router, which knows the rules
    path: str = scope["path"]
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    app_id = path[len(PREFIX) : -len(SUFFIX)]
    return app_id if app_id and "/" not in app_id else None


def message_fields(content_type: bytes | None, body: bytes) -> MessageFields | None:
    """The fields of a body the request model would accept with exactly these values, or
    ``None`` for any body whose answer is the route's to give."""
    if content_type not in JSON_TYPES:
        return None
    try:
        # The standard library's parser, as FastAPI's: orjson reads integers past 64 bits as
        # floats, which would store a different payload than the route does.
        data = json.loads(body)
    except Exception:  # bad JSON, bad UTF-8, nesting past the recursion limit: the route's call
        return None
    if type(data) is not dict:
        return None
    event_type = data.get("eventType")
    payload = data.get("payload")
    event_id = data.get("eventId")
    if not (
        _text(event_type, MAX_EVENT_TYPE)
        and type(payload) is dict
        and (event_id is None or _text(event_id, MAX_EVENT_ID))
        and all(_usual(name, value) for name, value in data.items())
    ):
        return None
    return MessageFields(event_type, payload, event_id)


def _text(value: object, limit: int) -> TypeGuard[str]:
    # ASCII only: the model refuses strings with lone surrogates (422) where the service would
    # answer 400, and a valid event type or event id is ASCII anyway.
    return type(value) is str and 1 <= len(value) <= limit and value.isascii()


def _usual(name: str, value: object) -> bool:
    # Snake-case names are valid too (the model populates by name), but rare: the route reads them.
    return name in ("eventType", "payload", "eventId") or (name in NULL_ONLY and value is None)


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """Every message received up to the end of the body, and the body (``None`` when the
    client went away first)."""
    received: list[Message] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return received, None
        if not message.get("more_body", False):
            break
    if len(received) == 1:
        return received, received[0].get("body", b"")
    return received, b"".join(m.get("body", b"") for m in received)


def _replay(received: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that gives the route what was already read, then whatever comes next."""
    pending: Iterator[Message] = iter(received)

    async def replay() -> Message:
        for message in pending:
            return message
        return await receive()

    return replay
