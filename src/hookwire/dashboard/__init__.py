"""The dashboard: server-rendered pages at ``/`` of ``hookwire serve``.

Sign-in takes an API key and keeps a signed, HTTP-only session cookie; an application-scoped
key sees only its application. Every form carries a CSRF token. Pages are Jinja2 templates with
autoescaping; the CSS and the little JavaScript ship in the package (no build step, nothing
loaded from elsewhere). Like the API, every page goes through the ``Webhooks`` facade.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from hookwire.dashboard.routes import router
from hookwire.dashboard.session import Sessions

STATIC = Path(__file__).parent / "static"


def install(app: FastAPI, session_secret: str | None) -> None:
    """Serve the dashboard from ``app`` (after the API's routes, which take precedence)."""
    app.state.dashboard_sessions = Sessions(session_secret)
    app.include_router(router())
    app.mount("/static", StaticFiles(directory=STATIC), name="dashboard-static")
