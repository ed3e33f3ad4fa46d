"""An endpoint's page: health, settings, recent attempts; revealing its secret; editing its
event-type filter and headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.core.clock import utcnow
from hookwire.core.errors import ValidationError
from hookwire.dashboard import forms
from hookwire.dashboard.guard import CheckedForm, DashboardRoute, Hooks, SignedIn, field, visible_app
from hookwire.dashboard.render import page, redirect
from hookwire.dashboard.routes.common import cursor_of, notice_of, pager
from hookwire.dashboard.session import Session
from hookwire.service.endpoints import TEST_EVENT_TYPE
from hookwire.service.webhooks import Webhooks

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

ATTEMPTS_SHOWN = 20
HEALTH_WINDOW = timedelta(hours=24)


async def endpoint_page(
    request: Request,
    session: Session,
    hooks: Webhooks,
    app_id: str,
    endpoint_id: str,
    *,
    extra: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    """The endpoint's page; ``extra`` adds a revealed secret or a form's error and values."""
    app = await visible_app(hooks, session, app_id)
    endpoint = await hooks.endpoints.get(app.id, endpoint_id)
    activity = await hooks.stats.endpoint_activity(app.id, [endpoint.id], window=HEALTH_WINDOW)
    attempts = await hooks.attempts.by_endpoint(
        app.id, endpoint.id, limit=ATTEMPTS_SHOWN, iterator=cursor_of(request)
    )
    now = utcnow()
    context: dict[str, Any] = {
        "active": "apps",
        "app": app,
        "endpoint": endpoint,
        "activity": activity.get(endpoint.id),
        "counts": await hooks.endpoints.delivery_counts(app.id, endpoint.id),
        "attempts": attempts.items,
        "pager": pager(request, attempts, ATTEMPTS_SHOWN),
        "notice": notice_of(request),
        "secret": None,
        "rotation_active": endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now,
        "filter_text": forms.filter_text(endpoint.filter_types),
        "headers_text": forms.masked_headers(endpoint.headers),
        "settings_error": None,
        "test_event_type": TEST_EVENT_TYPE,
        "recover_since": forms.time_value(now - timedelta(hours=24)),
        "mask": forms.MASK,
    }
    context.update(extra or {})
    return page(request, "endpoint.html", context, status=status)


@router.get("/apps/{app_id}/endpoints/{endpoint_id}")
async def endpoint(
    request: Request, app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks
) -> Response:
    return await endpoint_page(request, session, hooks, app_id, endpoint_id)


@router.post("/apps/{app_id}/endpoints/{endpoint_id}/secret")
async def reveal_secret(
    request: Request, app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    """Show the signing secret, on this response only (a POST: never in a URL or a history entry)."""
    app = await visible_app(hooks, session, app_id)
    secret = await hooks.endpoints.get_secret(app.id, endpoint_id)
    return await endpoint_page(request, session, hooks, app.id, endpoint_id, extra={"secret": secret})


@router.post("/apps/{app_id}/endpoints/{endpoint_id}/settings")
async def save_settings(
    request: Request, app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    current = await hooks.endpoints.get(app.id, endpoint_id)
    filter_text, headers_text = field(form, "filter_types"), field(form, "headers")
    try:
        headers = forms.parse_headers(headers_text, current.headers)
        await hooks.endpoints.update(
            app.id, current.id, filter_types=forms.parse_filter(filter_text), headers=headers
        )
    except ValidationError as exc:
        # Keep what was typed, except header values: masked ones stay masked.
        extra = {"settings_error": exc.message, "filter_text": filter_text, "headers_text": headers_text}
        return await endpoint_page(request, session, hooks, app.id, current.id, extra=extra, status=400)
    return redirect(f"/apps/{app.id}/endpoints/{current.id}?notice=settings-saved")
