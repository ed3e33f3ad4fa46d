"""What can be done to an endpoint: rotate its secret, disable and enable it, send it a test
event, and recover its failed deliveries (after showing how many)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.core.errors import ValidationError
from hookwire.dashboard import forms
from hookwire.dashboard.guard import CheckedForm, DashboardRoute, Hooks, SignedIn, field, visible_app
from hookwire.dashboard.render import page, redirect
from hookwire.service.endpoints import TEST_EVENT_TYPE

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

BASE = "/apps/{app_id}/endpoints/{endpoint_id}"


@router.post(BASE + "/secret/rotate")
async def rotate_secret(
    app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    endpoint = await hooks.endpoints.get(app.id, endpoint_id)
    await hooks.endpoints.rotate_secret(app.id, endpoint.id)
    return redirect(f"/apps/{app.id}/endpoints/{endpoint.id}?notice=secret-rotated")


@router.post(BASE + "/disable")
async def disable(
    app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    reason = field(form, "reason") or "disabled in the dashboard"
    endpoint = await hooks.endpoints.disable(app.id, endpoint_id, reason)
    return redirect(f"/apps/{app.id}/endpoints/{endpoint.id}?notice=disabled")


@router.post(BASE + "/enable")
async def enable(
    app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    endpoint = await hooks.endpoints.enable(app.id, endpoint_id)
    return redirect(f"/apps/{app.id}/endpoints/{endpoint.id}?notice=enabled")


@router.post(BASE + "/test")
async def send_test(
    app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    event_type = field(form, "event_type") or TEST_EVENT_TYPE
    message = await hooks.endpoints.send_test(app.id, endpoint_id, event_type=event_type)
    return redirect(f"/apps/{app.id}/messages/{message.id}?notice=test-sent")


@router.get(BASE + "/recover")
async def recover_preview(
    request: Request, app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, since: str = ""
) -> Response:
    """The confirm step: how many deliveries a recovery would resend, before anything happens."""
    app = await visible_app(hooks, session, app_id)
    endpoint = await hooks.endpoints.get(app.id, endpoint_id)
    moment = forms.parse_time(since, "since")
    if moment is None:
        raise ValidationError("choose the time to recover from")
    count = await hooks.stats.recoverable(app.id, endpoint.id, moment)
    context = {
        "active": "apps",
        "app": app,
        "endpoint": endpoint,
        "since": moment,
        "since_value": moment.strftime("%Y-%m-%dT%H:%M:%S"),
        "count": count,
    }
    return page(request, "recover.html", context)


@router.post(BASE + "/recover")
async def recover(
    app_id: str, endpoint_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    endpoint = await hooks.endpoints.get(app.id, endpoint_id)
    moment = forms.parse_time(field(form, "since"), "since")
    if moment is None:
        raise ValidationError("choose the time to recover from")
    count = await hooks.endpoints.recover(app.id, endpoint.id, moment)
    return redirect(f"/apps/{app.id}/endpoints/{endpoint.id}?notice=recovered&count={count}")
