"""Every ``python`` block of docs/receiving.md runs, and does what the page says it does.

A block's first line is a comment naming it; each name has a check below that executes the
block and drives what it defines through the framework's own test client.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from django.test import Client as DjangoClient  # type: ignore[import-untyped]
from django.test.utils import override_settings  # type: ignore[import-untyped]

from tests.receiver.frameworks import TestClient, configure_django
from tests.receiver.signing import SECRET, event, signed

PAGE = Path(__file__).resolve().parents[2] / "docs" / "receiving.md"
TOKEN = "docs-example-token"
FORGED = "v1," + "A" * 43 + "="

Capture = pytest.CaptureFixture[str]
Check = Callable[[str, Capture, pytest.MonkeyPatch], Any]


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.DOTALL)


def title(block: str) -> str:
    first = block.splitlines()[0]
    assert first.startswith("# "), "each example starts with a comment naming it"
    return first[2:].split(":")[0]


def load(code: str, namespace: dict[str, Any] | None = None) -> dict[str, Any]:
    namespace = {"__name__": "docs_example"} if namespace is None else namespace
    exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102 - the page's own examples
    return namespace


def printed(capsys: Capture) -> list[str]:
    return capsys.readouterr().out.splitlines()


async def check_receiver(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    receiver = load(code)["receiver"]
    paid = signed(event("invoice.paid", id="in_1"))
    requests = [
        paid,
        paid,
        signed(event("invoice.voided")),
        signed(event("account.closed")),
        signed(event("x.y")),
    ]
    transport = httpx.ASGITransport(app=receiver)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop.example") as client:
        answers = [await client.post("/", content=body, headers=headers) for body, headers in requests]

    assert [(a.status_code, a.json()["status"]) for a in answers] == [
        (200, "handled"),
        (200, "duplicate"),
        (200, "handled"),
        (410, "unsubscribed"),
        (200, "ignored"),
    ]
    assert printed(capsys) == ["invoice paid: in_1", "invoice event: invoice.voided"]


async def check_event_type_header(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    receiver = load(code)["receiver"]
    body, headers = signed({"id": 42})
    outcome = await receiver.handle(body, {**headers, "X-Event-Type": "order.created"})
    assert outcome.result == "handled"
    assert printed(capsys) == ["new order: 42"]


def check_fastapi(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    app = load(code)["app"]
    body, headers = signed(event("invoice.paid", id="in_2"))
    with TestClient(app) as client:
        kit = client.post("/webhooks", content=body, headers=headers)
        own = client.post("/billing/webhooks", content=body, headers=headers)
        forged = client.post(
            "/billing/webhooks", content=body, headers={**headers, "webhook-signature": FORGED}
        )

    assert kit.json() == {"status": "handled"}
    assert own.status_code == 204
    assert (forged.status_code, forged.json()["detail"]["code"]) == (401, "no_matching_signature")
    assert printed(capsys) == ["invoice paid: in_2", f"billing event: invoice.paid {headers['webhook-id']}"]


def check_flask(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    client = load(code)["app"].test_client()
    body, headers = signed(event("invoice.paid", id="in_3"))
    kit = client.post("/webhooks", data=body, headers=headers)
    again = client.post("/webhooks", data=body, headers=headers)
    own = client.post("/billing/webhooks", data=body, headers=headers)
    forged = client.post("/billing/webhooks", data=body, headers={**headers, "webhook-signature": FORGED})

    assert (kit.get_json(), again.get_json()) == ({"status": "handled"}, {"status": "duplicate"})
    assert own.status_code == 204
    assert forged.status_code == 401
    assert printed(capsys) == ["invoice paid: in_3", f"billing event: invoice.paid {headers['webhook-id']}"]


def check_django(code: str, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    configure_django()
    module = types.ModuleType("docs_billing_webhooks")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    body, headers = signed(event("invoice.paid", id="in_4"))
    with override_settings(WEBHOOK_SECRET=SECRET, ROOT_URLCONF=module.__name__):
        load(code, module.__dict__)
        client = DjangoClient(enforce_csrf_checks=True)

        def post(url: str, sent: dict[str, str]) -> Any:
            return client.post(url, data=body, content_type="application/json", headers=sent)

        kit, again = post("/webhooks/", headers), post("/webhooks/", headers)
        own = post("/billing/webhooks/", headers)
        forged = post("/billing/webhooks/", {**headers, "webhook-signature": FORGED})

    assert [orjson.loads(r.content) for r in (kit, again)] == [{"status": "handled"}, {"status": "duplicate"}]
    assert own.status_code == 204
    assert forged.status_code == 401
    assert printed(capsys) == ["invoice paid: in_4", f"billing event: invoice.paid {headers['webhook-id']}"]


async def check_sqlite(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    receiver = load(code)["receiver"]
    body, headers = signed(event("invoice.paid"))
    try:
        results = [(await receiver.handle(body, headers)).result for _ in range(2)]
    finally:
        await receiver.deduplicator.close()
    assert results == ["handled", "duplicate"]
    assert printed(capsys) == ["received invoice.paid"]
    assert Path("receipts.db").exists()


async def check_token(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    receiver = load(code)["receiver"]
    body = orjson.dumps(event("invoice.paid"))
    accepted = await receiver.handle(body, {"X-Webhook-Token": TOKEN})
    refused = await receiver.handle(body, {"X-Webhook-Token": "guess"})
    assert (accepted.status, refused.status) == (200, 401)
    assert printed(capsys) == ["received invoice.paid id: None"]


def check_by_hand(code: str, capsys: Capture, _: pytest.MonkeyPatch) -> None:
    receive = load(code)["receive"]
    body, headers = signed(event("invoice.paid"))
    assert receive(body, headers) == 204
    assert receive(body, {**headers, "webhook-signature": FORGED}) == 401
    assert printed(capsys) == ["verified: invoice.paid", "refused: no_matching_signature"]


CHECKS: dict[str, Check] = {
    "webhooks.py": check_receiver,
    "Event types from a header rather than from the payload": check_event_type_header,
    "main.py": check_fastapi,
    "app.py": check_flask,
    "billing/webhooks.py": check_django,
    "Several processes on one machine share their receipts through SQLite": check_sqlite,
    "A sender that authenticates with a static token": check_token,
    "Any framework, by hand": check_by_hand,
}


def test_every_example_has_a_check() -> None:
    assert sorted(title(block) for block in python_blocks()) == sorted(CHECKS)


# Synchronous on purpose: Django's test client refuses to run inside an event loop, so the
# async checks get a loop of their own.
@pytest.mark.parametrize("block", python_blocks(), ids=title)
def test_example(block: str, capsys: Capture, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("WEBHOOK_TOKEN", TOKEN)
    monkeypatch.chdir(tmp_path)
    result = CHECKS[title(block)](block, capsys, monkeypatch)
    if inspect.iscoroutine(result):
        asyncio.run(result)
