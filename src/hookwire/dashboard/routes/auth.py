"""Signing in with an API key, and out."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hookwire.core.clock import utcnow
from hookwire.dashboard.guard import (
    CheckedForm,
    CsrfRefused,
    DashboardRoute,
    Hooks,
    SignInRequired,
    field,
    options_of,
    sessions_of,
    signed_in,
)
from hookwire.dashboard.render import page, redirect
from hookwire.dashboard.routes.common import notice_of
from hookwire.dashboard.session import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    SIGN_IN_COOKIE,
    SIGN_IN_LIFETIME,
    same_token,
)

router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


def safe_next(value: str) -> str:
    """Where to go after signing in: a path on this server only (never ``//host`` or a URL)."""
    if not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\r\n"):
        return "/"
    return value


def _secure(request: Request) -> bool:
    # Behind a TLS-terminating proxy, uvicorn sets the scheme from X-Forwarded-Proto.
    return request.url.scheme == "https"


def _sign_in_form(request: Request, *, next_path: str, error: str | None, status: int = 200) -> Response:
    token, cookie = sessions_of(request).sign_in_token(utcnow())
    context = {"csrf_token": token, "next": next_path, "error": error, "notice": notice_of(request)}
    response = page(request, "sign_in.html", context, status=status)
    response.set_cookie(
        SIGN_IN_COOKIE,
        cookie,
        max_age=int(SIGN_IN_LIFETIME.total_seconds()),
        path="/sign-in",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )
    return response


@router.get("/sign-in")
async def sign_in_page(request: Request, next: str = "/") -> Response:
    try:
        await signed_in(request)
    except SignInRequired:
        return _sign_in_form(request, next_path=safe_next(next), error=None)
    return redirect(safe_next(next))  # already signed in


@router.post("/sign-in")
async def sign_in(request: Request, hooks: Hooks) -> Response:
    form = await request.form()
    expected = sessions_of(request).sign_in_token_of(request.cookies.get(SIGN_IN_COOKIE), utcnow())
    if not same_token(expected, field(form, "csrf_token")):
        raise CsrfRefused
    next_path = safe_next(field(form, "next") or "/")
    token = field(form, "token")
    admin_tokens = options_of(request).admin_keys
    key = await hooks.keys.authenticate(token, admin_tokens=admin_tokens) if token else None
    if key is None:
        error = "That API key is not valid. Paste a key made with `hookwire key create`."
        return _sign_in_form(request, next_path=next_path, error=error, status=401)
    _, cookie = sessions_of(request).issue(key.id, key.app_id, token, utcnow())
    response = redirect(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, form: CheckedForm) -> Response:
    response = redirect("/sign-in?notice=signed-out")
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))
    return response
