"""Isolation between applications, idempotency under concurrency, limits and error shapes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.api.server import Server


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def setup_two_apps(client: httpx.AsyncClient, server: Server) -> dict[str, Any]:
    admin = bearer(server.admin_key)
    ids: dict[str, Any] = {}
    for name in ("a", "b"):
        app = (await client.post("/api/v1/app", json={"name": name, "uid": name}, headers=admin)).json()
        endpoint = (
            await client.post(
                f"/api/v1/app/{app['id']}/endpoint", json={"url": "https://example.com/h"}, headers=admin
            )
        ).json()
        msg = (
            await client.post(
                f"/api/v1/app/{app['id']}/msg", json={"eventType": "a.b", "payload": {}}, headers=admin
            )
        ).json()
        ids[name] = {"app": app["id"], "uid": name, "endpoint": endpoint["id"], "msg": msg["id"]}
    return ids


def scoped_key(server: Server, app: str) -> str:
    import subprocess
    import sys

    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "hookwire",
            "key",
            "create",
            "--app",
            app,
            "--json",
            "--database-url",
            server.database_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    token: str = __import__("json").loads(created.stdout)["token"]
    return token


# A valid body for each route, so that the request reaches the application check.
BODIES: list[tuple[str, Any]] = [
    ("/secret/rotate", {}),
    ("/headers", {"headers": {"X-A": "1"}}),
    ("/recover", {"since": "2020-01-01T00:00:00Z"}),
    ("/resend", None),
    ("/msg", {"eventType": "a.b", "payload": {}}),
    ("/endpoint", {"url": "https://example.com/x"}),
    ("/{endpoint_id}", {"url": "https://example.com/x"}),
    ("/{app_id}", {"name": "x"}),
]


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], path)


def body_for(path: str) -> Any:
    return next(body for suffix, body in BODIES if path.endswith(suffix))


async def test_a_scoped_key_gets_404_for_every_route_of_another_application(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        ids = await setup_two_apps(client, server)
        key_a = bearer(scoped_key(server, "a"))
        spec = (await client.get("/openapi.json")).json()
        checked = 0
        for path, operations in spec["paths"].items():
            if "{app_id}" not in path:
                continue
            for method in operations:
                for app_ref in (ids["b"]["app"], ids["b"]["uid"]):
                    values = {
                        "app_id": app_ref,
                        "endpoint_id": ids["b"]["endpoint"],
                        "msg_id": ids["b"]["msg"],
                    }
                    concrete = fill(path, values)
                    json_body = body_for(path) if method in ("post", "put", "patch") else None
                    response = await client.request(method.upper(), concrete, json=json_body, headers=key_a)
                    assert response.status_code == 404, (
                        method,
                        concrete,
                        response.status_code,
                        response.text,
                    )
                    assert response.json()["code"] == "not_found"
                    checked += 1
        assert checked >= 40
        # ...while the same key works on its own application, and lists only it.
        own = await client.get(
            f"/api/v1/app/{ids['a']['app']}/endpoint/{ids['a']['endpoint']}", headers=key_a
        )
        assert own.status_code == 200
        listed = (await client.get("/api/v1/app", headers=key_a)).json()
        assert [a["id"] for a in listed["data"]] == [ids["a"]["app"]]
        created = await client.post("/api/v1/app", json={"name": "c"}, headers=key_a)
        assert created.status_code == 403


async def test_the_same_idempotency_key_ten_times_at_once_creates_one_message(server: Server) -> None:
    admin = bearer(server.admin_key)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await client.post("/api/v1/app", json={"name": "acme", "uid": "acme"}, headers=admin)
        headers = {**admin, "idempotency-key": "order-42-created"}
        body = {"eventType": "order.created", "payload": {"order": 42}}
        responses = await asyncio.gather(
            *(client.post("/api/v1/app/acme/msg", json=body, headers=headers) for _ in range(10))
        )
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["id"] for r in responses}) == 1
        assert sum(r.headers.get("idempotent-replayed") == "true" for r in responses) == 9
        listed = (await client.get("/api/v1/app/acme/msg", headers=admin)).json()
        assert len(listed["data"]) == 1
        # The same key with another body is a client error, not a repeat.
        other = await client.post(
            "/api/v1/app/acme/msg", json={**body, "payload": {"order": 43}}, headers=headers
        )
        assert other.status_code == 409
        assert other.json()["code"] == "idempotency_conflict"


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        (
            "post",
            "/api/v1/app/acme/msg",
            {"eventType": "a.b", "payload": {"x": "a" * (1024 * 1024)}},
            413,
            "payload_too_large",
        ),
        (
            "post",
            "/api/v1/app/acme/msg",
            {"eventType": "not valid", "payload": {}},
            400,
            "invalid_event_type",
        ),
        ("post", "/api/v1/app/acme/endpoint", {"url": "ftp://example.com/"}, 400, "invalid_url"),
        ("post", "/api/v1/app/acme/endpoint", {"url": "https://u:p@example.com/"}, 400, "invalid_url"),
        (
            "post",
            "/api/v1/app/acme/endpoint",
            {"url": "https://example.com/", "headers": {"X": "a\\r\\nb"}},
            400,
            "invalid_headers",
        ),
        (
            "post",
            "/api/v1/app/acme/endpoint",
            {"url": "https://example.com/", "headers": {"webhook-id": "x"}},
            400,
            "invalid_headers",
        ),
        (
            "post",
            "/api/v1/app/acme/endpoint",
            {"url": "https://example.com/", "channels": ["c"]},
            400,
            "unsupported",
        ),
        ("get", "/api/v1/app/acme/msg?limit=1000", None, 422, None),
        ("get", "/api/v1/app/missing", None, 404, "not_found"),
        ("post", "/api/v1/app/acme/msg", {"eventType": "a.b"}, 422, None),
        ("post", "/api/v1/app/acme/msg", {"eventType": "a.b", "payload": {}, "bogus": 1}, 422, None),
    ],
)
async def test_bad_input_is_a_4xx_with_a_code(
    server: Server, method: str, path: str, body: Any, status: int, code: str | None
) -> None:
    admin = bearer(server.admin_key)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        await client.post("/api/v1/app", json={"name": "acme", "uid": "acme"}, headers=admin)
        if isinstance(body, dict) and "headers" in body:
            body = {**body, "headers": {k: v.replace("\\r\\n", "\r\n") for k, v in body["headers"].items()}}
        response = await client.request(method.upper(), path, json=body, headers=admin)
        assert response.status_code == status, response.text
        if code is not None:
            assert response.json()["code"] == code
        else:
            assert isinstance(response.json()["detail"], list)
        listed = (await client.get("/api/v1/app/acme/msg", headers=admin)).json()
        assert listed["data"] == []  # nothing was written


@pytest.mark.parametrize("path", ["/api/v1/app/acme/endpoint", "/api/v1/app", "/api/v1/app/acme/msg"])
async def test_a_chunked_body_over_the_limit_is_413_on_every_route(server: Server, path: str) -> None:
    # No Content-Length: the limit is found while the body streams in, and is still a 413.
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"url": "https://example.com/", "name": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        headers = {**bearer(server.admin_key), "content-type": "application/json"}
        response = await client.post(path, content=chunks(), headers=headers)
        assert (response.status_code, response.json()["code"]) == (413, "payload_too_large")
        assert "x-request-id" in response.headers


async def test_authentication_is_required(server: Server) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        assert (await client.get("/api/v1/app")).status_code == 401
        assert (await client.get("/api/v1/app", headers=bearer("hwk_nope"))).status_code == 401
        assert (await client.get("/api/v1/health")).status_code == 200
        metrics = await client.get("/metrics")
        assert "hookwire_pending_deliveries" in metrics.text
        docs = await client.get("/docs")
        assert docs.status_code == 200
        assert "x-request-id" in docs.headers
