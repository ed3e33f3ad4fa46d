"""The HTTP API: Svix v1 compatible routes on FastAPI, served by ``hookwire serve``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI

from hookwire import dashboard
from hookwire._version import __version__
from hookwire.api import errors
from hookwire.api.context import ServerOptions
from hookwire.api.ingest import MessageIngest
from hookwire.api.metrics import Metrics
from hookwire.api.middleware import BodyLimit, Idempotency, Receive, RequestLog, Scope, Send
from hookwire.api.routes import applications, endpoints, event_types, health, messages
from hookwire.service.webhooks import Webhooks

DESCRIPTION = """Reliable, signed, retried webhooks. The paths, bodies and status codes follow the
Svix v1 API, so the official Svix SDKs work against a hookwire server unchanged.

Authenticate with `Authorization: Bearer <key>`. Every POST accepts an `Idempotency-Key`."""


class Api(FastAPI):
    """The API application: FastAPI with a front (``hookwire.api.ingest``) that answers the hot
    route before the middleware stack and hands every other request to it."""

    front: MessageIngest | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.front is None:
            await super().__call__(scope, receive, send)
        else:
            await self.front(scope, receive, send)


def create_app(hooks: Webhooks, options: ServerOptions | None = None) -> FastAPI:
    """The API application around an (unopened) facade; its lifespan opens and closes it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hooks.open()
        try:
            yield
        finally:
            await hooks.close()

    app = Api(
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
    app.add_middleware(Idempotency)
    app.add_middleware(BodyLimit, limit=app.state.options.max_body_bytes)
    app.add_middleware(RequestLog)
    app.front = MessageIngest(
        partial(FastAPI.__call__, app),
        hooks=hooks,
        options=app.state.options,
        metrics=app.state.metrics,
        limit=app.state.options.max_body_bytes,
    )
    return app
