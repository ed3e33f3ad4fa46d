"""Applications: one per tenant (usually one of your customers)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hookwire.core import ids
from hookwire.core.errors import NotFound, ValidationError
from hookwire.core.settings import check_schedule
from hookwire.core.types import Application, Page
from hookwire.core.validate import check_metadata, check_text, check_uid
from hookwire.service.context import Context, page_size

DEFAULT_APP_UID = "default"


class Applications:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(
        self,
        name: str,
        *,
        uid: str | None = None,
        retry_schedule: Sequence[float] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Application:
        """Create an application. ``uid`` is your own identifier, usable wherever its id is."""
        now = self._context.clock()
        application = Application(
            id=ids.new_id(ids.APPLICATION),
            uid=check_uid(uid, "uid"),
            name=_name(name),
            retry_schedule=None if retry_schedule is None else check_schedule(retry_schedule),
            metadata=check_metadata(metadata),
            created_at=now,
            updated_at=now,
        )
        return await self._context.store.create_application(application)

    async def get_or_create(self, uid: str, name: str | None = None) -> Application:
        try:
            return await self._context.store.get_application(uid)
        except NotFound:
            return await self.create(name or uid, uid=uid)

    async def get(self, app: str) -> Application:
        return await self._context.application(app)

    async def list(self, *, limit: int = 50, iterator: str | None = None) -> Page[Application]:
        return await self._context.store.list_applications(limit=page_size(limit), iterator=iterator)

    async def update(
        self,
        app: str,
        *,
        name: str | None = None,
        uid: str | None = None,
        retry_schedule: Sequence[float] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Application:
        """Change the given fields; the others keep their values."""
        current = await self._context.application(app)
        updated = Application(
            id=current.id,
            uid=current.uid if uid is None else check_uid(uid, "uid"),
            name=current.name if name is None else _name(name),
            retry_schedule=current.retry_schedule
            if retry_schedule is None
            else check_schedule(retry_schedule),
            metadata=current.metadata if metadata is None else check_metadata(metadata),
            created_at=current.created_at,
            updated_at=self._context.clock(),
        )
        return await self._context.store.update_application(updated)

    async def delete(self, app: str) -> None:
        """Delete an application with its endpoints, messages and attempts."""
        current = await self._context.application(app)
        await self._context.store.delete_application(current.id)


def _name(name: str) -> str:
    check_text(name, "name", limit=256)
    if not name.strip():
        raise ValidationError("an application needs a name")
    return name
