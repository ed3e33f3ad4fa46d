"""Every error hookwire raises on purpose.

::

    HookwireError
    ├── ValidationError          bad input: nothing was written
    │   ├── InvalidURL
    │   ├── InvalidEventType
    │   ├── InvalidPayload
    │   │   └── PayloadTooLarge
    │   └── InvalidHeaders
    ├── NotFound                 an id or uid that does not exist (or is not yours)
    ├── Conflict                 a unique name or uid already taken
    ├── StoreError               the database failed or is unreachable
    ├── DestinationBlocked       the SSRF guard refused an address (hookwire.delivery.guard)
    └── WebhookVerificationError an incoming webhook failed verification (see hookwire.receiver)

Foreign errors (sqlite3, aiohttp, ...) are translated where they cross into hookwire and
raised ``from`` the original, so callers only ever need to catch ``HookwireError``.
"""

from __future__ import annotations


class HookwireError(Exception):
    """Root of every error hookwire raises on purpose.

    Attributes:
        code: a short machine-readable code, stable across releases (``"invalid_url"``...).
    """

    code = "hookwire_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(HookwireError):
    """Input was rejected before anything was written."""

    code = "validation_error"


class InvalidURL(ValidationError):
    code = "invalid_url"


class InvalidEventType(ValidationError):
    code = "invalid_event_type"


class InvalidPayload(ValidationError):
    code = "invalid_payload"


class PayloadTooLarge(InvalidPayload):
    code = "payload_too_large"


class InvalidHeaders(ValidationError):
    code = "invalid_headers"


class NotFound(HookwireError):
    code = "not_found"


class Conflict(HookwireError):
    code = "conflict"


class StoreError(HookwireError):
    code = "store_error"


class WebhookVerificationError(HookwireError):
    """An incoming webhook could not be verified; the subclasses say why."""

    code = "verification_failed"
