"""Ids, filters, validation and settings: pure code."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta, timezone

import pytest

from hookwire.core import ids
from hookwire.core.clock import require_utc
from hookwire.core.errors import (
    InvalidEventType,
    InvalidHeaders,
    InvalidPayload,
    InvalidURL,
    PayloadTooLarge,
    ValidationError,
)
from hookwire.core.filters import check_event_type, check_filter, matches
from hookwire.core.settings import Settings
from hookwire.core.validate import check_headers, check_url, encode_payload


def test_ids_are_prefixed_url_safe_and_sortable() -> None:
    made = [ids.new_id(ids.MESSAGE) for _ in range(2000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert all(ids.has_prefix(i, "msg") and len(i) == len("msg_") + 22 for i in made)
    assert all(i.replace("_", "").isalnum() for i in made)


def test_lower_bound_orders_by_time() -> None:
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    assert ids.lower_bound("msg", now_ms - 1000) < ids.new_id("msg") < ids.lower_bound("msg", now_ms + 1000)


@pytest.mark.parametrize("name", ["a", "invoice.paid", "user-signup_v2.done", "A.B.C", "x" * 256])
def test_valid_event_types(name: str) -> None:
    assert check_event_type(name) == name


@pytest.mark.parametrize("name", ["", ".a", "a.", "a..b", "a b", "a/b", "ünicode", "a*", "x" * 257])
def test_invalid_event_types(name: str) -> None:
    with pytest.raises(InvalidEventType):
        check_event_type(name)


@pytest.mark.parametrize(
    ("filter_types", "event_type", "expected"),
    [
        (None, "anything.at.all", True),
        (("invoice.paid",), "invoice.paid", True),
        (("invoice.paid",), "invoice.paid.late", False),
        (("invoice.*",), "invoice.paid", True),
        (("invoice.*",), "invoice.line.added", True),
        (("invoice.*",), "invoice", False),
        (("invoice.*",), "invoices.paid", False),
        ((), "a", False),
    ],
)
def test_filter_matching(filter_types: tuple[str, ...] | None, event_type: str, expected: bool) -> None:
    assert matches(filter_types, event_type) is expected


def test_filters_are_validated_and_deduplicated() -> None:
    assert check_filter(["a.*", "b", "a.*"]) == ("a.*", "b")
    with pytest.raises(InvalidEventType):
        check_filter(["ok", "not ok"])
    with pytest.raises(InvalidEventType):
        check_filter("a.b")  # a single string is a mistake, not a list of characters


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "example.com/hook",
        "http://user:pass@example.com/",
        "http://user@example.com/",
        "http:///path",
        "http://example.com:0/",
        "http://example.com:99999/",
        "http://exa mple.com/",
        "http://example.com/\r\nX: y",
        "https://example.com/" + "a" * 2048,
        "",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidURL):
        check_url(url)


@pytest.mark.parametrize(
    "url", ["https://example.com/hooks?x=1", "http://10.0.0.1:8080/", "https://[2001:db8::1]/"]
)
def test_good_urls_pass_validation(url: str) -> None:
    # Validation is early feedback; private addresses are refused at connect time, not here.
    assert check_url(url) == url


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Ok": "a\r\nInjected: yes"},
        {"X-Ok": "a\nb"},
        {"Bad Name": "v"},
        {"": "v"},
        {"webhook-signature": "v1,forged"},
        {"Content-Type": "text/plain"},
        {"Host": "internal"},
        {"X-A": "1", "x-a": "2"},
    ],
)
def test_bad_headers_are_refused(headers: dict[str, str]) -> None:
    with pytest.raises(InvalidHeaders):
        check_headers(headers)


def test_payload_encoding() -> None:
    assert encode_payload({"a": 1}, 100) == b'{"a":1}'
    assert encode_payload('{"a":  1}', 100) == b'{"a":  1}'  # JSON text is sent unchanged
    with pytest.raises(InvalidPayload):
        encode_payload("not json", 100)
    with pytest.raises(InvalidPayload):
        encode_payload({"a": {1, 2}}, 100)
    with pytest.raises(PayloadTooLarge):
        encode_payload({"a": "x" * 200}, 100)


def test_settings_validate_and_parse() -> None:
    settings = Settings(allow_networks=["127.0.0.0/8", "::1/128"])
    assert settings.networks == (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
    with pytest.raises(ValidationError):
        Settings(allow_networks=["not-a-network"])
    with pytest.raises(ValidationError):
        Settings(retry_schedule=())
    with pytest.raises(ValidationError):
        Settings(retry_schedule=(0, -1))
    with pytest.raises(ValidationError):
        Settings(lease=timedelta(seconds=5))


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValidationError):
        require_utc(datetime(2026, 1, 1))  # noqa: DTZ001 - the point of the test
    shifted = datetime(2026, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))
    assert require_utc(shifted) == datetime(2026, 1, 1, tzinfo=UTC)
