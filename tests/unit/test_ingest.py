"""The ingest path takes only requests the declared route would read the same way: the paths
its router matches, and bodies its request model accepts with the same values."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.routing import Match

from hookwire.api.ingest import app_in_path, message_fields
from hookwire.api.routes import messages
from hookwire.api.schemas import MessageIn

JSON = b"application/json"


def create_route() -> APIRoute:
    [route] = [
        r
        for r in messages.router.routes
        if isinstance(r, APIRoute) and r.path.endswith("/msg") and "POST" in (r.methods or ())
    ]
    return route


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/app/acme/msg",
        "/api/v1/app/app_2Nf0000000000000000000/msg",
        "/api/v1/app/a b/msg",
        "/api/v1/app//msg",
        "/api/v1/app/acme/msg/",
        "/api/v1/app/a/b/msg",
        "/api/v1/app/acme/msg/x",
        "/api/v1/app/msg",
        "/api/v1/apps/acme/msg",
    ],
)
@pytest.mark.parametrize("method", ["POST", "GET", "PUT"])
def test_the_path_is_matched_as_the_router_matches_it(path: str, method: str) -> None:
    scope: dict[str, Any] = {"type": "http", "method": method, "path": path, "root_path": ""}
    match, child = create_route().matches(scope)
    expected = child["path_params"]["app_id"] if match is Match.FULL else None
    assert app_in_path(scope) == expected


def test_under_a_root_path_the_router_decides() -> None:
    scope = {"type": "http", "method": "POST", "path": "/hooks/api/v1/app/a/msg", "root_path": "/hooks"}
    assert app_in_path(scope) is None


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (None, b'{"eventType": "a.b", "payload": {}}'),
        (b"text/plain", b'{"eventType": "a.b", "payload": {}}'),
        (b"application/json; charset=UTF-8", b'{"eventType": "a.b", "payload": {}}'),
        (JSON, b""),
        (JSON, b"\xef\xbb\xbf{}"),
        (JSON, b"[" * 100_000),
        (JSON, b'{"event_type": "a.b", "payload": {}}'),
        (JSON, b'{"eventType": "a.b", "payload": {}, "channels": []}'),
        (JSON, b'{"eventType": "a.b", "payload": {}, "application": {"name": "x"}}'),
        (JSON, b'{"eventType": "\\u00e9", "payload": {}}'),
        (JSON, b'{"eventType": "a.b", "payload": {}, "eventId": ""}'),
    ],
)
def test_bodies_the_route_answers_are_handed_over(content_type: bytes | None, body: bytes) -> None:
    assert message_fields(content_type, body) is None


texts = st.one_of(st.text(max_size=300), st.text(alphabet="ab.-_", min_size=1, max_size=300))
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
bodies = st.dictionaries(
    st.sampled_from(
        ["eventType", "payload", "eventId", "channels", "tags", "application", "deliverAt", "bogus"]
    ),
    st.one_of(texts, values, st.dictionaries(st.text(max_size=5), values, max_size=3)),
    max_size=5,
)


# Nested JSON bodies take a while to draw on a busy machine; that is not a failure.
SLOW_TO_DRAW = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SLOW_TO_DRAW
@given(bodies)
def test_a_body_taken_is_read_as_the_request_model_reads_it(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    fields = message_fields(JSON, raw)
    if fields is None:
        return
    model = MessageIn.model_validate(json.loads(raw))
    assert (fields.event_type, fields.payload, fields.event_id) == (
        model.event_type,
        model.payload,
        model.event_id,
    )
    # ...and the route would refuse nothing of it.
    refused = (model.application, model.channels, model.tags, model.deliver_at, model.transformations_params)
    assert refused == (None,) * 5


@SLOW_TO_DRAW
@given(bodies)
def test_a_body_the_request_model_refuses_is_never_taken(body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    try:
        MessageIn.model_validate(json.loads(raw))
    except ValidationError:
        assert message_fields(JSON, raw) is None


def test_the_usual_body_is_taken() -> None:
    body = b'{"eventType": "order.created", "payload": {"id": 1}, "eventId": "o-1", "tags": null}'
    fields = message_fields(JSON, body)
    assert fields is not None
    assert (fields.event_type, fields.payload, fields.event_id) == ("order.created", {"id": 1}, "o-1")
