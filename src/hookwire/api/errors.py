"""Every error answers JSON with a machine-readable ``code`` and a ``detail``, in Svix's shape.

Domain errors map to 4xx; an unreachable database to 503; anything else is a real fault (500)
and is logged with its traceback, never shown to the client.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from hookwire.api.context import AuthenticationFailed, Forbidden, Unsupported
from hookwire.core.errors import (
    Conflict,
    HookwireError,
    NotFound,
    PayloadTooLarge,
    StoreError,
    ValidationError,
)

log = logging.getLogger("hookwire.api")

STATUS: list[tuple[type[HookwireError], int]] = [
    (AuthenticationFailed, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (PayloadTooLarge, 413),
    (Unsupported, 400),
    (ValidationError, 400),
    (StoreError, 503),
]


def error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"code": code, "detail": detail}, status_code=status)


async def _hookwire_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HookwireError)
    return hookwire_error(exc)


def hookwire_error(exc: HookwireError) -> JSONResponse:
    """The answer to a domain error, for the routes and for the ingest path beside them."""
    status = next((code for kind, code in STATUS if isinstance(exc, kind)), 400)
    if status == 503:
        log.warning("database unavailable: %s", exc.message)
        return error(503, "database_unavailable", "the database is unavailable; retry shortly")
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    response = error(status, exc.code, exc.message)
    if headers:
        response.headers.update(headers)
    return response


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    # Svix's HTTPValidationError: {"detail": [{"loc": [...], "msg": ..., "type": ...}]}
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
    return error(exc.status_code, codes.get(exc.status_code, "http_error"), str(exc.detail))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error answering %s %s", request.method, request.url.path)
    return error(500, "internal_error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    app.add_exception_handler(HookwireError, _hookwire_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
