"""The dashboard's parts in process: signed cookies, form values, the chart, error pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from hookwire import Webhooks
from hookwire.api import create_app
from hookwire.api.context import ServerOptions
from hookwire.core.errors import NotFound, ValidationError
from hookwire.core.stats import TimelineBucket, fill_timeline
from hookwire.dashboard import chart, forms
from hookwire.dashboard.guard import DashboardRoute
from hookwire.dashboard.render import duration, percent, pretty_json
from hookwire.dashboard.routes.auth import safe_next
from hookwire.dashboard.session import Sessions, Signer

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def test_sessions_round_trip_and_refuse_tampering() -> None:
    sessions = Sessions("a secret")
    issued, cookie = sessions.issue("key_1", "app_1", "hwk_token", NOW)
    assert sessions.read(cookie, NOW) == issued
    assert "hwk_token" not in cookie
    body, mac = cookie.split(".")
    assert sessions.read(body[:-2] + "xx." + mac, NOW) is None
    assert sessions.read(cookie, NOW + timedelta(hours=13)) is None  # expired
    assert Sessions("another secret").read(cookie, NOW) is None
    assert sessions.read("garbage", NOW) is None
    assert sessions.read(None, NOW) is None


def test_a_sign_in_cookie_is_not_a_session() -> None:
    sessions = Sessions("a secret")
    token, cookie = sessions.sign_in_token(NOW)
    assert sessions.sign_in_token_of(cookie, NOW) == token
    assert sessions.read(cookie, NOW) is None
    signer = Signer("a secret")
    assert signer.unsign("session", signer.sign("sign-in", {"e": 2**40}), NOW) is None


def test_times_in_forms_are_utc() -> None:
    assert forms.parse_time("2024-05-01T12:30", "since") == datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
    assert forms.parse_time("", "since") is None
    assert forms.time_value(datetime(2024, 5, 1, 12, 30, 45, tzinfo=UTC)) == "2024-05-01T12:30"
    with pytest.raises(ValidationError, match="since"):
        forms.parse_time("yesterday", "since")


def test_filters_and_masked_headers() -> None:
    assert forms.parse_filter("a.b\n c.* , d\n\n") == ["a.b", "c.*", "d"]
    assert forms.parse_filter("  ") is None
    current = {"Authorization": "Bearer t0ken", "X-Old": "1"}
    assert forms.masked_headers(current) == f"Authorization: {forms.MASK}\nX-Old: {forms.MASK}"
    edited = f"authorization: {forms.MASK}\nX-New: two words"
    assert forms.parse_headers(edited, current) == {"authorization": "Bearer t0ken", "X-New": "two words"}
    with pytest.raises(ValidationError, match="line 1"):
        forms.parse_headers(f"X-Unknown: {forms.MASK}", current)
    with pytest.raises(ValidationError, match="Name: value"):
        forms.parse_headers("no colon here", current)


def test_the_chart_stacks_attempts_and_breaks_the_ratio_line_on_gaps() -> None:
    bucket = timedelta(minutes=1)
    found = [TimelineBucket(NOW, 3, 1), TimelineBucket(NOW + 2 * bucket, 0, 2)]
    filled = fill_timeline(found, since=NOW, until=NOW + 3 * bucket, bucket=bucket)
    assert [b.attempts for b in filled] == [4, 0, 2, 0]
    drawn = chart.build(filled, bucket)
    assert drawn.attempts == 6
    assert drawn.success_ratio == pytest.approx(0.5)
    tallest = drawn.bars[0]
    assert tallest.failed_y == 0  # the peak reaches the top
    assert tallest.succeeded_height == pytest.approx(chart.HEIGHT * 3 / 4)
    assert len(drawn.ratio_lines) == 2  # no line across the empty minute
    assert drawn.peak_per_minute == 4
    assert drawn.time_labels[0] == "12:00"
    assert chart.build([], bucket).bars == ()


def test_display_helpers() -> None:
    assert duration(timedelta(seconds=42)) == "42 s"
    assert duration(timedelta(hours=3, minutes=5)) == "3 h 5 min"
    assert duration(timedelta(days=2)) == "2 d"
    assert percent(None) == "\u2013"
    assert percent(1 / 3) == "33.3 %"
    assert percent(1.0) == "100 %"
    assert pretty_json(b'{"a":[1,2]}') == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert pretty_json(b"not json") == "not json"


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/apps/x?y=1", "/apps/x?y=1"),
        ("//evil.example", "/"),
        ("https://evil.example", "/"),
        ("/\\evil", "/"),
    ],
)
def test_after_sign_in_only_local_paths(given: str, kept: str) -> None:
    assert safe_next(given) == kept


async def test_errors_are_pages_in_the_dashboards_look() -> None:
    router = APIRouter(route_class=DashboardRoute)

    @router.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    @router.get("/missing")
    async def missing() -> None:
        raise NotFound("nothing")

    app = FastAPI()
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        failed = await client.get("/broken")
        assert failed.status_code == 500
        assert "Something went wrong" in failed.text
        assert "a bug" not in failed.text  # logged, never shown
        assert failed.headers["cache-control"] == "no-store"
        assert (await client.get("/missing")).status_code == 404


async def test_over_https_the_session_cookie_is_secure(tmp_path: Path) -> None:
    hooks = Webhooks(f"sqlite:///{tmp_path / 'h.db'}", worker=False)
    app = create_app(hooks, ServerOptions(admin_keys=("hwk_admin",), session_secret="s"))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="https://dashboard.test") as client:
            form = await client.get("/sign-in")
            assert "secure" in form.headers["set-cookie"].lower()
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token is not None
            data = {"token": "hwk_admin", "csrf_token": token.group(1), "next": "/apps"}
            signed_in = await client.post("/sign-in", data=data)
            assert signed_in.status_code == 303
            cookie = signed_in.headers["set-cookie"].lower()
            assert cookie.startswith("hookwire_session=")
            assert "secure" in cookie
            assert "httponly" in cookie
            assert (await client.get("/sign-in?next=/apps")).headers["location"] == "/apps"
    finally:
        await hooks.close()
