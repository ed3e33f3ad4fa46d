"""Verify incoming webhooks: Standard Webhooks signatures and plain shared tokens.

Every problem with the request itself (headers, signature, timestamp, body) is reported as a
subclass of :class:`~hookwire.core.errors.WebhookVerificationError`, so a receiver needs one
``except`` clause to answer 4xx, and never sees a ``ValueError``, ``binascii.Error``,
``UnicodeDecodeError`` or JSON error from a hostile request::

    WebhookVerificationError            (hookwire.core.errors)
    ├── MissingHeader                   a required header is absent
    ├── DuplicateHeader                 a header appears twice with different values
    ├── MalformedHeader                 a header value breaks the spec's syntax
    ├── TimestampOutOfTolerance         webhook-timestamp too far in the past or future
    ├── NoMatchingSignature             no v1 signature matches any secret
    ├── InvalidBody                     signed, but not UTF-8 JSON
    ├── InvalidToken                    static token header missing or different
    └── InvalidVerificationSecret       the receiver's own secret is unusable
                                        (also an InvalidSecret, hence a ValidationError)

``InvalidVerificationSecret`` derives from both ``WebhookVerificationError`` and
:class:`~hookwire.core.signing.InvalidSecret`: ``except WebhookVerificationError`` still
covers everything :func:`verify` raises on purpose, while a receiver that wants to answer 500
for its own misconfiguration rather than 401 catches ``InvalidSecret`` first. It is raised
``from`` the original error.

``ValueError`` and ``TypeError`` are kept for programmer errors in the arguments (a naive
``now``, a non-positive tolerance, a ``str`` body, a ``headers`` object that is not headers).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol, TypeAlias

import orjson

from hookwire.core.errors import WebhookVerificationError
from hookwire.core.signing import InvalidSecret, decode_secret

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_HEADER_LENGTH",
    "MAX_SIGNATURES",
    "DuplicateHeader",
    "HeadersLike",
    "InvalidBody",
    "InvalidToken",
    "InvalidVerificationSecret",
    "MalformedHeader",
    "MissingHeader",
    "NoMatchingSignature",
    "TimestampOutOfTolerance",
    "verify",
    "verify_token",
]

DEFAULT_TOLERANCE: Final = 300
"""Seconds a ``webhook-timestamp`` may differ from now, either way (spec: 5 minutes)."""

MAX_HEADER_LENGTH: Final = 8192
"""Longest header value looked at; common HTTP servers cap a header line at 8 KiB too."""

MAX_SIGNATURES: Final = 64
"""Most ``webhook-signature`` entries accepted, bounding the HMAC comparisons per request."""

# Twelve digits reach the year 33658; longer values are noise, and refusing them before int()
# keeps hostile input away from big-number parsing.
_MAX_TIMESTAMP_DIGITS: Final = 12
_V1_SIGNATURE_BYTES: Final = 32  # HMAC-SHA256

# Svix sends svix-* headers (and recent versions webhook-* as well); the svix library reads
# either, so we do too, treating the two names as one header.
_ID_HEADERS: Final = ("webhook-id", "svix-id")
_TIMESTAMP_HEADERS: Final = ("webhook-timestamp", "svix-timestamp")
_SIGNATURE_HEADERS: Final = ("webhook-signature", "svix-signature")
_SIGNED_HEADERS: Final = frozenset(_ID_HEADERS + _TIMESTAMP_HEADERS + _SIGNATURE_HEADERS)

# Multi-value header containers and the method each offers: aiohttp/multidict ``getall``,
# starlette and werkzeug ``getlist``, the standard library's email.message ``get_all``
# (http.server, urllib) and httpx ``get_list``.
_MULTI_VALUE_GETTERS: Final = ("getall", "getlist", "get_all", "get_list")


class MissingHeader(WebhookVerificationError):
    """A required header is absent."""

    code = "missing_header"


class DuplicateHeader(WebhookVerificationError):
    """A header appears more than once with different values, so its meaning is ambiguous."""

    code = "duplicate_header"


class MalformedHeader(WebhookVerificationError):
    """A header value is empty, too long, not visible ASCII, or breaks the spec's syntax."""

    code = "malformed_header"


class TimestampOutOfTolerance(WebhookVerificationError):
    """``webhook-timestamp`` is too old (a possible replay) or too far in the future."""

    code = "timestamp_out_of_tolerance"


class NoMatchingSignature(WebhookVerificationError):
    """No ``v1`` signature in the header matches any of the receiver's secrets."""

    code = "no_matching_signature"


class InvalidBody(WebhookVerificationError):
    """The body is authentic but is not UTF-8 JSON."""

    code = "invalid_body"


class InvalidToken(WebhookVerificationError):
    """The static token header is missing or holds a different token."""

    code = "invalid_token"


class InvalidVerificationSecret(InvalidSecret, WebhookVerificationError):
    """A secret given to :func:`verify` is unusable: a receiver misconfiguration.

    Catchable both as :class:`~hookwire.core.signing.InvalidSecret` and as
    :class:`~hookwire.core.errors.WebhookVerificationError`; its ``code`` is
    ``"invalid_secret"``.
    """


class _MultiDictHeaders(Protocol):
    def getall(self, key: str, /) -> object: ...


class _StarletteHeaders(Protocol):  # werkzeug's Headers too
    def getlist(self, key: str, /) -> object: ...


class _EmailHeaders(Protocol):
    def get_all(self, key: str, /) -> object: ...


class _HttpxHeaders(Protocol):
    def get_list(self, key: str, /) -> object: ...


HeadersLike: TypeAlias = (
    Mapping[str, str]
    | Iterable[tuple[str, str]]
    | Iterable[tuple[bytes, bytes]]
    | _MultiDictHeaders
    | _StarletteHeaders
    | _EmailHeaders
    | _HttpxHeaders
)
"""Request headers in any usual shape.

* a mapping (``dict``, Django's ``request.headers``): names are matched case-insensitively;
* a sequence of ``(name, value)`` pairs, ``str`` or ``bytes`` (decoded as Latin-1, as ASGI's
  ``scope["headers"]`` requires), where repeated headers stay visible;
* a case-insensitive multi-value container with ``getall`` (aiohttp), ``getlist`` (starlette,
  werkzeug/Flask), ``get_all`` (``http.server``) or ``get_list`` (httpx).
"""


def verify(
    body: bytes | bytearray | memoryview,
    headers: HeadersLike,
    secret: str | Sequence[str],
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: datetime | None = None,
) -> Any:
    """Check a Standard Webhooks request and return its JSON payload.

    Checks run in this order, so a request with several faults always fails the same way:
    the secrets decode; ``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (or
    their ``svix-`` twins) are each present once; their syntax is valid; the timestamp is
    within ``tolerance``; a ``v1`` signature matches; the body is UTF-8 JSON. The body is only
    parsed once it is known to be authentic.

    Args:
        body: the raw request body, exactly as received.
        headers: the request headers; see :data:`HeadersLike`.
        secret: one ``whsec_`` secret, or several while a rotation is under way (a request
            signed with any of them is accepted).
        tolerance: seconds the timestamp may lie before or after ``now``, bounds included.
            It cannot be disabled.
        now: the current time, timezone-aware; defaults to the system clock.

    Returns:
        The payload parsed by orjson. Integers beyond 64 bits come back as ``float``.

    Raises:
        MissingHeader: a required header is absent.
        DuplicateHeader: a required header appears twice with different values.
        MalformedHeader: a header breaks the syntax: empty, longer than
            :data:`MAX_HEADER_LENGTH`, not visible ASCII, a timestamp that is not a plain
            decimal integer, a signature entry that is not ``version,value``, a ``v1`` value
            that is not canonical base64 of 32 bytes, more than :data:`MAX_SIGNATURES`
            entries.
        TimestampOutOfTolerance: the timestamp is more than ``tolerance`` seconds old or ahead.
        NoMatchingSignature: no ``v1`` entry matches; this includes a header holding only other
            versions (``v1a``...), which is well-formed but leaves nothing to check.
        InvalidBody: the body is not valid UTF-8 JSON.
        InvalidVerificationSecret: ``secret`` is empty or not a valid ``whsec_`` secret.
        TypeError: ``body`` is not bytes-like, ``now`` is not a datetime, or ``headers`` is not
            one of the accepted shapes (programmer errors).
        ValueError: ``tolerance`` is not a positive int or ``now`` is naive (programmer
            errors).
    """
    now_seconds = _check_arguments(body, tolerance, now)
    keys = _decode_keys(secret)
    found = _collect(headers, _SIGNED_HEADERS)
    msg_id = _single_value(found, _ID_HEADERS)
    timestamp_text = _single_value(found, _TIMESTAMP_HEADERS)
    signature_text = _single_value(found, _SIGNATURE_HEADERS)
    timestamp = _parse_timestamp(timestamp_text)
    candidates = _parse_signature_header(signature_text)
    _check_tolerance(timestamp, now_seconds, tolerance)
    # Sign the timestamp text as received: re-formatting it (as the reference library does)
    # would sign something else than the sender did. _parse_timestamp keeps it canonical.
    signed_prefix = f"{msg_id}.{timestamp_text}.".encode("ascii")
    if not candidates:
        raise NoMatchingSignature("webhook-signature holds no v1 signature")
    if not _any_signature_matches(keys, signed_prefix, body, candidates):
        raise NoMatchingSignature("no v1 signature matches the secret")
    return _parse_body(body)


def verify_token(headers: HeadersLike, expected: str, *, header: str = "authorization") -> None:
    """Check a static shared-token header in constant time.

    For senders that authenticate with a fixed token instead of a signature. The header may
    hold the bare token or ``Bearer <token>`` (RFC 6750 section 2.1; the scheme name is
    case-insensitive per RFC 9110 section 11.1).

    Args:
        headers: the request headers; see :data:`HeadersLike`.
        expected: the token the sender was configured with; must not be empty.
        header: the header carrying the token, matched case-insensitively.

    Raises:
        InvalidToken: the header is missing, empty, malformed or holds another token.
        DuplicateHeader: the header appears twice with different values.
        ValueError: ``expected`` or ``header`` is empty or not a string (programmer errors).
        TypeError: ``headers`` is not one of the accepted shapes (programmer error).
    """
    if not isinstance(expected, str) or not expected:
        raise ValueError("expected must be a non-empty token string")
    if not isinstance(header, str) or not header or not header.isascii():
        raise ValueError("header must be a non-empty ASCII header name")
    name = header.lower()
    try:
        value = _single_value(_collect(headers, frozenset((name,))), (name,))
    except (MissingHeader, MalformedHeader) as exc:
        raise InvalidToken(f"{header} header is missing or malformed") from exc
    scheme, _, credentials = value.partition(" ")
    # Both comparisons always run so timing does not tell which form was tried.
    bare = _same_secret_text(value, expected)
    bearer = _same_secret_text(credentials, expected)
    if not (bare or (bearer and scheme.lower() == "bearer")):
        raise InvalidToken(f"{header} header does not hold the expected token")


def _check_arguments(body: object, tolerance: object, now: datetime | None) -> int:
    """Reject programmer errors up front; return the current time in whole Unix seconds."""
    if not isinstance(body, bytes | bytearray | memoryview):
        raise TypeError(f"body must be the raw request bytes, not {type(body).__name__}")
    if type(tolerance) is not int or tolerance <= 0:
        raise ValueError(f"tolerance must be a positive int of seconds, not {tolerance!r}")
    if now is None:
        return int(time.time())
    if not isinstance(now, datetime):
        raise TypeError(f"now must be a datetime, not {type(now).__name__}")
    if now.tzinfo is None or now.utcoffset() is None:
        # A naive datetime is ambiguous; guessing its zone shifts the tolerance window.
        raise ValueError("now must be timezone-aware")
    return math.floor(now.timestamp())


def _decode_keys(secret: object) -> tuple[bytes, ...]:
    """Decode the receiver's secrets, reporting any problem as InvalidVerificationSecret."""
    secrets: Sequence[object]
    if isinstance(secret, str):
        secrets = (secret,)
    elif isinstance(secret, Sequence) and not isinstance(secret, bytes | bytearray):
        secrets = secret
    else:
        raise InvalidVerificationSecret("secret must be a whsec_ string or a sequence of them")
    if not secrets:
        raise InvalidVerificationSecret("at least one webhook secret is required")
    keys = []
    for item in secrets:
        if not isinstance(item, str):
            raise InvalidVerificationSecret("each webhook secret must be a whsec_ string")
        try:
            keys.append(decode_secret(item))
        except InvalidSecret as exc:
            raise InvalidVerificationSecret(exc.message) from exc
    return tuple(keys)


def _collect(headers: HeadersLike, wanted: frozenset[str]) -> dict[str, list[object]]:
    """Every value of each lower-case header name in ``wanted``, repeats included."""
    for method in _MULTI_VALUE_GETTERS:
        getter = getattr(headers, method, None)
        if callable(getter):
            return {name: _values_from_getter(getter, name) for name in wanted}
    if isinstance(headers, Mapping):
        pairs: Iterable[object] = headers.items()
    elif isinstance(headers, Iterable) and not isinstance(headers, str | bytes | bytearray):
        pairs = headers
    else:
        raise TypeError(f"headers must be a mapping or (name, value) pairs, not {type(headers).__name__}")
    found: dict[str, list[object]] = {}
    for pair in pairs:
        name, value = _split_pair(pair)
        key = _normalise_name(name)
        if key in wanted:
            found.setdefault(key, []).append(value)
    return found


def _values_from_getter(getter: Callable[[str], object], name: str) -> list[object]:
    try:
        values = getter(name)
    except KeyError:  # multidict's getall without a default
        return []
    if values is None:  # email.message.Message.get_all
        return []
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        return [values]
    return list(values)


def _split_pair(pair: object) -> tuple[object, object]:
    if isinstance(pair, tuple | list) and len(pair) == 2:
        return pair[0], pair[1]
    raise TypeError("headers must be a mapping or a sequence of (name, value) pairs")


def _normalise_name(name: object) -> str | None:
    """Lower-case an ASCII header name; anything else cannot be one of ours."""
    if isinstance(name, bytes):
        name = name.decode("latin-1")
    # ASCII only: str.lower() folds some non-ASCII letters into ASCII ones (KELVIN SIGN -> "k"),
    # which would let a look-alike name stand in for a real one.
    if isinstance(name, str) and name.isascii():
        return name.lower()
    return None


def _single_value(found: dict[str, list[object]], names: tuple[str, ...]) -> str:
    """The one value of a header known under ``names`` (aliases), validated as visible ASCII."""
    values = [value for name in names for value in found.get(name, ())]
    if not values:
        raise MissingHeader(f"{_describe(names)} header is missing")
    distinct = {_as_text(value, names) for value in values}
    if len(distinct) > 1:
        raise DuplicateHeader(f"{_describe(names)} header appears more than once with different values")
    text = distinct.pop()
    if not text or len(text) > MAX_HEADER_LENGTH:
        raise MalformedHeader(f"{_describe(names)} header is empty or longer than {MAX_HEADER_LENGTH}")
    # RFC 9110 section 5.5: field values are visible ASCII plus spaces. Requiring it also makes
    # the signed bytes independent of how a server decoded the header (Latin-1 or UTF-8).
    if not (text.isascii() and text.isprintable()):
        raise MalformedHeader(f"{_describe(names)} header holds characters other than visible ASCII")
    return text


def _as_text(value: object, names: tuple[str, ...]) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("latin-1")
    raise MalformedHeader(f"{_describe(names)} header value is not text")


def _describe(names: tuple[str, ...]) -> str:
    return " / ".join(names)


def _parse_timestamp(text: str) -> int:
    """Integer Unix seconds in canonical form: ASCII digits, no sign, no leading zero."""
    # str.isdigit() alone accepts other scripts' digits and superscripts; isascii() rules
    # those out. A leading zero is refused because verifiers that re-format the number before
    # signing (the reference libraries do) would sign different bytes than the sender.
    if (
        not (text.isascii() and text.isdigit())
        or len(text) > _MAX_TIMESTAMP_DIGITS
        or (text[0] == "0" and len(text) > 1)
    ):
        raise MalformedHeader("webhook-timestamp must be integer Unix seconds")
    return int(text)


def _check_tolerance(timestamp: int, now_seconds: int, tolerance: int) -> None:
    # Spec "Verifying webhooks": reject timestamps too far either way, against replays.
    if timestamp < now_seconds - tolerance:
        raise TimestampOutOfTolerance("webhook-timestamp is too old")
    if timestamp > now_seconds + tolerance:
        raise TimestampOutOfTolerance("webhook-timestamp is too far in the future")


def _parse_signature_header(text: str) -> list[bytes]:
    """The decoded ``v1`` signatures of a ``webhook-signature`` value.

    The spec's syntax is space-separated ``<version>,<signature>`` entries. Unknown versions
    (``v1a`` asymmetric signatures, future schemes) are skipped unread.
    """
    entries = text.split(" ")
    if len(entries) > MAX_SIGNATURES:
        raise MalformedHeader(f"webhook-signature holds more than {MAX_SIGNATURES} entries")
    signatures = []
    for entry in entries:
        version, comma, value = entry.partition(",")
        if not (version and comma):
            raise MalformedHeader("webhook-signature entries must read <version>,<signature>")
        if version == "v1":
            signatures.append(_decode_v1_signature(value))
    return signatures


def _decode_v1_signature(value: str) -> bytes:
    try:
        signature = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedHeader("a v1 signature is not standard base64") from exc
    # Canonical encoding only: otherwise one signature has several spellings (non-zero
    # padding bits), which defeats anyone deduplicating or logging by signature.
    if len(signature) != _V1_SIGNATURE_BYTES or base64.b64encode(signature) != value.encode("ascii"):
        raise MalformedHeader("a v1 signature is not the base64 of a 32-byte HMAC-SHA256")
    return signature


def _any_signature_matches(
    keys: Sequence[bytes],
    signed_prefix: bytes,
    body: bytes | bytearray | memoryview,
    candidates: Sequence[bytes],
) -> bool:
    for key in keys:
        # The body is fed separately rather than concatenated, sparing a copy of it.
        mac = hmac.new(key, signed_prefix, hashlib.sha256)
        mac.update(body)
        expected = mac.digest()
        for candidate in candidates:
            if hmac.compare_digest(expected, candidate):
                return True
    return False


def _parse_body(body: bytes | bytearray | memoryview) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:  # also raised for invalid UTF-8
        raise InvalidBody(f"body is not valid UTF-8 JSON: {exc}") from exc


def _same_secret_text(given: str, expected: str) -> bool:
    """Compare two tokens in constant time, hiding their lengths as well.

    ``hmac.compare_digest`` may leak how long its inputs are; comparing fixed-size digests
    does not.
    """
    given_digest = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    expected_digest = hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(given_digest, expected_digest)
