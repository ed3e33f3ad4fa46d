"""``hookwire listen`` answers and prints through the receiver kit."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from hookwire.cli.listen import make_handler
from hookwire.core.signing import InvalidSecret
from tests.receiver.signing import OTHER_SECRET, SECRET, event, signed

ListenClient = Callable[[str | None, int], Coroutine[Any, Any, TestClient[web.Request, web.Application]]]


@pytest.fixture
async def listen_client() -> AsyncIterator[ListenClient]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(secret: str | None, status: int) -> TestClient[web.Request, web.Application]:
        app = web.Application()
        app.router.add_post("/", make_handler(secret, status))
        client = TestClient(TestServer(app, host="127.0.0.1"))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def test_listen_verifies_prints_once_and_reports_duplicates(
    listen_client: ListenClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await listen_client(SECRET, 204)
    body, headers = signed(event("invoice.paid", id="in_42"))

    first = await client.post("/", data=body, headers=headers)
    again = await client.post("/", data=body, headers=headers)
    forged = await client.post(
        "/", data=body, headers={**headers, "webhook-signature": "v1," + "A" * 43 + "="}
    )

    assert (first.status, again.status) == (204, 204)
    assert forged.status == 401
    assert (await forged.json())["code"] == "no_matching_signature"
    out = capsys.readouterr().out
    assert out.count("in_42") == 1
    assert "signature verified" in out
    assert f"duplicate {headers['webhook-id']}" in out
    assert "rejected" in out


async def test_listen_answers_with_the_chosen_status(listen_client: ListenClient) -> None:
    client = await listen_client(SECRET, 500)
    body, headers = signed(event("invoice.paid"), secrets=[SECRET])
    assert (await client.post("/", data=body, headers=headers)).status == 500
    body, headers = signed(event("invoice.paid"), secrets=[OTHER_SECRET])
    assert (await client.post("/", data=body, headers=headers)).status == 401


async def test_listen_without_a_secret_prints_everything_unverified(
    listen_client: ListenClient, capsys: pytest.CaptureFixture[str]
) -> None:
    client = await listen_client(None, 202)
    response = await client.post("/", data=b"not json", headers={"webhook-id": "msg_plain"})
    assert response.status == 202
    out = capsys.readouterr().out
    assert "not verified" in out
    assert "not json" in out


def test_listen_refuses_a_bad_secret_at_start() -> None:
    with pytest.raises(InvalidSecret):
        make_handler("whsec_???", 204)
