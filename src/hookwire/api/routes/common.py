"""Query parameters and checks shared by the routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query

from hookwire.api.context import Unsupported
from hookwire.api.schemas import HttpErrorOut
from hookwire.service.context import MAX_PAGE_SIZE

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
Iterator = Annotated[
    str | None, Query(max_length=256, description="The iterator returned by the previous page.")
]

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Bad request", "model": HttpErrorOut},
    401: {"description": "No or invalid API key", "model": HttpErrorOut},
    403: {"description": "The key may not do this", "model": HttpErrorOut},
    404: {"description": "Not found (or another application's)", "model": HttpErrorOut},
    409: {"description": "Conflict", "model": HttpErrorOut},
    413: {"description": "Body too large", "model": HttpErrorOut},
    503: {"description": "The database is unavailable", "model": HttpErrorOut},
}


def refuse(**fields: object) -> None:
    """Refuse Svix features hookwire does not have, instead of silently ignoring them."""
    for name, value in fields.items():
        if value not in (None, [], {}):
            raise Unsupported(f"{name} is not supported by hookwire; leave it out")
