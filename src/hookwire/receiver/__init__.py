"""Receiving webhooks: verify, de-duplicate and dispatch them, in any Python web framework.

* :func:`verify` checks a Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature``, or their ``svix-`` twins) and returns the JSON payload;
  :func:`verify_token` checks a static shared-token header. Every failure caused by the
  request is a :class:`~hookwire.core.errors.WebhookVerificationError` subclass.
* :class:`Receiver` is an ASGI application that verifies, de-duplicates by ``webhook-id``
  (:class:`MemoryDeduplicator`, :class:`SQLiteDeduplicator` or any :class:`Deduplicator`) and
  dispatches by event type to handlers registered with ``@receiver.on("invoice.paid")``.
* Adapters, each importing its framework only when imported itself:
  :mod:`hookwire.receiver.fastapi`, :mod:`hookwire.receiver.flask`,
  :mod:`hookwire.receiver.django`.

Example::

    from hookwire.receiver import Receiver, Webhook

    receiver = Receiver(os.environ["WEBHOOK_SECRET"])

    @receiver.on("invoice.paid")
    async def invoice_paid(webhook: Webhook) -> None:
        await mark_paid(webhook.payload["data"]["id"])

    # receiver is an ASGI app: `uvicorn module:receiver`, or app.mount("/webhooks", receiver)
"""

from hookwire.core.errors import WebhookVerificationError
from hookwire.receiver.app import Outcome, Receiver, Unsubscribe
from hookwire.receiver.dedupe import ClaimResult, Deduplicator, MemoryDeduplicator
from hookwire.receiver.verify import (
    DuplicateHeader,
    InvalidBody,
    InvalidToken,
    InvalidVerificationSecret,
    MalformedHeader,
    MissingHeader,
    NoMatchingSignature,
    TimestampOutOfTolerance,
    verify,
    verify_token,
)
from hookwire.receiver.webhook import BodyTooLarge, Verifier, Webhook, error_document, http_status, type_field
from hookwire.store.receipts import SQLiteDeduplicator

__all__ = [
    "BodyTooLarge",
    "ClaimResult",
    "Deduplicator",
    "DuplicateHeader",
    "InvalidBody",
    "InvalidToken",
    "InvalidVerificationSecret",
    "MalformedHeader",
    "MemoryDeduplicator",
    "MissingHeader",
    "NoMatchingSignature",
    "Outcome",
    "Receiver",
    "SQLiteDeduplicator",
    "TimestampOutOfTolerance",
    "Unsubscribe",
    "Verifier",
    "Webhook",
    "WebhookVerificationError",
    "error_document",
    "http_status",
    "type_field",
    "verify",
    "verify_token",
]
