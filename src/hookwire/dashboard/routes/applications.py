"""Applications, and each application's endpoints with their health."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.dashboard.guard import DashboardRoute, Hooks, SignedIn, visible_app
from hookwire.dashboard.render import page, redirect
from hookwire.dashboard.routes.common import cursor_of, pager

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

PAGE_SIZE = 25


@router.get("/apps")
async def applications(request: Request, session: SignedIn, hooks: Hooks) -> Response:
    if session.app_id is not None:  # a scoped key has exactly one application
        return redirect(f"/apps/{session.app_id}")
    found = await hooks.apps.list(limit=PAGE_SIZE, iterator=cursor_of(request))
    context = {"active": "apps", "applications": found.items, "pager": pager(request, found, PAGE_SIZE)}
    return page(request, "applications.html", context)


@router.get("/apps/{app_id}")
async def application(request: Request, app_id: str, session: SignedIn, hooks: Hooks) -> Response:
    app = await visible_app(hooks, session, app_id)
    found = await hooks.endpoints.list(app.id, limit=PAGE_SIZE, iterator=cursor_of(request))
    activity = await hooks.stats.endpoint_activity(app.id, [e.id for e in found.items])
    context = {
        "active": "apps",
        "app": app,
        "endpoints": found.items,
        "activity": activity,
        "backlog": await hooks.stats.backlog(app.id),
        "pager": pager(request, found, PAGE_SIZE),
    }
    return page(request, "application.html", context)
