"""The browser tests skip on a machine without Chromium, and never under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser import conftest


def test_without_chromium_ci_fails_and_a_laptop_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="may not be skipped in CI"):
        conftest.require_browser()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="chromium"):
        conftest.require_browser()
