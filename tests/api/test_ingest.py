"""Message ingest answers the same whether ``hookwire.api.ingest`` takes the request or the
declared FastAPI route does.

Every request is sent twice to a real server: with ``Content-Type: application/json``, a
spelling the ingest path takes, and with ``application/json; charset=UTF-8``, which it hands
to the route unread (both are JSON to FastAPI). The two answers must match in status, body
(ids and times aside) and headers.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.server import Server
from tests.api.test_access import bearer, scoped_key

INGEST = "application/json"
ROUTE = "application/json; charset=UTF-8"
GENERATED = re.compile(r"(msg|req)_[0-9A-Za-z]{22}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


@pytest.fixture
async def client(server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        admin = bearer(server.admin_key)
        for name in ("acme", "other"):
            created = await http.post("/api/v1/app", json={"name": name, "uid": name}, headers=admin)
            assert created.status_code == 201
            endpoint = {"url": "https://example.com/hooks"}
            assert (await http.post(f"/api/v1/app/{name}/endpoint", json=endpoint, headers=admin)).is_success
        yield http


async def post(
    client: httpx.AsyncClient, content_type: str, path: str, body: bytes, headers: dict[str, str]
) -> Answer:
    response = await client.post(path, content=body, headers={**headers, "content-type": content_type})
    try:
        parsed: Any = response.json()
    except ValueError:
        parsed = response.text
    if isinstance(parsed, dict) and "timestamp" in parsed:
        parsed["timestamp"] = "<time>"
    kept = {k: v for k, v in response.headers.items() if k not in ("date", "content-length")}
    return Answer(response.status_code, parsed, kept)


def normalised(answer: Answer) -> Answer:
    """Ids and times made for each request apart, what both paths answer must be equal."""
    body = json.loads(GENERATED.sub(r"\1_<id>", json.dumps(answer.body)))
    headers = {k: GENERATED.sub(r"\1_<id>", v) for k, v in answer.headers.items()}
    return Answer(answer.status, body, headers)


async def both(
    client: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str]
) -> tuple[Answer, Answer]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ingest = await post(client, INGEST, path, raw, headers)
    route = await post(client, ROUTE, path, raw, headers)
    assert normalised(ingest) == normalised(route)
    return ingest, route


MSG = {"eventType": "order.created", "payload": {"id": 42, "items": ["a", "b"], "total": 12.5}}
TOO_BIG = {"eventType": "a.b", "payload": {"x": "a" * (1024 * 1024)}}  # under the body limit


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        ("/api/v1/app/acme/msg", MSG, 202, None),
        ("/api/v1/app/acme/msg", {**MSG, "eventId": "evt-1", "tags": None, "channels": None}, 202, None),
        ("/api/v1/app/missing/msg", MSG, 404, "not_found"),
        ("/api/v1/app/missing/msg", {**MSG, "eventType": "not valid"}, 404, "not_found"),
        ("/api/v1/app/" + "a" * 257 + "/msg", MSG, 400, "validation_error"),
        ("/api/v1/app/acme/msg", {**MSG, "eventType": "not valid"}, 400, "invalid_event_type"),
        ("/api/v1/app/acme/msg", {**MSG, "eventId": "not valid!"}, 400, "validation_error"),
        ("/api/v1/app/acme/msg", TOO_BIG, 413, "payload_too_large"),
        # Integers past 64 bits: the payload cannot be stored as sent (orjson would have read
        # it as a float and stored another number).
        ("/api/v1/app/acme/msg", b'{"eventType":"a.b","payload":{"n":18446744073709551616}}', 400, None),
        # The rest is the route's to answer, whoever receives it.
        ("/api/v1/app/acme/msg", {**MSG, "channels": ["c"]}, 400, "unsupported"),
        ("/api/v1/app/acme/msg", {"event_type": "a.b", "payload": {}}, 202, None),
        ("/api/v1/app/acme/msg", {"eventType": "a.b"}, 422, None),
        ("/api/v1/app/acme/msg", {**MSG, "bogus": 1}, 422, None),
        ("/api/v1/app/acme/msg", {**MSG, "payload": [1]}, 422, None),
        ("/api/v1/app/acme/msg", {**MSG, "eventType": ""}, 422, None),
        ("/api/v1/app/acme/msg", {**MSG, "eventType": "\ud800"}, 422, None),
        ("/api/v1/app/acme/msg", b'{"eventType": "a.b", "payload": {}', 422, None),
        ("/api/v1/app/acme/msg", b"[]", 422, None),
        ("/api/v1/app/acme/msg", b"", 422, None),
        ("/api/v1/app/new/msg", {**MSG, "application": {"name": "New", "uid": "new"}}, 202, None),
    ],
)
async def test_the_ingest_path_answers_as_the_route(
    client: httpx.AsyncClient, server: Server, path: str, body: Any, status: int, code: str | None
) -> None:
    ingest, _ = await both(client, path, body, bearer(server.admin_key))
    assert ingest.status == status, ingest.body
    if code is not None:
        assert ingest.body["code"] == code
    if status == 202:
        assert ingest.headers["content-type"] == "application/json"
        assert set(ingest.body) == {"id", "eventType", "eventId", "timestamp", "channels", "tags", "payload"}
    assert GENERATED.fullmatch(ingest.headers["x-request-id"])


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Basic abc", "bearer hwk_not-a-key", "Bearer nothing-like-a-key"],
)
async def test_authentication_is_refused_alike(client: httpx.AsyncClient, authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    ingest, _ = await both(client, "/api/v1/app/acme/msg", MSG, headers)
    assert ingest.status == 401
    assert ingest.body["code"] == "authentication_failed"
    assert ingest.headers["www-authenticate"] == "Bearer"


async def test_a_scoped_key_sees_only_its_application(client: httpx.AsyncClient, server: Server) -> None:
    key = bearer(scoped_key(server, "acme"))
    other_id = (await client.get("/api/v1/app/other", headers=bearer(server.admin_key))).json()["id"]
    for app in ("other", other_id):
        ingest, _ = await both(client, f"/api/v1/app/{app}/msg", MSG, key)
        assert (ingest.status, ingest.body["code"]) == (404, "not_found")
        invalid = {**MSG, "eventType": "not valid"}  # the application is checked first
        ingest, _ = await both(client, f"/api/v1/app/{app}/msg", invalid, key)
        assert (ingest.status, ingest.body["code"]) == (404, "not_found")
    ingest, _ = await both(client, "/api/v1/app/acme/msg", MSG, key)
    assert ingest.status == 202
    creating = {**MSG, "application": {"name": "Elsewhere"}}
    ingest, _ = await both(client, "/api/v1/app/elsewhere/msg", creating, key)
    assert (ingest.status, ingest.body["code"]) == (403, "forbidden")


async def test_an_event_id_is_one_message_whichever_path_sees_it(
    client: httpx.AsyncClient, server: Server
) -> None:
    body = {**MSG, "eventId": "order-42"}
    ingest, route = await both(client, "/api/v1/app/acme/msg", body, bearer(server.admin_key))
    assert ingest.body["id"] == route.body["id"]
    assert ingest.body["eventId"] == "order-42"
    listed = (await client.get("/api/v1/app/acme/msg", headers=bearer(server.admin_key))).json()
    assert [m["id"] for m in listed["data"]] == [ingest.body["id"]]


async def test_idempotency_keys_wrap_the_ingest_path(client: httpx.AsyncClient, server: Server) -> None:
    headers = {**bearer(server.admin_key), "idempotency-key": "order-42-created"}
    first = await post(client, INGEST, "/api/v1/app/acme/msg", json.dumps(MSG).encode(), headers)
    again = await post(client, INGEST, "/api/v1/app/acme/msg", json.dumps(MSG).encode(), headers)
    assert (first.status, again.status) == (202, 202)
    assert again.body == first.body
    assert "idempotent-replayed" not in first.headers
    assert again.headers["idempotent-replayed"] == "true"
    changed = json.dumps({**MSG, "payload": {"id": 43}}).encode()
    conflict = await post(client, INGEST, "/api/v1/app/acme/msg", changed, headers)
    assert (conflict.status, conflict.body["code"]) == (409, "idempotency_conflict")


async def test_accepted_messages_are_stored_counted_and_logged(
    client: httpx.AsyncClient, server: Server
) -> None:
    admin = bearer(server.admin_key)
    ingest, route = await both(client, "/api/v1/app/acme/msg", MSG, {**admin, "x-request-id": "trace-7"})
    assert ingest.headers["x-request-id"] == route.headers["x-request-id"] == "trace-7"
    for answer in (ingest, route):
        stored = (await client.get(f"/api/v1/app/acme/msg/{answer.body['id']}", headers=admin)).json()
        assert stored["payload"] == MSG["payload"] == answer.body["payload"]
        deliveries = await client.get(f"/api/v1/app/acme/msg/{answer.body['id']}/delivery", headers=admin)
        assert len(deliveries.json()) == 1
    metrics = (await client.get("/metrics")).text
    assert re.search(r"^hookwire_messages_accepted_total 2\.0$", metrics, re.MULTILINE)
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    logged = [line for line in lines if line.get("request_id") == "trace-7"]
    assert [(line["method"], line["path"], line["status"]) for line in logged] == [
        ("POST", "/api/v1/app/acme/msg", 202)
    ] * 2


async def test_a_body_over_the_limit_is_refused_before_it_is_read(
    client: httpx.AsyncClient, server: Server
) -> None:
    huge = b'{"eventType": "a.b", "payload": {"x": "' + b"a" * (2 * 1024 * 1024) + b'"}}'
    ingest, _ = await both(client, "/api/v1/app/acme/msg", huge, bearer(server.admin_key))
    assert (ingest.status, ingest.body["code"]) == (413, "payload_too_large")


async def test_a_chunked_body_over_the_limit_is_413_too(client: httpx.AsyncClient, server: Server) -> None:
    # Without a Content-Length the limit is found while reading; the answer is still a 413,
    # from the front or from the stack's body limit, never the route's 400 "error parsing the body".
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"eventType": "a.b", "payload": {"x": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}}'

    for content_type in (INGEST, ROUTE):
        headers = {**bearer(server.admin_key), "content-type": content_type}
        response = await client.post("/api/v1/app/acme/msg", content=chunks(), headers=headers)
        assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
