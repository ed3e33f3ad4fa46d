"""Checks on what users hand us, done before anything is written.

These give early, clear feedback. They are not the SSRF control: a URL that passes here is
still checked on the address it resolves to, at connect time, by ``delivery.guard``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson

from hookwire.core.errors import InvalidHeaders, InvalidPayload, InvalidURL, PayloadTooLarge, ValidationError

T = TypeVar("T")

MAX_URL_LENGTH = 2048
MAX_HEADERS = 32
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 4096
MAX_UID_LENGTH = 256
MAX_TEXT_LENGTH = 4096

# RFC 9110 section 5.6.2: a field name is a token.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 9110 section 5.5: visible characters, spaces and tabs; CR, LF and NUL never.
_FIELD_VALUE = re.compile(r"[\t\x20-\x7e\x80-\xff]*")
_UID = re.compile(r"[A-Za-z0-9_\-.]+")

#: Headers every request sets itself; an endpoint or message may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "svix-id",
        "svix-timestamp",
        "svix-signature",
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "user-agent",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "expect",
        "proxy-authorization",
        "proxy-connection",
    }
)


def is_text(value: object) -> bool:
    """A ``str`` that can be stored and sent: UTF-8 encodable (no lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_json(value: T, what: str) -> T:
    """Refuse values JSON cannot carry faithfully (integers beyond 64 bits, lone surrogates)."""
    try:
        orjson.dumps(value)
    except TypeError as exc:
        raise ValidationError(f"{what} cannot be stored as JSON: {exc}") from exc
    return value


def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL without credentials, else raise ``InvalidURL``."""
    if not is_text(url) or not url:
        raise InvalidURL("an endpoint needs a URL")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidURL(f"URLs are at most {MAX_URL_LENGTH} characters")
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url):
        raise InvalidURL("URLs may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"not a valid URL: {exc}") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidURL("only http and https URLs can receive webhooks")
    if parts.username is not None or parts.password is not None:
        raise InvalidURL("URLs may not carry credentials; use a custom header instead")
    if not parts.hostname:
        raise InvalidURL("the URL has no host")
    if port == 0:
        raise InvalidURL("port 0 cannot receive webhooks")
    if parts.fragment:
        raise InvalidURL("URLs may not have a fragment")
    return url


def check_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Validate custom request headers: names are tokens, values carry no CR/LF, none reserved."""
    if headers is None:
        return {}
    if not isinstance(headers, Mapping):
        raise InvalidHeaders("headers must be a mapping of names to values")
    if len(headers) > MAX_HEADERS:
        raise InvalidHeaders(f"at most {MAX_HEADERS} custom headers")
    checked: dict[str, str] = {}
    for name, value in headers.items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name) or len(name) > MAX_HEADER_NAME:
            raise InvalidHeaders(f"invalid header name {name!r}")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidHeaders(f"header {name!r} is set by hookwire and cannot be overridden")
        if not isinstance(value, str) or len(value) > MAX_HEADER_VALUE or not _FIELD_VALUE.fullmatch(value):
            raise InvalidHeaders(f"invalid value for header {name!r}: no CR, LF or control characters")
        if name.lower() in (existing.lower() for existing in checked):
            raise InvalidHeaders(f"header {name!r} given twice")
        checked[name] = value
    return checked


def encode_payload(payload: Any, limit: int) -> bytes:
    """Serialise a payload to the exact JSON bytes every attempt will send.

    ``bytes`` or ``str`` are taken as JSON text and sent unchanged once they parse; anything
    else is serialised with orjson. Raises ``InvalidPayload`` / ``PayloadTooLarge``.
    """
    if isinstance(payload, bytes | bytearray | memoryview | str):
        body = payload.encode() if isinstance(payload, str) else bytes(payload)
        if len(body) > limit:
            raise PayloadTooLarge(f"payload is {len(body)} bytes; the limit is {limit}")
        try:
            orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise InvalidPayload(f"payload is not valid JSON: {exc}") from exc
        return body
    try:
        body = orjson.dumps(payload)
    except TypeError as exc:
        raise InvalidPayload(f"payload cannot be serialised as JSON: {exc}") from exc
    if len(body) > limit:
        raise PayloadTooLarge(f"payload is {len(body)} bytes; the limit is {limit}")
    return body


def check_uid(uid: str | None, what: str) -> str | None:
    """A caller-chosen identifier (application or endpoint uid, event id)."""
    if uid is None:
        return None
    if not isinstance(uid, str) or not uid or len(uid) > MAX_UID_LENGTH or not _UID.fullmatch(uid):
        raise ValidationError(
            f"{what} must be 1-{MAX_UID_LENGTH} characters of letters, digits, '-', '_', '.'"
        )
    return uid


def check_text(value: str, what: str, *, limit: int = MAX_TEXT_LENGTH) -> str:
    if not is_text(value) or len(value) > limit:
        raise ValidationError(f"{what} must be text of at most {limit} characters")
    return value


def check_metadata(metadata: Mapping[str, str] | None) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or len(metadata) > 64:
        raise ValidationError("metadata is a mapping of at most 64 string keys to string values")
    for key, value in metadata.items():
        if not is_text(key) or not is_text(value) or len(key) > 256 or len(value) > 4096:
            raise ValidationError("metadata keys and values must be strings (keys up to 256 characters)")
    return dict(metadata)
