"""The verified :class:`Webhook` handlers receive, and the :class:`Verifier` that makes one.

A :class:`Verifier` holds a receiver's settings (secrets, optional static token, tolerance,
body-size cap, how to find the event type) and turns the raw body and headers of a request
into a :class:`Webhook`, or raises a :class:`~hookwire.core.errors.WebhookVerificationError`
subclass. :func:`http_status` and :func:`error_document` say how to answer those errors; the
ASGI :class:`~hookwire.receiver.app.Receiver` and every framework adapter answer the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, TypedDict

import orjson

from hookwire.core.errors import WebhookVerificationError
from hookwire.core.signing import decode_secret
from hookwire.receiver.verify import (
    DEFAULT_TOLERANCE,
    HeadersLike,
    InvalidBody,
    InvalidToken,
    InvalidVerificationSecret,
    NoMatchingSignature,
    TimestampOutOfTolerance,
    verify,
    verify_token,
)

DEFAULT_MAX_BODY_SIZE: Final = 1024 * 1024
"""Largest request body read, in bytes (hookwire's own payload limit is 1 MiB too)."""

EventTypeGetter = Callable[[Any, Mapping[str, str]], str | None]
"""Finds a webhook's event type from its parsed payload and its (lower-case) headers."""

_AUTHENTICATION_FAILURES: Final = (NoMatchingSignature, TimestampOutOfTolerance, InvalidToken)
_MAX_TIMESTAMP_DIGITS: Final = 12


class BodyTooLarge(WebhookVerificationError):
    """The request body is larger than the receiver accepts."""

    code = "payload_too_large"


def type_field(payload: Any, headers: Mapping[str, str]) -> str | None:
    """The default event-type getter: the payload's top-level ``"type"`` string.

    Standard Webhooks recommends, and Svix sends, ``{"type": ..., "timestamp": ..., "data": ...}``.
    hookwire sends the payload it was given as is, so include ``"type"`` in it, or pass another
    getter (e.g. one reading a custom header).
    """
    value = payload.get("type") if isinstance(payload, dict) else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Webhook:
    """One verified incoming webhook.

    Attributes:
        id: ``webhook-id`` (or ``svix-id``): the message id, the same on every retry. Always
            set when a signature was verified; ``None`` only for a token-checked request
            without one.
        timestamp: ``webhook-timestamp`` as an aware UTC datetime: when this attempt was sent.
        event_type: what the event-type getter found, ``None`` if nothing.
        payload: the parsed JSON body.
        headers: every request header, names in lower case, read-only. A repeated header's
            distinct values are joined with ``", "``.
    """

    id: str | None
    timestamp: datetime | None
    event_type: str | None
    payload: Any
    headers: Mapping[str, str]


class VerifierOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Verifier` besides the secret, for adapters to pass on."""

    token: str | None
    token_header: str
    tolerance: int
    event_type: EventTypeGetter
    max_body_size: int


class Verifier:
    """Checks requests and turns them into :class:`Webhook` values.

    Args:
        secret: the endpoint's ``whsec_`` secret, or several while a rotation is under way.
        token: a static token the sender puts in ``token_header`` (bare or ``Bearer``); checked
            in addition to the signature when both are given.
        token_header: the header carrying ``token``.
        tolerance: seconds ``webhook-timestamp`` may differ from now, either way.
        event_type: finds the event type; the default reads the payload's ``"type"``.
        max_body_size: the largest body accepted, in bytes.

    Raises:
        ValueError: neither ``secret`` nor ``token`` is given, or a number is not positive.
        InvalidSecret: a secret is not a valid ``whsec_`` secret (found here, not per request).
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
    ) -> None:
        self.secrets = _check_secrets(secret)
        if not self.secrets and token is None:
            # Accepting unauthenticated webhooks must never be what a missing argument does.
            raise ValueError("give the endpoint's secret, a static token, or both")
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("token must be a non-empty string")
        if type(tolerance) is not int or tolerance <= 0:
            raise ValueError("tolerance must be a positive int of seconds")
        if type(max_body_size) is not int or max_body_size <= 0:
            raise ValueError("max_body_size must be a positive int of bytes")
        self.token = token
        self.token_header = token_header
        self.tolerance = tolerance
        self.event_type = event_type
        self.max_body_size = max_body_size

    def read(self, body: bytes, headers: HeadersLike, *, now: datetime | None = None) -> Webhook:
        """Verify a request and return it as a :class:`Webhook`.

        Args:
            body: the raw request body.
            headers: the request headers (see :data:`~hookwire.receiver.verify.HeadersLike`);
                they must also be iterable as ``(name, value)`` pairs or via ``items()``.
            now: the current time for the tolerance check; defaults to the system clock.

        Raises:
            WebhookVerificationError: a subclass saying what is wrong with the request.
            TypeError: the event-type getter returned something other than ``str`` or ``None``.
        """
        if len(body) > self.max_body_size:
            raise BodyTooLarge(f"the body is larger than {self.max_body_size} bytes")
        if self.token is not None:
            verify_token(headers, self.token, header=self.token_header)
        if self.secrets:
            payload = verify(body, headers, self.secrets, tolerance=self.tolerance, now=now)
        else:
            payload = _parse_json(body)
        header_map = header_mapping(headers)
        event_type = self.event_type(payload, header_map)
        if event_type is not None and not isinstance(event_type, str):
            raise TypeError(f"the event_type getter returned {type(event_type).__name__}, not str")
        return Webhook(
            id=header_map.get("webhook-id") or header_map.get("svix-id"),
            timestamp=_timestamp(header_map.get("webhook-timestamp") or header_map.get("svix-timestamp")),
            event_type=event_type,
            payload=payload,
            headers=header_map,
        )

    def check_content_length(self, value: str | int | None) -> None:
        """Refuse a declared ``content-length`` above the cap before reading anything.

        Raises:
            BodyTooLarge: the declared length is above ``max_body_size``.
        """
        try:
            declared = int(value) if value is not None else 0
        except ValueError:
            return  # the server refuses a broken content-length; reading stays capped anyway
        if declared > self.max_body_size:
            raise BodyTooLarge(f"the body is larger than {self.max_body_size} bytes")

    async def read_body(self, chunks: AsyncIterable[bytes]) -> bytes:
        """Collect a streamed body, stopping as soon as it passes ``max_body_size``.

        Raises:
            BodyTooLarge: the body is larger than ``max_body_size``.
        """
        parts: list[bytes] = []
        size = 0
        async for chunk in chunks:
            size += len(chunk)
            if size > self.max_body_size:
                raise BodyTooLarge(f"the body is larger than {self.max_body_size} bytes")
            parts.append(chunk)
        return b"".join(parts)


def http_status(error: WebhookVerificationError) -> int:
    """The status code to answer a failed verification with.

    401 when the request is not authentic (signature, token, timestamp outside the window),
    413 when the body is too large, 500 for the receiver's own unusable secret (the sender
    should retry once it is fixed), 400 for every other malformed request.
    """
    if isinstance(error, BodyTooLarge):
        return 413
    if isinstance(error, InvalidVerificationSecret):
        return 500
    if isinstance(error, _AUTHENTICATION_FAILURES):
        return 401
    return 400


def error_document(error: WebhookVerificationError) -> dict[str, str]:
    """The JSON answer to a failed verification: ``status``, machine-readable ``code``, ``detail``.

    The detail never holds a secret; it says which check failed, to help whoever debugs the
    sender.
    """
    return {"status": "rejected", "code": error.code, "detail": error.message}


def header_mapping(headers: HeadersLike) -> Mapping[str, str]:
    """Request headers as a read-only ``{lower-case name: value}`` mapping.

    Accepts anything with ``items()`` (dict, Django, Starlette, werkzeug, multidict, email) or
    an iterable of ``(name, value)`` pairs, ``str`` or ``bytes`` (ASGI). Distinct values of a
    repeated header are joined with ``", "`` (RFC 9110 section 5.3); identical repeats collapse.
    """
    items = getattr(headers, "items", None)
    pairs: Any = items() if callable(items) else headers
    if not _is_iterable(pairs):
        raise TypeError(f"headers must offer items() or (name, value) pairs, not {type(headers).__name__}")
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        key = _text(name).lower()
        seen = values.setdefault(key, [])
        text = _text(value)
        if text not in seen:
            seen.append(text)
    return MappingProxyType({name: ", ".join(texts) for name, texts in values.items()})


def _is_iterable(value: object) -> bool:
    return hasattr(value, "__iter__") and not isinstance(value, str | bytes)


def _text(value: object) -> str:
    # ASGI header bytes are Latin-1 by specification.
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def _check_secrets(secret: str | Sequence[str] | None) -> tuple[str, ...]:
    if secret is None:
        return ()
    secrets = (secret,) if isinstance(secret, str) else tuple(secret)
    if not secrets:
        raise InvalidVerificationSecret("at least one webhook secret is required")
    for item in secrets:
        decode_secret(item)  # a bad secret is a deployment error: fail at start-up, not per request
    return secrets


def _parse_json(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidBody(f"body is not valid UTF-8 JSON: {exc}") from exc


def _timestamp(text: str | None) -> datetime | None:
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > _MAX_TIMESTAMP_DIGITS:
        return None
    return datetime.fromtimestamp(int(text), UTC)
