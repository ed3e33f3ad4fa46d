"""``/api/v1/app``: applications."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from hookwire.api.context import Admin, App, Caller, Hooks, require_admin, visible
from hookwire.api.routes.common import ERRORS, Iterator, Limit, refuse
from hookwire.api.schemas import ApplicationIn, ApplicationOut, ApplicationPatch, ListResponse, page_of
from hookwire.core.errors import NotFound

router = APIRouter(prefix="/api/v1/app", tags=["Application"], responses=ERRORS)


@router.get("", response_model=ListResponse[ApplicationOut])
async def list_applications(
    key: Caller, hooks: Hooks, limit: Limit = 50, iterator: Iterator = None
) -> ListResponse[ApplicationOut]:
    if key.app_id is not None:  # a scoped key sees its own application only
        own = await hooks.apps.get(key.app_id)
        return ListResponse[ApplicationOut](data=[ApplicationOut.of(own)], iterator=None, done=True)
    page = await hooks.apps.list(limit=limit, iterator=iterator)
    return page_of(page, [ApplicationOut.of(a) for a in page.items])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApplicationOut)
async def create_application(
    body: ApplicationIn, _: Admin, hooks: Hooks, response: Response, get_if_exists: bool = False
) -> ApplicationOut:
    refuse(throttleRate=body.throttle_rate)
    if get_if_exists and body.uid is not None:
        try:
            existing = await hooks.apps.get(body.uid)
        except NotFound:
            pass
        else:
            response.status_code = status.HTTP_200_OK
            return ApplicationOut.of(existing)
    created = await hooks.apps.create(body.name, uid=body.uid, metadata=body.metadata)
    return ApplicationOut.of(created)


@router.get("/{app_id}", response_model=ApplicationOut)
async def get_application(app: App) -> ApplicationOut:
    return ApplicationOut.of(app)


@router.put("/{app_id}", response_model=ApplicationOut)
async def upsert_application(app_id: str, body: ApplicationIn, key: Caller, hooks: Hooks) -> ApplicationOut:
    refuse(throttleRate=body.throttle_rate)
    try:
        current = await hooks.apps.get(app_id)
    except NotFound:
        require_admin(key)
        created = await hooks.apps.create(body.name, uid=body.uid or app_id, metadata=body.metadata)
        return ApplicationOut.of(created)
    visible(key, current)
    require_admin(key)
    updated = await hooks.apps.update(current.id, name=body.name, uid=body.uid, metadata=body.metadata or {})
    return ApplicationOut.of(updated)


@router.patch("/{app_id}", response_model=ApplicationOut)
async def patch_application(app: App, body: ApplicationPatch, key: Caller, hooks: Hooks) -> ApplicationOut:
    require_admin(key)
    updated = await hooks.apps.update(app.id, name=body.name, uid=body.uid, metadata=body.metadata)
    return ApplicationOut.of(updated)


@router.delete("/{app_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_application(app: App, key: Caller, hooks: Hooks) -> None:
    require_admin(key)
    await hooks.apps.delete(app.id)
