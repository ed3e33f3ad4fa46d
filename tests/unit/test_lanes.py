"""The worker's admission rules, as a table."""

from __future__ import annotations

import pytest

from hookwire.core.types import AttemptError
from hookwire.delivery.lanes import (
    HELD_PER_CAP,
    RECHECK_AFTER,
    EndpointLoad,
    HandBack,
    Lane,
    Standing,
    Start,
    Step,
    Wait,
    next_step,
    standing_after,
)

CAP = 16
HELD = HELD_PER_CAP * CAP
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
