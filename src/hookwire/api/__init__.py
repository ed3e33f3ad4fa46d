"""The HTTP API: Svix v1 compatible routes on FastAPI, served by ``hookwire serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hookwire import dashboard
from hookwire._version import __version__
from hookwire.api import errors
from hookwire.api.context import ServerOptions
from hookwire.api.ingest import MessageIngest
from hookwire.api.metrics import Metrics
from hookwire.api.middleware import BodyLimit, Idempotency, RequestLog
from hookwire.api.routes import applications, endpoints, event_types, health, messages
from hookwire.service.webhooks import Webhooks

DESCRIPTION = """Reliable, signed, retried webhooks. The paths, bodies and status codes follow the
Svix v1 API, so the official Svix SDKs work against a hookwire server unchanged.

Authenticate with `Authorization: Bearer <key>`. Every POST accepts an `Idempotency-Key`."""


def create_app(hooks: Webhooks, options: ServerOptions | None = None) -> FastAPI:
    """The API application around an (unopened) facade; its lifespan opens and closes it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hooks.open()
        try:
            yield
        finally:
            await hooks.close()

    app = FastAPI(
        title="hookwire",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.hooks = hooks
    app.state.options = options or ServerOptions()
    app.state.metrics = Metrics()
    hooks.on_success(app.state.metrics.attempt_finished)
    hooks.on_failure(app.state.metrics.attempt_finished)
    errors.install(app)
    # Messages first: creating them is the hot path, and routes are matched in order.
    for module in (messages, endpoints, applications, event_types, health):
        app.include_router(module.router)
    dashboard.install(app, app.state.options.session_secret)  # after the API: its paths come first
    # Innermost, so that the request log, the body limit and idempotency wrap it as any route.
    app.add_middleware(MessageIngest, hooks=hooks, options=app.state.options, metrics=app.state.metrics)
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit, limit=app.state.options.max_body_bytes)
    app.add_middleware(RequestLog)
    return app
