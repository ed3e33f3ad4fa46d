"""hookwire: reliable, signed, retried webhooks for Python.

``Webhooks`` is the facade (async; ``hookwire.sync.Webhooks`` for blocking code), ``Settings``
tunes it, and every error it raises on purpose derives from ``HookwireError``.
"""

from hookwire._version import __version__
from hookwire.core.errors import (
    Conflict,
    HookwireError,
    InvalidEventType,
    InvalidHeaders,
    InvalidPayload,
    InvalidURL,
    NotFound,
    PayloadTooLarge,
    StoreError,
    ValidationError,
    WebhookVerificationError,
)
from hookwire.core.settings import DEFAULT_RETRY_SCHEDULE, Settings
from hookwire.core.types import (
    Application,
    Attempt,
    AttemptError,
    AttemptTrigger,
    Delivery,
    DeliveryStatus,
    Endpoint,
    EventType,
    Message,
    Page,
)
from hookwire.delivery.attempt import DeliveryEvent
from hookwire.service.webhooks import Webhooks

__all__ = [
    "DEFAULT_RETRY_SCHEDULE",
    "Application",
    "Attempt",
    "AttemptError",
    "AttemptTrigger",
    "Conflict",
    "Delivery",
    "DeliveryEvent",
    "DeliveryStatus",
    "Endpoint",
    "EventType",
    "HookwireError",
    "InvalidEventType",
    "InvalidHeaders",
    "InvalidPayload",
    "InvalidURL",
    "Message",
    "NotFound",
    "Page",
    "PayloadTooLarge",
    "Settings",
    "StoreError",
    "ValidationError",
    "WebhookVerificationError",
    "Webhooks",
    "__version__",
]
