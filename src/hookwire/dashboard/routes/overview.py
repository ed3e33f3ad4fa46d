"""The overview: how deliveries are going, what is waiting, which endpoints need attention."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.core.types import Application
from hookwire.dashboard import chart
from hookwire.dashboard.guard import DashboardRoute, Hooks, SignedIn
from hookwire.dashboard.render import page

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

#: The windows the chart offers: hours shown -> bucket size (60 to 96 bars each).
WINDOWS = {1: timedelta(minutes=1), 6: timedelta(minutes=5), 24: timedelta(minutes=15)}
DEFAULT_HOURS = 6
TROUBLED_SHOWN = 20


@router.get("/")
async def overview(request: Request, session: SignedIn, hooks: Hooks, hours: str = "") -> Response:
    shown = int(hours) if hours.isdigit() and int(hours) in WINDOWS else DEFAULT_HOURS
    bucket = WINDOWS[shown]
    scope = session.app_id
    timeline = await hooks.stats.timeline(scope, window=timedelta(hours=shown), bucket=bucket)
    troubled = await hooks.stats.troubled_endpoints(scope, limit=TROUBLED_SHOWN + 1)
    applications: dict[str, Application] = {}
    for endpoint in troubled:
        if endpoint.app_id not in applications:
            applications[endpoint.app_id] = await hooks.apps.get(endpoint.app_id)
    context = {
        "active": "overview",
        "hours": shown,
        "windows": list(WINDOWS),
        "bucket_minutes": int(bucket.total_seconds() // 60),
        "chart": chart.build(timeline, bucket),
        "backlog": await hooks.stats.backlog(scope),
        "troubled": troubled[:TROUBLED_SHOWN],
        "more_troubled": len(troubled) > TROUBLED_SHOWN,
        "applications": applications,
        "scoped_app": await hooks.apps.get(scope) if scope else None,
    }
    return page(request, "overview.html", context)
