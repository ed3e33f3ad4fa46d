"""The hot route, ``POST /api/v1/app/{app_id}/msg``, answered in front of the application:
without the middleware stack, FastAPI's routing, dependency injection and request model.

Those cost more than storing the message itself. This front takes a request only when it can
answer exactly as the declared route would: no ``Idempotency-Key`` (idempotency is the
middleware's), a body within the limit whose shape the request model would accept with the
same values. Then it does what the stack would have done for it, with the same functions:
a request id echoed and an access-log line (``RequestLog``), authentication and the message
stored as the route does, errors answered as the route's handlers answer them. Any other
request (another content type, JSON that is not an object, a field it does not know, a value
of another type or length, an application to create, a body over the limit) goes, body and
all, through the whole stack to the declared route, which answers as it always has: 413,
422 details, refusals of unsupported fields, and so on. That route also keeps the operation
in the OpenAPI document.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, TypeGuard

from hookwire.api.context import ServerOptions, authenticate
from hookwire.api.errors import error, hookwire_error
from hookwire.api.metrics import Metrics
from hookwire.api.middleware import (
    ASGIApp,
    BodyTooLarge,
    Receive,
    Scope,
    Send,
    header,
    log_request,
    read_body,
    replay,
    request_id_for,
    too_large_body,
)
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

log = logging.getLogger("hookwire.api")

#: An answer: status, body and headers.
Answer = tuple[int, bytes, list[tuple[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class MessageFields:
    """A request body of the usual shape, as the request model would read it."""

    event_type: str
    payload: dict[str, Any]
    event_id: str | None


class MessageIngest:
    """The front of the API application: answers ``POST /api/v1/app/{app_id}/msg`` of the
    usual shape itself, and hands everything else to ``app``, the application with its stack."""

    def __init__(
        self, app: ASGIApp, *, hooks: Webhooks, options: ServerOptions, metrics: Metrics, limit: int
    ) -> None:
        self.app = app
        self.hooks = hooks
        self.options = options
        self.metrics = metrics
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app_id = app_in_path(scope)
        if app_id is None or header(scope, b"idempotency-key") is not None or self._declared_too_large(scope):
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        started = time.perf_counter()
        try:
            received, body = await read_body(receive, self.limit)
        except BodyTooLarge:
            answer = too_large_body(self.limit)
            headers = [ANSWER_HEADERS, (b"content-length", str(len(answer)).encode())]
            await _send_answer(scope, send, request_id, started, (413, answer, headers))
            return
        fields = None if body is None else message_fields(header(scope, b"content-type"), body)
        if fields is None:
            await self.app(scope, replay(received, receive), send)
            return
        await _send_answer(scope, send, request_id, started, await self._answer(scope, app_id, fields))

    async def _answer(self, scope: Scope, app_id: str, fields: MessageFields) -> Answer:
        """The status, body and headers the declared route and its handlers would answer."""
        try:
            answer = await self._accept(scope, app_id, fields)
        except HookwireError as exc:
            response = hookwire_error(exc)
        except Exception:
            log.exception("unexpected error answering POST %s", scope["path"])
            response = error(500, "internal_error", "an unexpected error occurred; it has been logged")
        else:
            return 202, answer, [(b"content-length", str(len(answer)).encode()), ANSWER_HEADERS]
        return response.status_code, bytes(response.body), response.raw_headers

    async def _accept(self, scope: Scope, app_id: str, fields: MessageFields) -> bytes:
        """The message stored, as the declared route answers it with 202."""
        authorization = (header(scope, b"authorization") or b"").decode("latin-1")
        key = await authenticate(self.hooks, self.options, authorization)
        scope.setdefault("state", {})["key_id"] = key.id
        message = await accept_message(
            self.hooks, key, app_id, fields.event_type, fields.payload, event_id=fields.event_id
        )
        self.metrics.message_accepted()
        return message_json(message)

    def _declared_too_large(self, scope: Scope) -> bool:
        declared = header(scope, b"content-length")
        return declared is not None and (not declared.isdigit() or int(declared) > self.limit)


async def _send_answer(scope: Scope, send: Send, request_id: str, started: float, answer: Answer) -> None:
    """Send ``answer`` with the request's id, and log it, as ``RequestLog`` does for the stack."""
    status, body, headers = answer
    try:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*headers, (b"x-request-id", request_id.encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
    finally:
        log_request(scope, request_id, status, started)


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
