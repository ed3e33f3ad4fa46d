"""Which claimed delivery may start now, which waits, and which is handed back. Pure code.

The worker asks :func:`next_step` about each delivery it holds, given how the endpoint has
behaved in this worker and how many requests it has to it; it carries out the answer.

Why this exists: a request to a receiver that never answers holds its connection until the
request timeout. If such requests counted against the same budget as everyone else's, a
thousand dead endpoints would take every slot for fifteen seconds at a time and healthy
endpoints would wait behind them. So:

* **Two lanes.** A request starts in the *fast* lane (``Settings.concurrency``). Once it has
  waited ``Settings.stall_after`` seconds for its response it moves to the *stalled* lane
  (``Settings.stalled_concurrency``), freeing its fast slot for the next delivery. A waiting
  request costs a socket and a few kilobytes, not CPU, so the stalled lane can be wide.
* **One request at a time until an endpoint answers.** An endpoint gets its full
  ``endpoint_concurrency`` only while its last attempt here got an answer (any status code, or
  a quick failure such as a refused connection). Before its first answer, and after a timeout,
  it gets one request at a time, so a dead endpoint holds one connection, not sixteen.
* **Hand back what cannot start soon.** A delivery for an endpoint known to hang goes back to
  the store due when the endpoint's request in flight must have ended; one beyond what an
  endpoint that has not answered yet may keep waiting is looked at again a second later.
  Holding them would keep them from other workers and risk their leases; leaving them due
  would clog the front of the claim queue for everyone else.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import assert_never

from hookwire.core.types import AttemptError

__all__ = [
    "HELD_BEFORE_ANSWER",
    "HELD_PER_CAP",
    "MIN_UNTIL_FREE",
    "QUEUE_SECONDS",
    "EndpointLoad",
    "HandBack",
    "Lane",
    "Standing",
    "Start",
    "Step",
    "Wait",
    "held_cap",
    "next_step",
    "standing_after",
    "until_free",
]

#: A worker holds at most this many times ``endpoint_concurrency`` deliveries of an endpoint
#: that answers quickly: the cap in flight, the rest in a local queue, so that each claim
#: brings a worthwhile batch while the cap's worth is in flight (claims are transactions, and
#: the queue must not run dry while one is out).
HELD_PER_CAP = 8
#: ...and of an endpoint it has not had an answer from yet: one request goes out, the rest
#: wait for its answer (see ``next_step``).
HELD_BEFORE_ANSWER = 2
#: A local queue holds what an endpoint will start within about this long (by its recent
#: request time), and at least one round of its cap: a slow endpoint's backlog stays in the
#: store, where other workers can take it and where no lease runs out while it waits.
QUEUE_SECONDS = 0.25
#: How soon a delivery handed back for an endpoint that has not answered yet is looked at
#: again. Most endpoints answer within milliseconds, so by then it is known to answer and the
#: delivery goes out; one that hangs is known to within one request timeout. Also the shortest
#: hand-back of all, so that a request about to time out does not make its endpoint's other
#: deliveries bounce between store and worker.
RECHECK_AFTER = 1.0

#: The least time a full endpoint's due deliveries are put back by: below this, the same ones
#: would fill the next claim's look-ahead again.
MIN_UNTIL_FREE = 0.05


class Lane(enum.Enum):
    FAST = "fast"  # counted against Settings.concurrency
    STALLED = "stalled"  # counted against Settings.stalled_concurrency

    # Members are singletons, so identity will do; Enum's own hash is Python code, and the
    # worker counts lanes in a dict several times per request.
    __hash__ = object.__hash__


class Standing(enum.Enum):
    """How an endpoint behaved in this worker, by its last attempt."""

    UNKNOWN = "unknown"  # no attempt finished here yet
    ANSWERS = "answers"  # the last attempt got an answer (or failed fast)
    HANGS = "hangs"  # the last attempt timed out


@dataclass(frozen=True, slots=True)
class Start:
    lane: Lane


@dataclass(frozen=True, slots=True)
class Wait:
    """Keep it in the worker: the endpoint will have room within one request timeout."""


@dataclass(frozen=True, slots=True)
class HandBack:
    """Write it back as pending, due ``after`` seconds from now; no attempt is counted."""

    after: float


Step = Start | Wait | HandBack


@dataclass(frozen=True, slots=True)
class EndpointLoad:
    """What the worker has of one endpoint when it considers one more delivery for it."""

    in_flight: int
    waiting_ahead: int  # deliveries of this endpoint already waiting in the worker
    oldest_age: float  # seconds since its oldest request in flight started (0 when none)


def next_step(
    standing: Standing,
    load: EndpointLoad,
    *,
    endpoint_cap: int,
    stalled_room: int,
    waiting_room: int,
    timeout: float,
) -> Step:
    """Decide what to do with one more delivery for an endpoint.

    Args:
        standing: how the endpoint behaved here.
        load: its requests in flight and deliveries waiting.
        endpoint_cap: ``Settings.endpoint_concurrency``.
        stalled_room: free slots in the stalled lane.
        waiting_room: how many more deliveries the worker may keep waiting in all.
        timeout: ``Settings.request_timeout``.
    """
    # When the endpoint's oldest request must have ended, one way or the other.
    freed_in = max(timeout - load.oldest_age, RECHECK_AFTER)
    match standing:
        case Standing.ANSWERS:
            # Claims never give the worker more than it may hold for an answering endpoint.
            return Start(Lane.FAST) if load.in_flight < endpoint_cap else Wait()
        case Standing.UNKNOWN:
            if load.in_flight == 0:
                return Start(Lane.FAST)
            # Its first answer lets all of these start at once, within one timeout. Claims give
            # the worker at most HELD_BEFORE_ANSWER times the cap of such an endpoint, so all
            # it was given may wait: handing some back would delay them a whole recheck period
            # on every fresh start.
            if load.waiting_ahead < HELD_BEFORE_ANSWER * endpoint_cap and waiting_room > 0:
                return Wait()
            return HandBack(RECHECK_AFTER)
        case Standing.HANGS:
            if load.in_flight == 0:
                # It will most likely hang again: never let it take a fast slot.
                return Start(Lane.STALLED) if stalled_room > 0 else HandBack(timeout)
            return HandBack(freed_in)
        case _:
            assert_never(standing)


def standing_after(error: AttemptError | None) -> Standing:
    """What an attempt's outcome says about its endpoint."""
    return Standing.HANGS if error is AttemptError.TIMEOUT else Standing.ANSWERS


def until_free(*, waiting: int, endpoint_cap: int, latency: float) -> float:
    """Seconds until an endpoint whose local queue is full has room here again: its queue,
    ``endpoint_cap`` requests at a time, each taking ``latency`` seconds. Its deliveries still
    due in the store are not worth looking at before then (see ``Store.claim_due``)."""
    return max(waiting / endpoint_cap * latency, MIN_UNTIL_FREE)


def held_cap(*, endpoint_cap: int, latency: float) -> int:
    """How many deliveries of an answering endpoint a worker may hold, in flight and queued:
    what it will start within ``QUEUE_SECONDS`` at ``latency`` seconds a request, between two
    and ``HELD_PER_CAP`` rounds of its cap."""
    rounds = int(QUEUE_SECONDS / latency) if latency > 0 else HELD_PER_CAP
    return endpoint_cap * min(max(rounds, 2), HELD_PER_CAP)
