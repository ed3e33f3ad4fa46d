"""An operator's round in the dashboard, in Chromium, against a real ``hookwire serve``.

A local receiver fails the first two messages (each with a response body; the endpoint has a
single attempt per delivery, so they fail for good) and accepts everything after. The operator
signs in, reads the overview, opens the endpoint and a failed message with its attempts,
resends it, reveals and rotates the secret, disables and re-enables the endpoint, edits its
filter and headers, sends a test event, and recovers the other failed delivery after seeing the
count. Every main page is saved at both widths under ``tests/browser/screenshots/``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx

from hookwire import Webhooks
from hookwire.core.clock import utcnow
from hookwire.testing import Receiver, Reply
from tests.api.server import Server
from tests.browser.dashboard import Screenshots, assert_accessible_forms, create, wait_for_stats

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page

TEAM = "team-core-7f3a"  # a header value, which the dashboard must never show
REFUSAL = b'{"error": "database is locked"}'


@dataclass
class Round:
    """What the steps of the round share."""

    server: Server
    api: httpx.Client
    receiver: Receiver
    page: Page
    app: str
    endpoint: str
    secret: str
    messages: list[str]
    since: datetime
    shots: Screenshots = field(default_factory=Screenshots)
    endpoint_url: str = ""
    rotated: str = ""

    def deliveries_of(self, message: str) -> int:
        return sum(request.webhook_id == message for request in self.receiver.requests)

    async def wait_for_delivery(self, message: str, times: int) -> None:
        async with asyncio.timeout(10):
            while self.deliveries_of(message) < times:
                await asyncio.sleep(0.02)


async def seed(server: Server, receiver: Receiver) -> tuple[str, str, str]:
    """An application with an endpoint at the receiver (one attempt per delivery) and a quiet
    one; returns the application's id, the endpoint's id and its secret."""
    async with Webhooks(server.database_url, worker=False) as hooks:
        app = await hooks.apps.create("Acme Corp", uid="acme")
        endpoint = await hooks.endpoints.create(
            app.id, receiver.url, description="Order events", retry_schedule=[0]
        )
        await hooks.endpoints.create(app.id, "https://billing.example.com/hooks", filter_types=["invoice.*"])
    return app.id, endpoint.id, endpoint.secret


async def send(client: httpx.Client, receiver: Receiver, app: str, payload: dict[str, Any]) -> str:
    """Send a message and wait until the receiver got it."""
    arrived = len(receiver.requests)
    message = create(client, f"/api/v1/app/{app}/msg", {"eventType": "order.created", "payload": payload})
    await receiver.wait_for(arrived + 1)
    return str(message["id"])


async def test_operator_round(
    browser: Browser, server: Server, admin_api: httpx.Client, receiver: Receiver
) -> None:
    since = utcnow() - timedelta(minutes=1)
    app, endpoint, secret = await seed(server, receiver)
    receiver.respond(*[Reply(500, REFUSAL)] * 2)
    sent = [await send(admin_api, receiver, app, {"order": n, "total": "12.50"}) for n in range(3)]
    wait_for_stats(admin_api, app, endpoint, success=1, fail=2)

    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    outside: list[str] = []
    console_errors: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(server.url) else outside.append(r.url))
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    round_ = Round(server, admin_api, receiver, page, app, endpoint, secret, sent, since)

    for step in (sign_in, overview, endpoint_health, messages, secret_rotation, disable_and_enable):
        await step(round_)
    for step in (filter_and_headers, send_test_event, recover):
        await step(round_)
    assert console_errors == []  # nothing refused by the content security policy, no broken link
    await errors_and_sign_out(round_)
    await context.close()

    assert outside == [], "the dashboard loaded something from elsewhere"
    assert len(round_.shots.saved) == 2 * 11
    log = server.log.read_text()
    for secret_text in (server.admin_key, secret, round_.rotated, TEAM):
        assert secret_text not in log


async def sign_in(r: Round) -> None:
    """Without a session every page leads to the sign-in form, and back after it."""
    from playwright.async_api import expect

    await r.page.goto(r.server.url + "/messages")
    assert "/sign-in" in r.page.url
    await r.shots.take(r.page, "sign-in")
    await r.page.get_by_label("API key").fill(r.server.admin_key)
    await r.page.get_by_role("button", name="Sign in").click()
    await expect(r.page.get_by_role("heading", name="Messages", level=1)).to_be_visible()
    [cookie] = [c for c in await r.page.context.cookies() if c["name"] == "hookwire_session"]
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Lax"
    assert r.server.admin_key not in cookie["value"]


async def overview(r: Round) -> None:
    """The chart of the attempts, the backlog, the window switch."""
    from playwright.async_api import expect

    page = r.page
    await page.get_by_role("link", name="Overview").click()
    await expect(page.get_by_role("heading", name="Overview", level=1)).to_be_visible()
    summary = page.locator("#chart-summary")
    await expect(summary).to_contain_text("3 attempts in the last 6 h, 33.3 % succeeded")
    assert await page.locator("svg rect.fail").count() >= 1
    await expect(page.locator(".card", has_text="Pending deliveries").locator(".figure")).to_have_text("0")
    await page.get_by_role("link", name="24 h").click()
    await expect(summary).to_contain_text("in the last 24 h")
    await assert_accessible_forms(page)
    await r.shots.take(page, "overview")


async def endpoint_health(r: Round) -> None:
    """Applications -> the application -> its endpoints with their health -> one endpoint."""
    from playwright.async_api import expect

    page, url = r.page, r.receiver.url
    await page.get_by_role("link", name="Applications").click()
    await r.shots.take(page, "applications")
    await page.get_by_role("link", name="Acme Corp").click()
    row = page.locator("tr", has_text=url)
    await expect(row).to_contain_text("33.3 %")
    await expect(page.locator("tr", has_text="billing.example.com")).to_contain_text("no attempts")
    await r.shots.take(page, "application")
    await row.get_by_role("link", name=url).click()
    await expect(page.get_by_role("heading", name=url)).to_be_visible()
    await expect(page.locator(".card", has_text="Success, last 24 h")).to_contain_text("1 of 3 attempts")
    await expect(page.locator("#attempts-title + .table-wrap tbody tr")).to_have_count(3)
    await assert_accessible_forms(page)
    await r.shots.take(page, "endpoint")
    r.endpoint_url = page.url


async def messages(r: Round) -> None:
    """Filter the failed messages, open one: payload, attempts with the response body; resend."""
    from playwright.async_api import expect

    page, failed = r.page, r.messages[0]
    await page.get_by_role("link", name="Messages").click()
    await expect(page.locator("tbody tr")).to_have_count(3)
    await page.get_by_label("Delivery status").select_option("failed")
    await page.get_by_role("button", name="Filter").click()
    await expect(page.locator("tbody tr")).to_have_count(2)
    await r.shots.take(page, "messages")
    await page.get_by_role("link", name=failed).click()
    await expect(page.locator("pre.payload")).to_contain_text('"order": 0')
    attempts = page.locator("article.delivery tbody tr")
    await expect(attempts).to_have_count(1)
    await expect(attempts).to_contain_text("500")
    await expect(attempts).to_contain_text(" ms")
    await attempts.get_by_text("Body (").click()
    await expect(attempts.locator("pre.body")).to_have_text(REFUSAL.decode())
    await r.shots.take(page, "message")
    await page.get_by_role("button", name=f"Resend to {r.receiver.url}").click()
    await expect(page.locator(".notice")).to_contain_text("queued to be sent to the endpoint again")
    await r.wait_for_delivery(failed, 2)
    wait_for_stats(r.api, r.app, r.endpoint, success=2, fail=1)
    await page.reload()
    await expect(attempts).to_have_count(2)
    await expect(attempts.first).to_contain_text("200")


async def secret_rotation(r: Round) -> None:
    """The secret is hidden until revealed; rotating it makes a new one."""
    from playwright.async_api import expect

    page = r.page
    await page.goto(r.endpoint_url)
    assert r.secret not in await page.content()
    await page.get_by_role("button", name="Reveal secret").click()
    await expect(page.locator("#secret-value")).to_have_text(r.secret)
    await r.shots.take(page, "endpoint-secret")
    await page.get_by_role("button", name="Rotate secret").click()
    await expect(page.locator(".notice")).to_contain_text("secret was rotated")
    await expect(page.locator("#secret-value")).to_have_count(0)
    await page.get_by_role("button", name="Reveal secret").click()
    r.rotated = (await page.locator("#secret-value").inner_text()).strip()
    assert r.rotated.startswith("whsec_")
    assert r.rotated != r.secret
    assert r.api.get(f"/api/v1/app/{r.app}/endpoint/{r.endpoint}/secret").json()["key"] == r.rotated


async def disable_and_enable(r: Round) -> None:
    """Disabling takes a reason, which the overview shows; enabling is one click."""
    from playwright.async_api import expect

    page, state = r.page, r.page.locator(".state-line")
    await page.goto(r.endpoint_url)
    await page.get_by_label("Reason (optional)").fill("customer maintenance window")
    await page.get_by_role("button", name="Disable endpoint").click()
    await expect(state).to_contain_text("Disabled")
    await expect(state).to_contain_text("customer maintenance window")
    assert r.api.get(f"/api/v1/app/{r.app}/endpoint/{r.endpoint}").json()["disabled"] is True
    await page.get_by_role("link", name="Overview").click()
    await expect(page.locator("#troubled-title + .table-wrap")).to_contain_text("customer maintenance window")
    await r.shots.take(page, "overview-disabled")
    await page.goto(r.endpoint_url)
    await page.get_by_role("button", name="Enable endpoint").click()
    await expect(page.locator(".notice")).to_contain_text("enabled again")
    await expect(state).to_contain_text("Enabled")
    assert r.api.get(f"/api/v1/app/{r.app}/endpoint/{r.endpoint}").json()["disabled"] is False


async def filter_and_headers(r: Round) -> None:
    """Header values never show; saving a masked value keeps it."""
    from playwright.async_api import expect

    page = r.page
    await page.get_by_text("Edit event types and headers").click()
    await page.get_by_label("Event types").fill("order.*")
    await page.get_by_label("Custom headers").fill(f"X-Team: {TEAM}")
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator(".notice")).to_contain_text("saved")
    await expect(page.locator(".facts")).to_contain_text("order.*")
    await expect(page.get_by_label("Custom headers")).to_have_value("X-Team: **********")
    assert TEAM not in await page.content()
    await page.get_by_text("Edit event types and headers").click()
    await page.get_by_role("button", name="Save").click()
    await expect(page.locator(".notice")).to_contain_text("saved")
    headers = r.api.get(f"/api/v1/app/{r.app}/endpoint/{r.endpoint}/headers").json()["headers"]
    assert headers == {"X-Team": TEAM}


async def send_test_event(r: Round) -> None:
    """A test event goes to this endpoint only, whatever its filter, signed with the new secret."""
    from playwright.async_api import expect

    r.receiver.secret = r.rotated
    arrived = len(r.receiver.requests)
    await r.page.get_by_role("button", name="Send test event").click()
    await expect(r.page.locator(".notice")).to_contain_text("Test event sent")
    await expect(r.page.locator("h1")).to_contain_text("hookwire.test")
    request = (await r.receiver.wait_for(arrived + 1))[arrived]
    assert request.json()["type"] == "hookwire.test"
    assert request.verified
    assert request.headers["x-team"] == TEAM


async def recover(r: Round) -> None:
    """The count first (sending nothing), then the resend."""
    from playwright.async_api import expect

    page, failed_second, succeeded = r.page, r.messages[1], r.messages[2]
    await page.goto(r.endpoint_url)
    await page.get_by_label("Since (UTC)").fill(r.since.strftime("%Y-%m-%dT%H:%M"))
    await page.get_by_role("button", name="Count failed deliveries").click()
    await expect(page.locator("#confirm-title")).to_have_text("1 failed delivery will be sent again")
    assert r.deliveries_of(failed_second) == 1
    await r.shots.take(page, "recover")
    await page.get_by_role("button", name="Resend 1 delivery").click()
    await expect(page.locator(".notice")).to_contain_text("1 failed delivery is queued")
    await r.wait_for_delivery(failed_second, 2)
    assert r.deliveries_of(succeeded) == 1


async def errors_and_sign_out(r: Round) -> None:
    """Errors look like the dashboard; signing out ends the session."""
    from playwright.async_api import expect

    page = r.page
    response = await page.goto(r.server.url + f"/apps/{r.app}/endpoints/ep_missing")
    assert response is not None
    assert response.status == 404
    await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    await r.shots.take(page, "not-found")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.locator(".notice")).to_contain_text("signed out")
    await page.goto(r.endpoint_url)
    assert "/sign-in" in page.url
