"""The delivery policy: what an attempt's outcome means for its delivery. Pure code.

The worker hands in what happened (status code or classified error, ``Retry-After``), which
attempt of the schedule this was and how long the endpoint has been failing; the policy
answers with one of four small values and the worker carries it out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from hookwire.core.types import AttemptError


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced: a status code, or an error when there was no usable response."""

    status_code: int | None = None
    error: AttemptError | None = None
    retry_after: str | None = None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True, slots=True)
class Delivered:
    pass


@dataclass(frozen=True, slots=True)
class RetryAt:
    when: datetime


@dataclass(frozen=True, slots=True)
class Failed:
    reason: str


@dataclass(frozen=True, slots=True)
class DisableEndpoint:
    """Stop sending to the endpoint; this delivery fails with ``reason``."""

    reason: str


Decision = Delivered | RetryAt | Failed | DisableEndpoint


@dataclass(frozen=True, slots=True)
class RetryRules:
    schedule: Sequence[float]
    jitter: float
    retry_after_max: timedelta
    disable_after: timedelta


def decide(
    outcome: Outcome,
    *,
    attempt: int,
    rules: RetryRules,
    now: datetime,
    failing_since: datetime | None,
    random: Callable[[], float],
) -> Decision:
    """Decide the next step after attempt number ``attempt`` (1-based) of the schedule.

    Args:
        outcome: what the attempt produced.
        attempt: how many attempts of ``rules.schedule`` have now been made.
        rules: the schedule and limits in force for this endpoint.
        now: when the attempt finished.
        failing_since: since when the endpoint has failed without a success in between, counting
            this attempt (``None`` if it has not been failing).
        random: a source of floats in [0, 1) for jitter.
    """
    if outcome.succeeded:
        return Delivered()
    if outcome.status_code == 410:
        return DisableEndpoint("the endpoint answered 410 Gone")
    if outcome.error is AttemptError.BLOCKED:
        # Retrying cannot help and would only knock on a forbidden address again.
        return Failed("the destination address is not allowed")
    if failing_since is not None and now - failing_since >= rules.disable_after:
        return DisableEndpoint(f"failing continuously since {failing_since.isoformat(timespec='seconds')}")
    if attempt >= len(rules.schedule):
        return Failed(f"gave up after {attempt} attempts")
    delay = rules.schedule[attempt] * (1 + rules.jitter * (2 * random() - 1))
    when = now + timedelta(seconds=delay)
    if outcome.status_code in (429, 503) and outcome.retry_after is not None:
        asked = parse_retry_after(outcome.retry_after, now)
        if asked is not None:
            when = max(when, now + min(asked, rules.retry_after_max))
    return RetryAt(when)


def parse_retry_after(value: str, now: datetime) -> timedelta | None:
    """Parse ``Retry-After`` (RFC 9110 section 10.2.3): delay-seconds or an HTTP-date."""
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value[:9]))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # HTTP-dates are always GMT (RFC 9110 section 5.6.7)
    return max(when - now, timedelta(0))
