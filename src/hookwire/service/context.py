"""What every resource of the facade shares: the store, the settings, the clock, the wake-up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hookwire.core.errors import ValidationError
from hookwire.core.settings import Settings
from hookwire.core.types import Application
from hookwire.core.validate import check_text
from hookwire.store.base import Store

MAX_PAGE_SIZE = 250


@dataclass(slots=True)
class Context:
    store: Store
    settings: Settings
    clock: Callable[[], datetime]
    wake: Callable[[], None]

    async def application(self, key: str) -> Application:
        """An application by id or uid; ``NotFound`` otherwise."""
        check_text(key, "application id", limit=256)
        return await self.store.get_application(key)


def page_size(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit must be between 1 and {MAX_PAGE_SIZE}")
    return limit
