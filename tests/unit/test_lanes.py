"""The worker's admission rules, as a table."""

from __future__ import annotations

import pytest

from hookwire.core.types import AttemptError
from hookwire.delivery.lanes import (
    HELD_BEFORE_ANSWER,
    HELD_PER_CAP,
    MIN_UNTIL_FREE,
    RECHECK_AFTER,
    EndpointLoad,
    HandBack,
    Lane,
    Standing,
    Start,
    Step,
    Wait,
    held_cap,
    next_step,
    standing_after,
    until_free,
)

CAP = 16
HELD = HELD_BEFORE_ANSWER * CAP
TIMEOUT = 15.0
ROOMY = {"stalled_room": 100, "waiting_room": 100}


def load(in_flight: int = 0, waiting_ahead: int = 0, oldest_age: float = 0.0) -> EndpointLoad:
    return EndpointLoad(in_flight=in_flight, waiting_ahead=waiting_ahead, oldest_age=oldest_age)


@pytest.mark.parametrize(
    ("standing", "endpoint", "rooms", "expected"),
    [
        # An answering endpoint gets its full cap in the fast lane, then waits its turn.
        (Standing.ANSWERS, load(), ROOMY, Start(Lane.FAST)),
        (Standing.ANSWERS, load(in_flight=CAP - 1), ROOMY, Start(Lane.FAST)),
        (Standing.ANSWERS, load(in_flight=CAP, waiting_ahead=CAP - 1), ROOMY, Wait()),
        # Before its first answer: one request; a few wait for the answer, the rest come back later.
        (Standing.UNKNOWN, load(), ROOMY, Start(Lane.FAST)),
        (Standing.UNKNOWN, load(in_flight=1, oldest_age=0.1), ROOMY, Wait()),
        (Standing.UNKNOWN, load(in_flight=1, waiting_ahead=HELD - 1), ROOMY, Wait()),
        (Standing.UNKNOWN, load(in_flight=1, waiting_ahead=HELD), ROOMY, HandBack(RECHECK_AFTER)),
        (
            Standing.UNKNOWN,
            load(in_flight=1),
            {"stalled_room": 100, "waiting_room": 0},
            HandBack(RECHECK_AFTER),
        ),
        # After a timeout: one probe at a time, straight into the stalled lane.
        (Standing.HANGS, load(), ROOMY, Start(Lane.STALLED)),
        (Standing.HANGS, load(), {"stalled_room": 0, "waiting_room": 100}, HandBack(TIMEOUT)),
        (Standing.HANGS, load(in_flight=1, oldest_age=5.0), ROOMY, HandBack(TIMEOUT - 5.0)),
        (Standing.HANGS, load(in_flight=1, oldest_age=14.9), ROOMY, HandBack(RECHECK_AFTER)),
    ],
)
def test_next_step(standing: Standing, endpoint: EndpointLoad, rooms: dict[str, int], expected: Step) -> None:
    assert next_step(standing, endpoint, endpoint_cap=CAP, timeout=TIMEOUT, **rooms) == expected


@pytest.mark.parametrize(
    ("error", "standing"),
    [
        (None, Standing.ANSWERS),  # any status code, 500 included
        (AttemptError.CONNECT, Standing.ANSWERS),  # a refused connection holds nothing
        (AttemptError.TLS, Standing.ANSWERS),
        (AttemptError.TIMEOUT, Standing.HANGS),
    ],
)
def test_standing_after(error: AttemptError | None, standing: Standing) -> None:
    assert standing_after(error) is standing


@pytest.mark.parametrize(
    ("latency", "rounds"),
    [
        (0.001, HELD_PER_CAP),  # fast: as many rounds as allowed
        (0.05, 5),  # a quarter of a second's worth
        (0.5, 2),  # slow: never less than two rounds
        (30.0, 2),
        (0.0, HELD_PER_CAP),
    ],
)
def test_an_endpoint_is_held_by_how_soon_its_queue_starts(latency: float, rounds: int) -> None:
    assert held_cap(endpoint_cap=CAP, latency=latency) == rounds * CAP


def test_a_full_queue_frees_up_at_the_endpoints_pace() -> None:
    assert until_free(waiting=3 * CAP, endpoint_cap=CAP, latency=0.5) == 1.5
    assert until_free(waiting=CAP, endpoint_cap=CAP, latency=0.0001) == MIN_UNTIL_FREE
