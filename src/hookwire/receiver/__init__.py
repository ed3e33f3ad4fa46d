"""Receiving webhooks: verify that a request really comes from its sender.

:func:`verify` checks a Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``, or their ``svix-`` twins) and returns the JSON payload;
:func:`verify_token` checks a static shared-token header. Every failure caused by the request
is a :class:`~hookwire.core.errors.WebhookVerificationError` subclass.

Example::

    from hookwire.receiver import WebhookVerificationError, verify

    try:
        payload = verify(body, request.headers, secret)
    except WebhookVerificationError as exc:
        return Response(status=400, text=exc.code)
"""

from hookwire.core.errors import WebhookVerificationError
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

__all__ = [
    "DuplicateHeader",
    "InvalidBody",
    "InvalidToken",
    "InvalidVerificationSecret",
    "MalformedHeader",
    "MissingHeader",
    "NoMatchingSignature",
    "TimestampOutOfTolerance",
    "WebhookVerificationError",
    "verify",
    "verify_token",
]
