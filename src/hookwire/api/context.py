"""What every route needs: the facade, the caller, and the application it may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request

from hookwire.core.errors import HookwireError, NotFound
from hookwire.core.types import ApiKey, Application
from hookwire.service.webhooks import Webhooks


class AuthenticationFailed(HookwireError):
    code = "authentication_failed"


class Forbidden(HookwireError):
    code = "forbidden"


class Unsupported(HookwireError):
    code = "unsupported"


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """How the API behaves; built by ``hookwire serve`` from flags and ``HOOKWIRE_*`` variables."""

    admin_keys: tuple[str, ...] = field(default=(), repr=False)
    max_body_bytes: int = 1024 * 1024 + 64 * 1024  # the payload limit plus room for the envelope
    #: Signs the dashboard's session cookies; random per process when unset (sessions then end
    #: with the process, and several servers behind one address each refuse the others' cookies).
    session_secret: str | None = field(default=None, repr=False)


def facade_of(request: Request) -> Webhooks:
    facade: Webhooks = request.app.state.hooks
    return facade


async def hooks(request: Request) -> Webhooks:
    # async: FastAPI would run a plain function in a thread pool, a thread hop per request.
    return facade_of(request)


async def authenticate(facade: Webhooks, options: ServerOptions, authorization: str) -> ApiKey:
    """The API key of an ``Authorization`` header's value (``Bearer <token>``), or 401."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthenticationFailed("send an API key as 'Authorization: Bearer <key>'")
    key = await facade.keys.authenticate(token.strip(), admin_tokens=options.admin_keys)
    if key is None:
        raise AuthenticationFailed("the API key is not valid")
    return key


async def caller(request: Request) -> ApiKey:
    """The API key of the request (``Authorization: Bearer <token>``), or 401."""
    options: ServerOptions = request.app.state.options
    key = await authenticate(facade_of(request), options, request.headers.get("authorization", ""))
    request.state.key_id = key.id
    return key


Hooks = Annotated[Webhooks, Depends(hooks)]
Caller = Annotated[ApiKey, Depends(caller)]


def require_admin(key: ApiKey) -> ApiKey:
    if not key.is_admin:
        raise Forbidden("this needs an admin key")
    return key


def visible(key: ApiKey, app: Application) -> Application:
    """``app`` if the key may see it; otherwise 404, exactly as for an id that does not exist,
    so that a scoped key cannot even learn which other applications exist."""
    if key.app_id is not None and key.app_id != app.id:
        raise NotFound(f"application {app.uid or app.id!r} not found")
    return app


async def admin(key: Caller) -> ApiKey:
    return require_admin(key)


Admin = Annotated[ApiKey, Depends(admin)]


async def application(app_id: str, key: Caller, facade: Hooks) -> Application:
    """The application in the path, by id or uid, if the caller may see it (else 404)."""
    return visible(key, await facade.apps.get(app_id))


App = Annotated[Application, Depends(application)]
