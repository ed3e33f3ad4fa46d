"""Bad input raises a HookwireError subclass with a clear message and writes nothing."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hookwire import (
    HookwireError,
    InvalidEventType,
    InvalidHeaders,
    InvalidPayload,
    InvalidURL,
    NotFound,
    PayloadTooLarge,
    ValidationError,
    Webhooks,
)
from hookwire.store.sqlite import sqlite_path

Call = Callable[[Webhooks], Awaitable[Any]]

CASES: list[tuple[str, Call, type[HookwireError], str]] = [
    ("ftp url", lambda h: h.add("a.b", "ftp://example.com/"), InvalidURL, "http"),
    ("credentials", lambda h: h.add("a.b", "https://u:p@example.com/"), InvalidURL, "credentials"),
    ("long url", lambda h: h.add("a.b", "https://example.com/" + "a" * 3000), InvalidURL, "2048"),
    (
        "bad event type",
        lambda h: h.add("not valid", "https://example.com/"),
        InvalidEventType,
        "invalid event type",
    ),
    (
        "bad filter",
        lambda h: h.endpoints.create("default", "https://e.com/", filter_types=["a b"]),
        InvalidEventType,
        "",
    ),
    ("non-json text", lambda h: h.trigger("a.b", "{not json"), InvalidPayload, "not valid JSON"),
    ("unserialisable", lambda h: h.trigger("a.b", {"x": object()}), InvalidPayload, "JSON"),
    ("too large", lambda h: h.trigger("a.b", {"x": "a" * (1024 * 1024)}), PayloadTooLarge, "limit"),
    ("bad trigger type", lambda h: h.trigger("a..b", {}), InvalidEventType, ""),
    ("crlf header", lambda h: h.trigger("a.b", {}, {"X-A": "1\r\nX-B: 2"}), InvalidHeaders, "CR"),
    (
        "reserved header",
        lambda h: h.trigger("a.b", {}, {"webhook-id": "x"}),
        InvalidHeaders,
        "cannot be overridden",
    ),
    ("unknown app", lambda h: h.messages.create("app_nope", "a.b", {}), NotFound, "application"),
    ("unknown endpoint", lambda h: h.endpoints.get("default", "ep_nope"), NotFound, "endpoint"),
    ("unknown message", lambda h: h.messages.get("default", "msg_nope"), NotFound, "message"),
    ("resend unknown", lambda h: h.resend("msg_nope", "ep_nope"), NotFound, "message"),
    ("attempts unknown", lambda h: h.attempts.by_message("default", "msg_nope"), NotFound, "message"),
    (
        "bad secret",
        lambda h: h.endpoints.create("default", "https://e.com/", secret="whsec_short"),
        ValidationError,
        "",
    ),
    (
        "bad event id",
        lambda h: h.messages.create("default", "a.b", {}, event_id="has space"),
        ValidationError,
        "",
    ),
    ("page size", lambda h: h.messages.list("default", limit=100000), ValidationError, "limit"),
]


def _counts(database_url: str) -> dict[str, int]:
    with sqlite3.connect(sqlite_path(database_url)) as connection:
        tables = ("application", "endpoint", "message", "delivery", "attempt", "event_type")
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}  # noqa: S608


@pytest.mark.parametrize(("name", "call", "error", "words"), CASES, ids=[c[0] for c in CASES])
async def test_bad_input_is_refused_and_writes_nothing(
    hooks: Webhooks, database_url: str, name: str, call: Call, error: type[HookwireError], words: str
) -> None:
    await hooks.add("a.b", "https://example.com/existing")
    before = _counts(database_url)
    with pytest.raises(error) as raised:
        await call(hooks)
    assert words in raised.value.message
    assert raised.value.code != "hookwire_error"
    assert _counts(database_url) == before
