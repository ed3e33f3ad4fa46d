"""Signed requests for receiver tests, made the way a Standard Webhooks sender makes them."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import Any

import orjson

from hookwire.core.signing import Signer

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="

_ids = itertools.count(1)


def new_id() -> str:
    return f"msg_test{next(_ids):06d}"


def signed(
    payload: Any,
    *,
    secrets: Sequence[str] = (SECRET,),
    msg_id: str | None = None,
    timestamp: int | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A JSON body and the headers that sign it; a fresh id unless one is given."""
    body = orjson.dumps(payload)
    msg_id = msg_id or new_id()
    timestamp = int(time.time()) if timestamp is None else timestamp
    headers = {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": Signer(list(secrets)).sign(msg_id, timestamp, body),
    }
    return body, headers


def event(event_type: str | None, **data: Any) -> dict[str, Any]:
    """A payload shaped as Standard Webhooks recommends (and Svix sends)."""
    payload: dict[str, Any] = {"timestamp": "2024-05-01T12:00:00Z", "data": data}
    if event_type is not None:
        payload["type"] = event_type
    return payload
