"""Pin the public names, so nothing becomes public (or stops being) by accident."""

import hookwire
import hookwire.receiver


def test_public_names() -> None:
    assert hookwire.__all__ == [
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
    for name in hookwire.__all__:
        assert hasattr(hookwire, name), name


def test_receiver_names() -> None:
    assert hookwire.receiver.__all__ == [
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
    for name in hookwire.receiver.__all__:
        assert hasattr(hookwire.receiver, name), name
