"""Helpers for the dashboard tests: signing in over plain HTTP, seeding data, screenshots."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from playwright.async_api import Page

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SCREENSHOTS = Path(__file__).parent / "screenshots"
WIDTHS = {1280: 900, 390: 844}  # width -> viewport height (a laptop, a phone)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: httpx.Client, token: str, next_path: str = "/") -> httpx.Response:
    """Sign in the way a browser does: fetch the form (and its cookie), post it back."""
    form = client.get("/sign-in")
    assert form.status_code == 200
    data = {"token": token, "csrf_token": csrf_of(form.text), "next": next_path}
    return client.post("/sign-in", data=data)


def create(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    assert response.status_code in (201, 202), response.text
    created: dict[str, Any] = response.json()
    return created


def wait_for_stats(client: httpx.Client, app: str, endpoint: str, **expected: int) -> None:
    """Wait until the endpoint's delivery counts (``success``, ``fail``, ...) are as expected."""
    deadline = time.monotonic() + 15
    while True:
        stats = client.get(f"/api/v1/app/{app}/endpoint/{endpoint}/stats").json()
        if all(stats[name] == count for name, count in expected.items()):
            return
        assert time.monotonic() < deadline, f"stats stayed {stats}, expected {expected}"
        time.sleep(0.05)


class Screenshots:
    """Saves each main page at both widths, and checks what a narrow screen shows."""

    def __init__(self) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        self.saved: list[Path] = []

    async def take(self, page: Page, name: str) -> None:
        for width, height in WIDTHS.items():
            await page.set_viewport_size({"width": width, "height": height})
            path = SCREENSHOTS / f"{name}-{width}.png"
            await page.screenshot(path=str(path), full_page=True)
            self.saved.append(path)
            overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
        await page.set_viewport_size({"width": 1280, "height": WIDTHS[1280]})


UNLABELLED = """() => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea'
)).filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""


async def assert_accessible_forms(page: Page) -> None:
    """Every field has a label, and every control is a real link, button or field."""
    assert await page.evaluate(UNLABELLED) == []
    clickable = await page.evaluate("document.querySelectorAll('[onclick], div[role=button]').length")
    assert clickable == 0
