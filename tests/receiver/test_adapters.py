"""Every adapter end to end through its framework's own test client, and interoperability with
the official ``standardwebhooks`` and ``svix`` libraries."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

import flask
import orjson
import pytest
from django.test import Client as DjangoClient  # type: ignore[import-untyped]
from fastapi import Depends, FastAPI
from standardwebhooks.webhooks import Webhook as StandardWebhook
from svix.webhooks import Webhook as SvixWebhook

from hookwire.core.signing import generate_secret
from hookwire.receiver import Receiver, Webhook
from hookwire.receiver.fastapi import receiver_route, verified_webhook
from hookwire.receiver.flask import receiver_blueprint, webhook_view
from tests.receiver import django_urls
from tests.receiver.frameworks import TestClient, configure_django
from tests.receiver.signing import OTHER_SECRET, SECRET, event, new_id, signed

NEW_SECRET = generate_secret()
VerifiedWebhook = Annotated[Webhook, Depends(verified_webhook(SECRET, max_body_size=1000))]
RotatingWebhook = Annotated[Webhook, Depends(verified_webhook([NEW_SECRET, SECRET]))]


# -- FastAPI / Starlette -------------------------------------------------------------------------


class FastAPISite:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Webhook]] = []
        self.receiver = Receiver(SECRET)
        self.receiver.on("*")(self._record("receiver"))
        self.app = FastAPI()
        self.app.router.routes.append(receiver_route(self.receiver, "/webhooks"))
        self.app.mount("/mounted", self.receiver)

        @self.app.post("/dependency", status_code=204)
        async def dependency(webhook: VerifiedWebhook) -> None:
            self.seen.append(("dependency", webhook))

        @self.app.post("/rotating", status_code=204)
        async def rotating(webhook: RotatingWebhook) -> None:
            self.seen.append(("rotating", webhook))

    def _record(self, name: str) -> Any:
        async def record(webhook: Webhook) -> None:
            self.seen.append((name, webhook))

        return record


@pytest.fixture
def fastapi_site() -> FastAPISite:
    return FastAPISite()


@pytest.fixture
def fastapi_client(fastapi_site: FastAPISite) -> Iterator[TestClient]:
    with TestClient(fastapi_site.app) as client:
        yield client


def test_fastapi_receiver_as_a_route_and_as_a_mount(
    fastapi_site: FastAPISite, fastapi_client: TestClient
) -> None:
    body, headers = signed(event("invoice.paid"))
    routed = fastapi_client.post("/webhooks", content=body, headers=headers)
    again = fastapi_client.post("/mounted/", content=body, headers=headers)
    # A mount answers its bare path with a redirect, which webhook senders do not follow.
    redirected = fastapi_client.post("/mounted", content=body, headers=headers, follow_redirects=False)

    assert routed.json() == {"status": "handled"}
    assert again.json() == {"status": "duplicate"}
    assert redirected.status_code == 307
    assert [name for name, _ in fastapi_site.seen] == ["receiver"]


def test_fastapi_receiver_rejects_a_bad_signature(
    fastapi_site: FastAPISite, fastapi_client: TestClient
) -> None:
    body, headers = signed(event("invoice.paid"), secrets=[OTHER_SECRET])
    response = fastapi_client.post("/webhooks", content=body, headers=headers)
    assert response.status_code == 401
    assert response.json()["code"] == "no_matching_signature"
    assert fastapi_site.seen == []


def test_fastapi_dependency(fastapi_site: FastAPISite, fastapi_client: TestClient) -> None:
    body, headers = signed(event("invoice.paid", id="in_7"))
    accepted = fastapi_client.post("/dependency", content=body, headers=headers)
    forged = fastapi_client.post("/dependency", content=body, headers={**headers, "webhook-id": "msg_forged"})
    too_large = fastapi_client.post("/dependency", content=b"x" * 1001, headers=headers)

    assert accepted.status_code == 204
    [(name, webhook)] = fastapi_site.seen
    assert (name, webhook.id, webhook.payload["data"]["id"]) == ("dependency", headers["webhook-id"], "in_7")
    assert forged.status_code == 401
    assert forged.json()["detail"]["code"] == "no_matching_signature"
    assert too_large.status_code == 413


def test_a_rotated_pair_of_secrets_verifies_during_the_overlap(
    fastapi_site: FastAPISite, fastapi_client: TestClient
) -> None:
    # The sender signs with the new and the old secret while the rotation overlaps; a receiver
    # may hold either or both, and must accept any one matching signature.
    statuses = {
        name: fastapi_client.post("/rotating", content=body, headers=headers).status_code
        for name, (body, headers) in {
            "old": signed(event("a.b"), secrets=[SECRET]),
            "new": signed(event("a.b"), secrets=[NEW_SECRET]),
            "both": signed(event("a.b"), secrets=[NEW_SECRET, SECRET]),
            "unrelated": signed(event("a.b"), secrets=[OTHER_SECRET]),
        }.items()
    }
    assert statuses == {"old": 204, "new": 204, "both": 204, "unrelated": 401}


@pytest.mark.parametrize("library", ["standardwebhooks", "svix"])
def test_payloads_signed_by_the_reference_libraries_verify(
    library: str, fastapi_site: FastAPISite, fastapi_client: TestClient
) -> None:
    msg_id = new_id()
    now = datetime.fromtimestamp(int(time.time()), UTC)
    data = orjson.dumps(event("invoice.paid", id="in_9")).decode()
    if library == "svix":
        signature = SvixWebhook(SECRET).sign(msg_id, now, data)
        prefix = "svix"  # Svix sends svix-* headers
    else:
        signature = StandardWebhook(SECRET).sign(msg_id, now, data)
        prefix = "webhook"
    headers = {
        f"{prefix}-id": msg_id,
        f"{prefix}-timestamp": str(int(now.timestamp())),
        f"{prefix}-signature": signature,
    }

    response = fastapi_client.post("/webhooks", content=data.encode(), headers=headers)

    assert response.json() == {"status": "handled"}
    [(_, webhook)] = fastapi_site.seen
    assert (webhook.id, webhook.event_type, webhook.timestamp) == (msg_id, "invoice.paid", now)


# -- Flask ---------------------------------------------------------------------------------------


@pytest.fixture
def flask_app() -> flask.Flask:
    app = flask.Flask("receiver_tests")
    app.extensions["seen"] = []
    receiver = Receiver(SECRET)

    @receiver.on("invoice.*")
    def invoice(webhook: Webhook) -> None:
        # Runs in the request's thread and context: the app is reachable as in any view.
        flask.current_app.extensions["seen"].append(("receiver", webhook.id, flask.request.path))

    @receiver.on("boom")
    async def boom(webhook: Webhook) -> None:
        raise RuntimeError("handler failed")

    @app.post("/accounts/<account>/webhooks")
    @webhook_view(SECRET, max_body_size=1000)
    def account_hook(webhook: Webhook, account: str) -> tuple[str, int]:
        flask.current_app.extensions["seen"].append((f"view {account}", webhook.id, webhook.event_type))
        return "", 204

    app.register_blueprint(receiver_blueprint(receiver, "/webhooks", url_prefix="/hooks"))
    return app


def test_flask_view_decorator(flask_app: flask.Flask) -> None:
    client = flask_app.test_client()
    body, headers = signed(event("invoice.paid"))

    accepted = client.post("/accounts/acme/webhooks", data=body, headers=headers)
    forged = client.post("/accounts/acme/webhooks", data=body + b" ", headers=headers)
    too_large = client.post("/accounts/acme/webhooks", data=b"x" * 1001, headers=headers)

    assert accepted.status_code == 204
    assert flask_app.extensions["seen"] == [("view acme", headers["webhook-id"], "invoice.paid")]
    assert forged.status_code == 401
    assert forged.get_json() == {
        "status": "rejected",
        "code": "no_matching_signature",
        "detail": "no v1 signature matches the secret",
    }
    assert too_large.status_code == 413


def test_flask_receiver_blueprint(flask_app: flask.Flask) -> None:
    client = flask_app.test_client()
    body, headers = signed(event("invoice.paid"))

    first = client.post("/hooks/webhooks", data=body, headers=headers)
    second = client.post("/hooks/webhooks", data=body, headers=headers)
    failed = client.post("/hooks/webhooks", data=signed(event("boom"))[0], headers=signed(event("boom"))[1])
    bad = client.post("/hooks/webhooks", data=body, headers={**headers, "webhook-signature": "v1,"})

    assert (first.status_code, first.get_json()) == (200, {"status": "handled"})
    assert second.get_json() == {"status": "duplicate"}
    assert flask_app.extensions["seen"] == [("receiver", headers["webhook-id"], "/hooks/webhooks")]
    assert failed.status_code == 500
    assert (bad.status_code, bad.get_json()["code"]) == (400, "malformed_header")
    assert client.get("/hooks/webhooks").status_code == 405


# -- Django --------------------------------------------------------------------------------------


@pytest.fixture
def django_client() -> DjangoClient:
    configure_django()
    django_urls.received.clear()
    # CSRF checks on: the views must be exempt, as a webhook sender has no CSRF token.
    return DjangoClient(enforce_csrf_checks=True)


def django_post(client: DjangoClient, url: str, body: bytes, headers: dict[str, str]) -> Any:
    return client.post(url, data=body, content_type="application/json", headers=headers)


def test_django_view_decorator(django_client: DjangoClient) -> None:
    body, headers = signed(event("invoice.paid"))

    accepted = django_post(django_client, "/accounts/acme/webhooks", body, headers)
    forged = django_post(
        django_client, "/accounts/acme/webhooks", body, {**headers, "webhook-timestamp": "1"}
    )
    wrong_method = django_client.get("/accounts/acme/webhooks")

    assert accepted.status_code == 204
    [(name, webhook, _)] = django_urls.received
    assert (name, webhook.id) == ("account_hook acme", headers["webhook-id"])
    assert forged.status_code == 401
    assert orjson.loads(forged.content)["code"] == "timestamp_out_of_tolerance"
    assert wrong_method.status_code == 405


def test_django_async_view_with_a_static_token(django_client: DjangoClient) -> None:
    body = orjson.dumps(event("invoice.paid"))

    accepted = django_post(django_client, "/async/webhooks", body, {"x-webhook-token": "shared-token"})
    refused = django_post(django_client, "/async/webhooks", body, {"x-webhook-token": "guess"})

    assert orjson.loads(accepted.content) == {"event_type": "invoice.paid"}
    assert (refused.status_code, orjson.loads(refused.content)["code"]) == (401, "invalid_token")


def test_django_receiver_view(django_client: DjangoClient) -> None:
    body, headers = signed(event("invoice.paid"))

    first = django_post(django_client, "/receiver/webhooks", body, headers)
    second = django_post(django_client, "/receiver/webhooks", body, headers)
    gone = django_post(django_client, "/receiver/webhooks", *signed(event("customer.deleted")))

    assert (first.status_code, orjson.loads(first.content)) == (200, {"status": "handled"})
    assert orjson.loads(second.content) == {"status": "duplicate"}
    assert gone.status_code == 410
    [(name, _, thread)] = django_urls.received
    # sync_to_async(thread_sensitive=True) brings the handler back to the request's thread.
    assert (name, thread) == ("receiver", threading.get_ident())
    assert django_client.get("/receiver/webhooks").status_code == 405
