"""Rendering pages: the Jinja2 environment (autoescaping on for every template), the filters the
templates use, and the headers every dashboard response carries."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse

from hookwire._version import __version__
from hookwire.core.clock import utcnow

#: Nothing loads from anywhere but this server; no inline script or style is allowed to run.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    # Pages may show a revealed secret or response bodies: never keep them in a cache.
    "cache-control": "no-store",
}


def when(value: datetime | None) -> str:
    """``2024-05-01 12:03:04 UTC``."""
    return "never" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(value: timedelta) -> str:
    """A short human duration: ``45 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(0, int(value.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours < 1:
        return f"{minutes} min"
    if days < 1:
        return f"{hours} h {minutes % 60} min" if minutes % 60 else f"{hours} h"
    return f"{days} d {hours % 24} h" if hours % 24 else f"{days} d"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "never"
    delta = (now or utcnow()) - value
    return "just now" if delta < timedelta(seconds=5) else f"{duration(delta)} ago"


def percent(ratio: float | None) -> str:
    if ratio is None:
        return "\u2013"  # an en dash: no figure
    return f"{ratio * 100:.0f} %" if ratio in (0, 1) else f"{ratio * 100:.1f} %"


def pretty_json(payload: bytes) -> str:
    """Indented JSON when the bytes are JSON, else the text as it is."""
    try:
        return orjson.dumps(orjson.loads(payload), option=orjson.OPT_INDENT_2).decode()
    except orjson.JSONDecodeError:
        return payload.decode("utf-8", "replace")


def body_text(body: bytes) -> str:
    return body.decode("utf-8", "replace")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hookwire.dashboard", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        when=when, ago=ago, duration=duration, percent=percent, pretty_json=pretty_json, body_text=body_text
    )
    env.globals.update(version=__version__)
    return env


ENVIRONMENT = _environment()


def page(request: Request, template: str, context: Mapping[str, Any], *, status: int = 200) -> HTMLResponse:
    """Render ``template``; every page gets the session (or ``None``), ``now`` and the path."""
    values = {
        "session": getattr(request.state, "dashboard_session", None),
        "now": utcnow(),
        "path": request.url.path,
        "notice": None,
        "active": "",
        **context,
    }
    html = ENVIRONMENT.get_template(template).render(values)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def redirect(location: str) -> RedirectResponse:
    """303 See Other: after a POST, the browser follows with a GET (no resubmission on reload)."""
    return RedirectResponse(location, status_code=303, headers=SECURITY_HEADERS)


ERROR_TITLES = {
    400: "That did not work",
    403: "Not allowed",
    404: "Not found",
    500: "Something went wrong",
    503: "The database is unavailable",
}


def error_page(request: Request, status: int, detail: str) -> HTMLResponse:
    title = ERROR_TITLES.get(status, "Error")
    return page(request, "error.html", {"status": status, "title": title, "detail": detail}, status=status)
