"""Table tests of the delivery policy: outcome in, next step out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hookwire.core.settings import DEFAULT_RETRY_SCHEDULE
from hookwire.core.types import AttemptError
from hookwire.delivery.policy import (
    Decision,
    Delivered,
    DisableEndpoint,
    Failed,
    Outcome,
    RetryAt,
    RetryRules,
    decide,
    parse_retry_after,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
RULES = RetryRules(
    schedule=DEFAULT_RETRY_SCHEDULE,
    jitter=0.2,
    retry_after_max=timedelta(hours=6),
    disable_after=timedelta(days=5),
)


def at(seconds: float) -> RetryAt:
    return RetryAt(NOW + timedelta(seconds=seconds))


def run(
    outcome: Outcome,
    attempt: int = 1,
    *,
    failing_since: datetime | None = None,
    random: float = 0.5,
    rules: RetryRules = RULES,
) -> Decision:
    return decide(
        outcome, attempt=attempt, rules=rules, now=NOW, failing_since=failing_since, random=lambda: random
    )


@pytest.mark.parametrize(
    ("outcome", "attempt", "expected"),
    [
        (Outcome(200), 1, Delivered()),
        (Outcome(204), 8, Delivered()),
        (Outcome(299), 3, Delivered()),
        # the default schedule, with no jitter at random=0.5
        (Outcome(500), 1, at(5)),
        (Outcome(500), 2, at(300)),
        (Outcome(500), 3, at(1800)),
        (Outcome(500), 4, at(7200)),
        (Outcome(500), 5, at(18000)),
        (Outcome(500), 6, at(36000)),
        (Outcome(500), 7, at(36000)),
        (Outcome(500), 8, Failed("gave up after 8 attempts")),
        # 3xx is a failure like any other non-2xx
        (Outcome(301), 1, at(5)),
        (Outcome(308), 1, at(5)),
        (Outcome(404), 2, at(300)),
        (Outcome(None, AttemptError.TIMEOUT), 1, at(5)),
        (Outcome(None, AttemptError.CONNECT), 1, at(5)),
        (Outcome(None, AttemptError.TLS), 1, at(5)),
        # 410 Gone: the receiver asks us to stop
        (Outcome(410), 1, DisableEndpoint("the endpoint answered 410 Gone")),
        # a refused destination is never retried
        (Outcome(None, AttemptError.BLOCKED), 1, Failed("the destination address is not allowed")),
        # Retry-After on 429/503 pushes later, never earlier
        (Outcome(429, retry_after="120"), 1, at(120)),
        (Outcome(503, retry_after="120"), 1, at(120)),
        (Outcome(503, retry_after="1"), 2, at(300)),
        (Outcome(429, retry_after="999999"), 1, at(6 * 3600)),  # bounded
        (Outcome(429, retry_after="Thu, 01 Jan 2026 12:10:00 GMT"), 1, at(600)),
        (Outcome(429, retry_after="soon"), 1, at(5)),  # unparseable: the schedule stands
        (Outcome(500, retry_after="120"), 1, at(5)),  # only 429 and 503 carry Retry-After
    ],
)
def test_decisions(outcome: Outcome, attempt: int, expected: Decision) -> None:
    assert run(outcome, attempt) == expected


@pytest.mark.parametrize(("random", "factor"), [(0.0, 0.8), (0.5, 1.0), (0.999999, 1.2)])
def test_jitter_stays_within_twenty_percent(random: float, factor: float) -> None:
    decision = run(Outcome(500), 2, random=random)
    assert isinstance(decision, RetryAt)
    assert (decision.when - NOW).total_seconds() == pytest.approx(300 * factor, rel=1e-4)


@pytest.mark.parametrize(
    ("failing_for", "expected_disabled"),
    [(timedelta(days=4, hours=23), False), (timedelta(days=5), True), (timedelta(days=9), True)],
)
def test_endpoint_failing_past_the_window_is_disabled(
    failing_for: timedelta, expected_disabled: bool
) -> None:
    decision = run(Outcome(500), 3, failing_since=NOW - failing_for)
    assert isinstance(decision, DisableEndpoint) is expected_disabled


def test_success_clears_everything_even_when_failing_long() -> None:
    assert run(Outcome(200), 3, failing_since=NOW - timedelta(days=30)) == Delivered()


def test_custom_schedule() -> None:
    rules = RetryRules(
        schedule=(0, 1, 2), jitter=0, retry_after_max=timedelta(hours=1), disable_after=timedelta(days=5)
    )
    assert run(Outcome(500), 1, rules=rules) == at(1)
    assert run(Outcome(500), 2, rules=rules) == at(2)
    assert run(Outcome(500), 3, rules=rules) == Failed("gave up after 3 attempts")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", timedelta(0)),
        ("120", timedelta(seconds=120)),
        (" 7 ", timedelta(seconds=7)),
        ("Thu, 01 Jan 2026 12:00:30 GMT", timedelta(seconds=30)),
        ("Wed, 31 Dec 2025 12:00:00 GMT", timedelta(0)),  # in the past: now
        ("-5", None),
        ("1.5", None),
        ("", None),
        ("tomorrow", None),
    ],
)
def test_parse_retry_after(value: str, expected: timedelta | None) -> None:
    assert parse_retry_after(value, NOW) == expected
