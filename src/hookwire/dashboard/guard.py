"""Who may see what: the session of a request, CSRF checks on every form, the applications a
key may see, and the route class that turns errors into pages in the dashboard's look."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import FormData
from starlette.responses import Response

from hookwire.core.clock import utcnow
from hookwire.core.errors import HookwireError, NotFound, StoreError
from hookwire.core.types import Application
from hookwire.dashboard.render import SECURITY_HEADERS, error_page, redirect
from hookwire.dashboard.session import SESSION_COOKIE, Session, Sessions, fingerprint, same_token
from hookwire.service.webhooks import Webhooks

if TYPE_CHECKING:  # the API package imports this one to install it
    from hookwire.api.context import ServerOptions

log = logging.getLogger("hookwire.dashboard")

ENVIRONMENT_KEY_ID = "key_environment"  # what ApiKeys.authenticate calls HOOKWIRE_ADMIN_KEY


class SignInRequired(Exception):
    """No valid session: the browser goes to the sign-in page, and back here afterwards."""


class CsrfRefused(Exception):
    """A form came without the session's CSRF token."""


def facade_of(request: Request) -> Webhooks:
    facade: Webhooks = request.app.state.hooks
    return facade


def options_of(request: Request) -> ServerOptions:
    options: ServerOptions = request.app.state.options
    return options


def sessions_of(request: Request) -> Sessions:
    sessions: Sessions = request.app.state.dashboard_sessions
    return sessions


async def _key_still_valid(request: Request, session: Session) -> bool:
    """A session lasts only as long as its key: a deleted key signs its sessions out at once."""
    if session.key_id == ENVIRONMENT_KEY_ID:
        return any(fingerprint(token) == session.fingerprint for token in options_of(request).admin_keys)
    keys = await facade_of(request).keys.list()
    return any(key.id == session.key_id and key.app_id == session.app_id for key in keys)


async def signed_in(request: Request) -> Session:
    """The request's session; ``SignInRequired`` without a valid one."""
    session = sessions_of(request).read(request.cookies.get(SESSION_COOKIE), utcnow())
    if session is None or not await _key_still_valid(request, session):
        raise SignInRequired
    request.state.dashboard_session = session
    return session


async def checked_form(request: Request, session: Annotated[Session, Depends(signed_in)]) -> FormData:
    """The posted form, once its CSRF token matched the session's; ``CsrfRefused`` otherwise."""
    form = await request.form()
    given = form.get("csrf_token")
    if not isinstance(given, str) or not same_token(session.csrf, given):
        raise CsrfRefused
    return form


async def hooks(request: Request) -> Webhooks:
    return facade_of(request)


SignedIn = Annotated[Session, Depends(signed_in)]
CheckedForm = Annotated[FormData, Depends(checked_form)]
Hooks = Annotated[Webhooks, Depends(hooks)]


async def visible_app(hooks: Webhooks, session: Session, app: str) -> Application:
    """The application by id or uid if the session may see it; otherwise ``NotFound``, the same
    answer as for an application that does not exist, so a scoped key learns nothing of others."""
    found = await hooks.apps.get(app)
    if session.app_id is not None and session.app_id != found.id:
        raise NotFound(f"application {app!r} not found")
    return found


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def sign_in_location(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/sign-in" if target == "/" else f"/sign-in?next={quote(target, safe='')}"


def _error_response(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        return redirect(sign_in_location(request))
    if isinstance(exc, CsrfRefused):
        detail = "The form was not accepted because its security token was missing or stale."
        return error_page(request, 403, detail + " Reload the page and try again.")
    if isinstance(exc, NotFound):
        return error_page(request, 404, "There is nothing here, or it is not visible with your key.")
    if isinstance(exc, StoreError):
        log.warning("database unavailable: %s", exc.message)
        return error_page(request, 503, "The database did not answer. Try again in a moment.")
    if isinstance(exc, HookwireError):
        return error_page(request, 400, exc.message)
    if isinstance(exc, RequestValidationError):
        return error_page(request, 400, "The request was not understood.")
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return error_page(request, 500, "An unexpected error occurred. It has been logged.")


class DashboardRoute(APIRoute):
    """Answers errors with pages in the dashboard's look instead of the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:  # every error becomes a page; unexpected ones are logged
                return _error_response(request, exc)
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return guarded
