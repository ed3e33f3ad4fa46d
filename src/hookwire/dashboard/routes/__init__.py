"""The dashboard's routes, one module per section."""

from __future__ import annotations

from fastapi import APIRouter

from hookwire.dashboard.routes import applications, auth, endpoint_actions, endpoints, messages, overview


def router() -> APIRouter:
    """Every dashboard route. ``messages`` comes last: it ends with the sections' catch-all 404."""
    combined = APIRouter(include_in_schema=False)
    for module in (auth, overview, applications, endpoints, endpoint_actions, messages):
        combined.include_router(module.router)
    return combined
