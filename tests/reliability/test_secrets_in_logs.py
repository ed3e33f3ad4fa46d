"""Canaries: no endpoint secret, signature or token may ever reach a log. Deliveries run with
every logger at DEBUG (successes, failures, retries, a 410, a timeout, a blocked address, a
secret rotation, a callback that raises), then a ``hookwire worker`` process runs more of them;
everything logged and everything the process wrote is searched for each secret and for every
``webhook-signature`` the receivers saw."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from hookwire import DeliveryEvent, Webhooks
from hookwire.core.clock import utcnow
from hookwire.store.base import Claim
from hookwire.testing import Receiver
from tests.e2e.workers import start_worker, stop
from tests.reliability.conftest import loopback_settings
from tests.reliability.servers import RawServer, hang

TOKEN = "Bearer canary-token-5f1c9e02"
LOGGERS = ("hookwire", "aiohttp", "asyncio", "psycopg", "psycopg.pool")


def _raise(event: DeliveryEvent) -> None:
    raise RuntimeError(f"callback failed for {event.message_id}")


def canaries(secrets: list[str], receivers: list[Receiver]) -> set[str]:
    """Each secret with and without its prefix, each signature header and each signature in it."""
    found = {TOKEN, TOKEN.removeprefix("Bearer ")}
    for secret in secrets:
        found |= {secret, secret.removeprefix("whsec_")}
    for receiver in receivers:
        for request in receiver.requests:
            header = request.headers["webhook-signature"]
            found.add(header)
            for signature in header.split():
                found |= {signature, signature.removeprefix("v1,")}
    return found


@pytest.mark.slow
@pytest.mark.timeout(60)
async def test_no_secret_or_signature_is_ever_logged(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    settings = loopback_settings(retry_schedule=(0, 0.05, 0.05), request_timeout=1.0)
    async with Receiver() as flaky, Receiver() as gone, RawServer(hang()) as hanging:
        flaky.respond(500, 500, 200)
        gone.respond(410)
        async with Webhooks(database_url, settings=settings) as hooks:
            hooks.on_failure(_raise)
            endpoints = [
                await hooks.endpoints.create("default", flaky.url, headers={"Authorization": TOKEN}),
                await hooks.endpoints.create("default", gone.url),
                await hooks.endpoints.create("default", hanging.url),
                await hooks.endpoints.create("default", "http://169.254.169.254/latest/meta-data/"),
            ]
            secrets = [endpoint.secret for endpoint in endpoints]
            secrets.append(await hooks.endpoints.rotate_secret("default", endpoints[0].id))
            await hooks.trigger("a.b", {"n": 1})
            await flaky.wait_for(3)
            await hooks.wait_until_idle(timeout=20)
        cli_output = await _through_the_cli_worker(database_url, tmp_path / "worker.log", flaky)

    logged = caplog.text
    leaked = sorted(c for c in canaries(secrets, [flaky, gone]) if c in logged or c in cli_output)
    print(
        f"\nsecrets canary: {len(canaries(secrets, [flaky, gone]))} canaries searched in "
        f"{len(caplog.records)} log records and {len(cli_output)} characters of CLI output; leaked: {leaked}"
    )
    # The capture did see hookwire's own logging, tracebacks included, and the worker's output.
    assert "a delivery callback raised" in logged
    assert "hookwire worker delivering" in cli_output
    assert leaked == []


async def _through_the_cli_worker(database_url: str, log: Path, receiver: Receiver) -> str:
    """Deliver two more messages with a ``hookwire worker`` process; return all it printed."""
    async with Webhooks(database_url, worker=False) as hooks:
        seen = len(receiver.requests)
        await hooks.trigger("a.b", {"n": 2})
        await hooks.trigger("a.b", {"n": 3})
        worker = start_worker(database_url, log)
        try:
            await receiver.wait_for(seen + 2, timeout=30)
            await asyncio.sleep(0.2)
        finally:
            assert stop(worker) == 0
    return log.read_text()


def test_a_claim_shows_no_secret_when_logged() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    claim = Claim(
        delivery_id="dlv_1",
        lease_token=1,
        message_id="msg_1",
        app_id="app_1",
        endpoint_id="ep_1",
        event_type="a.b",
        payload=b"{}",
        message_headers={},
        url="https://example.com/",
        endpoint_headers={},
        secrets=(secret,),
        retry_schedule=None,
        attempts=0,
        round_attempts=0,
        manual=False,
        failing_since=utcnow(),
        endpoint_disabled=False,
    )

    assert secret.removeprefix("whsec_") not in repr(claim)
    assert secret.removeprefix("whsec_") not in str(claim)


@pytest.mark.timeout(60)
async def test_the_cli_worker_never_prints_the_database_password(postgres_url: str, tmp_path: Path) -> None:
    # The test server trusts local connections, so any password works and only this one is used.
    parts = urlsplit(postgres_url)
    user = parts.username or "postgres"
    with_password = urlunsplit(
        parts._replace(netloc=f"{user}:canary-db-password-71c2@{parts.hostname or ''}")
    )
    log = tmp_path / "worker.log"
    worker = start_worker(with_password, log)
    try:
        async with asyncio.timeout(20):
            while "delivering" not in log.read_text():
                await asyncio.sleep(0.05)
    finally:
        assert stop(worker) == 0
    assert "canary-db-password-71c2" not in log.read_text()
