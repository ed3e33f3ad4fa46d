"""A real ``hookwire serve`` and Debian's Chromium for the dashboard tests.

Without Chromium (or the ``playwright`` package) the browser tests skip on a developer's machine
and fail under CI, where they must run.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.api.server import Server, running_server

if TYPE_CHECKING:
    from playwright.async_api import Browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_browser() -> None:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package")
    if not missing:
        return
    reason = "the dashboard's browser tests need " + " and ".join(missing)
    if in_ci():
        pytest.fail(reason + "; they may not be skipped in CI")
    pytest.skip(reason)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    """``hookwire serve`` on a fresh SQLite file, allowed to deliver to loopback receivers."""
    with running_server(
        f"sqlite:///{tmp_path / 'dashboard.db'}", tmp_path / "serve.log", "--allow-network", "127.0.0.0/8"
    ) as running:
        yield running


@pytest.fixture
def admin_api(server: Server) -> Iterator[httpx.Client]:
    """The server's HTTP API with the admin key."""
    headers = {"authorization": f"Bearer {server.admin_key}"}
    with httpx.Client(base_url=server.url, headers=headers) as client:
        yield client


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()
