"""One attempt, from claim to result: sign, send, ask the policy, shape what to write back."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import assert_never

from hookwire.core import ids
from hookwire.core.settings import Settings
from hookwire.core.signing import Signer
from hookwire.core.types import Attempt, AttemptError, AttemptTrigger, DeliveryStatus
from hookwire.delivery.policy import (
    Decision,
    Delivered,
    DisableEndpoint,
    Failed,
    Outcome,
    RetryAt,
    RetryRules,
    decide,
)
from hookwire.delivery.transport import USER_AGENT, Response, Transport
from hookwire.store.base import AttemptResult, Claim, EndpointHealth


@dataclass(frozen=True, slots=True)
class DeliveryEvent:
    """What callbacks hear after each attempt's result is stored."""

    message_id: str
    endpoint_id: str
    app_id: str
    event_type: str
    url: str
    attempt: int
    status_code: int | None
    error: AttemptError | None
    succeeded: bool
    next_attempt_at: datetime | None


@lru_cache(maxsize=4096)
def _signer(secrets: tuple[str, ...]) -> Signer:
    # Decoding secrets and keying HMAC per request is measurable at thousands a second.
    return Signer(secrets)


def request_headers(claim: Claim, timestamp: int) -> dict[str, str]:
    """Custom headers first, then ours: validation refuses reserved names, and this order makes
    sure that even a stored header from before a rule change cannot replace a signature."""
    signature = _signer(claim.secrets).sign(claim.message_id, timestamp, claim.payload)
    return {
        **claim.endpoint_headers,
        **claim.message_headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": claim.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


class AttemptRunner:
    """Makes attempts for claims and turns their outcomes into results."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        *,
        clock: Callable[[], datetime],
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._clock = clock
        self._rng = rng

    async def run(self, claim: Claim) -> AttemptResult:
        if claim.endpoint_disabled:
            # Disabled after this delivery was written: fail it without a request; recover()
            # brings it back once the endpoint is enabled again.
            return AttemptResult(
                claim.delivery_id,
                claim.lease_token,
                claim.endpoint_id,
                DeliveryStatus.FAILED,
                None,
                None,
                None,
            )
        timestamp = int(self._clock().timestamp())
        response = await self._transport.post(claim.url, claim.payload, request_headers(claim, timestamp))
        return self.result(claim, response)

    def result(self, claim: Claim, response: Response) -> AttemptResult:
        finished = self._clock()
        outcome = Outcome(response.status_code, response.error, response.retry_after)
        failing_since = None if outcome.succeeded else (claim.failing_since or response.started_at)
        s = self._settings
        rules = RetryRules(
            claim.retry_schedule or s.schedule, s.retry_jitter, s.retry_after_max, s.disable_after
        )
        decision = decide(
            outcome,
            attempt=claim.round_attempts + 1,
            rules=rules,
            now=finished,
            failing_since=failing_since,
            random=self._rng,
        )
        status, next_attempt_at, health = _apply(decision)
        attempt = Attempt(
            id=ids.new_id(ids.ATTEMPT),
            delivery_id=claim.delivery_id,
            message_id=claim.message_id,
            endpoint_id=claim.endpoint_id,
            app_id=claim.app_id,
            number=claim.attempts + 1,
            url=claim.url,
            started_at=response.started_at,
            duration_ms=response.duration_ms,
            status_code=response.status_code,
            response_body=response.body,
            error=response.error,
            error_detail=response.error_detail,
            succeeded=outcome.succeeded,
            trigger=AttemptTrigger.MANUAL if claim.manual else AttemptTrigger.SCHEDULED,
        )
        return AttemptResult(
            claim.delivery_id, claim.lease_token, claim.endpoint_id, status, next_attempt_at, attempt, health
        )


def _apply(decision: Decision) -> tuple[DeliveryStatus, datetime | None, EndpointHealth]:
    match decision:
        case Delivered():
            return DeliveryStatus.SUCCEEDED, None, EndpointHealth(succeeded=True)
        case RetryAt(when):
            return DeliveryStatus.PENDING, when, EndpointHealth(succeeded=False)
        case Failed():
            return DeliveryStatus.FAILED, None, EndpointHealth(succeeded=False)
        case DisableEndpoint(reason):
            return DeliveryStatus.FAILED, None, EndpointHealth(succeeded=False, disable_reason=reason)
        case _:
            assert_never(decision)


def delivery_event(claim: Claim, result: AttemptResult) -> DeliveryEvent:
    attempt = result.attempt
    return DeliveryEvent(
        message_id=claim.message_id,
        endpoint_id=claim.endpoint_id,
        app_id=claim.app_id,
        event_type=claim.event_type,
        url=claim.url,
        attempt=claim.attempts + 1,
        status_code=None if attempt is None else attempt.status_code,
        error=AttemptError.ENDPOINT_DISABLED if attempt is None else attempt.error,
        succeeded=result.status is DeliveryStatus.SUCCEEDED,
        next_attempt_at=result.next_attempt_at,
    )
