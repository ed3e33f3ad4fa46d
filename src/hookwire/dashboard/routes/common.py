"""What several pages share: notices after an action, and pagination links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from hookwire.core.types import Page

NOTICES = {
    "signed-out": "You are signed out.",
    "secret-rotated": (
        "The signing secret was rotated. The previous secret keeps signing beside the new one "
        "for the overlap period (24 hours by default), so receivers can switch without losing a request."
    ),
    "disabled": "The endpoint is disabled. Deliveries due meanwhile fail; Recover resends them later.",
    "enabled": "The endpoint is enabled again.",
    "settings-saved": "Event types and headers saved.",
    "test-sent": "Test event sent to this endpoint only. Its attempts appear below as they happen.",
    "resent": "The message is queued to be sent to the endpoint again now.",
}


def notice_of(request: Request) -> str | None:
    """The message to show after an action redirected here (``?notice=...``), if known."""
    code = request.query_params.get("notice", "")
    if code == "recovered":
        count = request.query_params.get("count", "0")
        count = count if count.isdigit() else "0"
        return (
            f"{count} failed {'delivery is' if count == '1' else 'deliveries are'} queued to be sent again."
        )
    return NOTICES.get(code)


@dataclass(frozen=True, slots=True)
class Pager:
    """Links between pages of a newest-first list. Ids page the lists (so a page never shifts
    when new items arrive); going back is "newest" or the browser's back button."""

    number: int
    size: int
    shown: int
    next_url: str | None
    first_url: str | None

    @property
    def first_item(self) -> int:
        return (self.number - 1) * self.size + 1

    @property
    def last_item(self) -> int:
        return self.first_item + self.shown - 1


def pager(request: Request, page: Page[Any], size: int) -> Pager:
    params = {k: v for k, v in request.query_params.items() if k not in ("cursor", "page", "notice", "count")}
    raw = request.query_params.get("page", "1")
    number = int(raw) if raw.isdigit() and int(raw) > 0 else 1
    path = request.url.path
    next_url = None
    if not page.done and page.iterator:
        next_url = f"{path}?{urlencode({**params, 'cursor': page.iterator, 'page': number + 1})}"
    first_url = (f"{path}?{urlencode(params)}" if params else path) if number > 1 else None
    return Pager(number, size, len(page.items), next_url, first_url)


def cursor_of(request: Request) -> str | None:
    return request.query_params.get("cursor") or None
