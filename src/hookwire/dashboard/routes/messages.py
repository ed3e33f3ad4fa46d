"""Messages: a filtered list, and one message with its payload, deliveries and attempts."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.core.errors import HookwireError, NotFound, ValidationError
from hookwire.core.types import Application, Attempt, DeliveryStatus, Endpoint
from hookwire.dashboard import forms
from hookwire.dashboard.guard import CheckedForm, DashboardRoute, Hooks, SignedIn, field, visible_app
from hookwire.dashboard.render import page, redirect
from hookwire.dashboard.routes.common import cursor_of, notice_of, pager
from hookwire.dashboard.session import Session
from hookwire.service.webhooks import Webhooks

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PAGE_SIZE = 50
APPS_IN_FILTER = 250
ATTEMPTS_SHOWN = 250


async def _applications(hooks: Webhooks, session: Session) -> list[Application]:
    if session.app_id is not None:
        return [await hooks.apps.get(session.app_id)]
    return list((await hooks.apps.list(limit=APPS_IN_FILTER)).items)


@router.get("/messages")
async def messages(request: Request, session: SignedIn, hooks: Hooks) -> Response:
    query = request.query_params
    filters = {
        name: query.get(name, "").strip() for name in ("app", "event_type", "status", "after", "before")
    }
    applications = await _applications(hooks, session)
    context: dict[str, Any] = {
        "active": "messages",
        "filters": filters,
        "statuses": [s.value for s in DeliveryStatus],
        "applications": applications,
        "app_names": {a.id: a.name for a in applications},
        "error": None,
        "messages": (),
        "counts": {},
        "pager": None,
        "filtered": any(filters.values()),
    }
    try:
        context.update(await _search(request, session, hooks, filters))
    except NotFound:
        raise  # an application the session may not see: the 404 page, as everywhere
    except HookwireError as exc:  # a bad filter: say which, keep the form
        context["error"] = exc.message
        return page(request, "messages.html", context, status=400)
    return page(request, "messages.html", context)


async def _search(
    request: Request, session: Session, hooks: Webhooks, filters: dict[str, str]
) -> dict[str, Any]:
    app = (await visible_app(hooks, session, filters["app"])).id if filters["app"] else session.app_id
    status = filters["status"]
    if status and status not in {s.value for s in DeliveryStatus}:
        raise ValidationError(f"status: choose one of {', '.join(s.value for s in DeliveryStatus)}")
    found = await hooks.stats.search_messages(
        app,
        event_type=filters["event_type"] or None,
        status=DeliveryStatus(status) if status else None,
        after=forms.parse_time(filters["after"], "from"),
        before=forms.parse_time(filters["before"], "until"),
        limit=PAGE_SIZE,
        iterator=cursor_of(request),
    )
    counts = await hooks.stats.delivery_counts([m.id for m in found.items])
    return {"messages": found.items, "counts": counts, "pager": pager(request, found, PAGE_SIZE)}


@router.get("/apps/{app_id}/messages/{message_id}")
async def message(
    request: Request, app_id: str, message_id: str, session: SignedIn, hooks: Hooks
) -> Response:
    app = await visible_app(hooks, session, app_id)
    found = await hooks.messages.get(app.id, message_id)
    deliveries = await hooks.messages.deliveries(app.id, found.id)
    attempts = await hooks.attempts.by_message(app.id, found.id, limit=ATTEMPTS_SHOWN)
    by_endpoint: dict[str, list[Attempt]] = defaultdict(list)
    for attempt in attempts.items:
        by_endpoint[attempt.endpoint_id].append(attempt)
    endpoints: dict[str, Endpoint] = {}
    for delivery in deliveries:
        endpoints[delivery.endpoint_id] = await hooks.endpoints.get(app.id, delivery.endpoint_id)
    context = {
        "active": "messages",
        "app": app,
        "message": found,
        "deliveries": deliveries,
        "endpoints": endpoints,
        "attempts": by_endpoint,
        "more_attempts": not attempts.done,
        "notice": notice_of(request),
    }
    return page(request, "message.html", context)


@router.post("/apps/{app_id}/messages/{message_id}/resend")
async def resend(
    app_id: str, message_id: str, session: SignedIn, hooks: Hooks, form: CheckedForm
) -> Response:
    app = await visible_app(hooks, session, app_id)
    found = await hooks.messages.get(app.id, message_id)
    await hooks.messages.resend(app.id, found.id, field(form, "endpoint_id"))
    return redirect(f"/apps/{app.id}/messages/{found.id}?notice=resent")


@router.get("/apps/{rest:path}")
@router.get("/messages/{rest:path}")
async def not_found(rest: str, session: SignedIn) -> Response:
    """Any other path under the dashboard's sections: its 404 page, not the API's JSON."""
    raise NotFound(rest)
