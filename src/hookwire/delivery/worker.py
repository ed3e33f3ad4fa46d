"""The delivery worker: claim due deliveries in batches, send them concurrently, write results
in batches. What an outcome means comes from the policy, what may start now from the lanes;
this is the thin loop that acts.

Concurrency is bounded three ways, so that slow or dead receivers cannot starve healthy ones
(:mod:`hookwire.delivery.lanes` explains the rules):

* ``concurrency`` requests in the fast lane and ``stalled_concurrency`` in the stalled lane,
  where a request moves once it has waited ``stall_after`` seconds for its response. Requests
  to receivers that hang end up in the stalled lane, so they cannot hold the fast slots.
* ``endpoint_concurrency`` to any one endpoint while it answers; one at a time before its
  first answer here and after a timeout, so a dead endpoint holds one connection.
* A worker holds a few rounds of the cap for an answering endpoint: the cap in flight and the
  rest waiting in a local queue, so that a finished request is followed at once without a
  round trip to the database, and each claim brings a worthwhile batch. How many rounds
  follows the endpoint's request time (``lanes.held_cap``): up to eight for a fast one, two
  for a slow one, so that the queue holds what starts within a fraction of a second and its
  wait stays far inside the lease. The rest of a busy endpoint's backlog stays in the
  database, where any worker may take it, and is moved out of the claims' look-ahead while
  this worker cannot take more of it (``Store.claim_due``'s ``blocked``). Deliveries claimed
  for an endpoint that cannot take them soon are handed back to the database, due when it
  can: no attempt is counted and no other worker is kept from them.

Messages created in this process need no claim at all: the store writes their deliveries
leased to this worker, as many as it has room for, and hands them over once committed
(``Store.hand_off_to``; ``room`` and ``take`` below). The rest are claimed as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
from collections import OrderedDict, defaultdict, deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import assert_never

from hookwire.core.clock import utcnow
from hookwire.core.errors import StoreError
from hookwire.core.settings import Settings
from hookwire.core.types import DeliveryStatus
from hookwire.delivery.attempt import AttemptRunner, DeliveryEvent, delivery_event
from hookwire.delivery.lanes import (
    HELD_BEFORE_ANSWER,
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
from hookwire.delivery.transport import Transport
from hookwire.store.base import AttemptResult, Claim, HandedOff, Store

log = logging.getLogger("hookwire.worker")

ResultListener = Callable[[DeliveryEvent], Awaitable[None]]

#: How much each finished request moves an endpoint's latency estimate.
LATENCY_WEIGHT = 0.2

#: How many endpoints' standing a worker remembers. The least recently used are forgotten,
#: and then get one request at a time again until they answer: a small cost, once.
STANDING_MEMORY = 65_536


@dataclass(eq=False, slots=True)
class _Request:
    """One request in flight: to which endpoint, since when, counted in which lane."""

    endpoint_id: str
    started: float  # event loop time
    lane: Lane
    timer: asyncio.TimerHandle | None = None


class Worker:
    """Delivers webhooks from a ``Store`` until stopped.

    Args:
        store: where deliveries are claimed and results written.
        settings: limits, timeouts and the retry schedule.
        on_result: awaited after each result is durably written (not for fenced-off results).
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        *,
        on_result: ResultListener | None = None,
        clock: Callable[[], datetime] = utcnow,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._settings = settings
        self._on_result = on_result
        self._clock = clock
        self._rng = rng
        # Set when it is worth claiming again: a message was created here, or room freed up.
        # Cleared just before each claim, so that a signal during a claim is never lost.
        self._look = asyncio.Event()
        self._results: list[tuple[Claim, AttemptResult]] = []
        self._handed_back: list[AttemptResult] = []
        self._results_ready = asyncio.Event()
        self._running: dict[str, list[_Request]] = defaultdict(list)
        self._waiting: dict[str, deque[Claim]] = defaultdict(deque)
        self._queued = 0  # deliveries waiting, over all endpoints
        self._lanes: dict[Lane, int] = dict.fromkeys(Lane, 0)
        self._standing: OrderedDict[str, Standing] = OrderedDict()
        # Seconds per request, per endpoint, recent ones weighing most: how soon a queue frees.
        self._latency: dict[str, float] = {}
        self._unwritten = 0  # results and hand-backs not committed yet, the batch being written included
        # Deliveries handed off by the store and not taken on the event loop yet: counted on
        # the thread that writes (SQLite's writer thread), uncounted on the event loop.
        self._incoming = 0
        self._incoming_lock = threading.Lock()
        self._held_back = False  # claiming paused until results are written
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._give_up_at: float | None = None  # loop time when a stop stops trying to write
        self._main: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._transport: Transport | None = None
        self._runner: AttemptRunner | None = None
        self._stop_watching: Callable[[], Awaitable[None]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- control -------------------------------------------------------------------------------

    def wake(self) -> None:
        """Look for due deliveries now (a message was just created). Safe from any thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is None or running is self._loop:
            self._look.set()
        else:
            self._loop.call_soon_threadsafe(self._look.set)

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._transport = Transport(self._settings)
        self._runner = AttemptRunner(self._settings, self._transport, clock=self._clock, rng=self._rng)
        self._flusher = asyncio.create_task(self._flush_forever(), name="hookwire-worker-flush")
        self._main = asyncio.create_task(self._claim_forever(), name="hookwire-worker")
        self._stop_watching = await self._store.watch(self.wake)
        await self._store.hand_off_to(self)

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming, let requests in flight finish for up to ``grace`` seconds, write every
        result, hand back what was claimed but not started, and close connections.

        Stopping takes at most about twice ``grace``: a database still unreachable by then gets
        no more tries, and what could not be written is retried by the store's leases expiring
        (those deliveries are sent again, never lost)."""
        self._stopping = True
        self._give_up_at = asyncio.get_running_loop().time() + 2 * grace
        self._look.set()
        try:
            # From now on ``room`` is 0; deliveries handed off before are taken (into the queue
            # handed back below) by the time this returns.
            async with asyncio.timeout_at(self._give_up_at):
                await self._store.hand_off_to(None)
        except Exception as exc:
            log.warning("could not stop the store's hand-offs (%s); room is 0 meanwhile", exc)
        if self._stop_watching is not None:
            await self._stop_watching()
        if self._main is not None:
            await self._main
        waiting = [claim for queue in self._waiting.values() for claim in queue]
        self._waiting.clear()
        self._queued = 0
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()  # their leases expire and another worker retries them
            await asyncio.gather(*pending, return_exceptions=True)
        if self._flusher is not None:
            self._results_ready.set()
            await self._flusher
        if waiting:
            try:
                async with asyncio.timeout_at(self._give_up_at):
                    await self._store.release(waiting, now=self._clock())
            except Exception as exc:
                log.warning(
                    "%d claimed deliveries not handed back (%s): their leases will expire", len(waiting), exc
                )
        if self._transport is not None:
            await self._transport.close()

    async def run(self) -> None:
        """Run until cancelled, then stop gracefully."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.shield(self.stop())

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # -- deliveries handed off by the store ----------------------------------------------------

    @property
    def lease(self) -> timedelta:
        return self._settings.lease

    def room(self, endpoint_ids: Collection[str]) -> tuple[int, dict[str, int]]:
        """``HandOff.room``, on the thread that writes (SQLite's writer thread, else this
        event loop): what this worker would take now, in all and per endpoint, by the rules of
        a claim. It only reads counters the event loop keeps; an answer gone stale meanwhile
        costs a wait in the queue or a hand-back, never a delivery."""
        s = self._settings
        if self._stopping or self._unwritten >= s.concurrency:
            return 0, {}
        with self._incoming_lock:
            incoming = self._incoming
        total = s.concurrency - self._lanes[Lane.FAST] - self._queued - incoming
        if total <= 0:
            return 0, {}
        return total, {endpoint_id: self._room_for_new(endpoint_id) for endpoint_id in endpoint_ids}

    def _room_for_new(self, endpoint_id: str) -> int:
        if self._standing.get(endpoint_id) is Standing.HANGS:
            return 0  # it would be handed back: let the claims find it when it is free
        return self._free(endpoint_id)

    def take(self, handed: HandedOff) -> None:
        """``HandOff.take``, on the thread that writes, once the deliveries are committed."""
        assert self._loop is not None
        with self._incoming_lock:
            self._incoming += handed.count
        self._loop.call_soon_threadsafe(self._take, handed)

    def _take(self, handed: HandedOff) -> None:
        with self._incoming_lock:
            self._incoming -= handed.count
        for claim in handed.claims():
            if self._stopping:  # handed back with what waits, as the stop goes on
                self._waiting[claim.endpoint_id].append(claim)
                self._queued += 1
            else:
                self._dispatch(claim)

    # -- claiming ------------------------------------------------------------------------------

    async def _claim_forever(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim_once()
            except Exception:
                log.exception("claiming deliveries failed; retrying shortly")
                await self._sleep(self._settings.poll_interval)
                continue
            if claimed is None:
                # No room: nothing to ask the database until requests end or results are
                # written, and both wake us.
                self._look.clear()
                await self._sleep(self._settings.poll_interval)
            elif claimed:
                continue  # there may be more due right away
            else:
                await self._idle()

    async def _claim_once(self) -> int | None:
        """Claim what there is room for; ``None`` when there is no room to claim anything."""
        if self._unwritten >= self._settings.concurrency:
            # A request whose result is not written yet is sent again after a crash: take no
            # more work until the store has caught up, which bounds what a crash can repeat.
            self._held_back = True
            return None
        room = self._settings.concurrency - self._lanes[Lane.FAST] - self._waiting_to_start()
        if room <= 0:
            return None
        now = self._clock()
        self._look.clear()
        rooms = self._room()
        claims = await self._store.claim_due(
            now=now,
            lease_until=now + self._settings.lease,
            limit=min(room, self._settings.claim_batch),
            per_endpoint=HELD_BEFORE_ANSWER * self._settings.endpoint_concurrency,
            room=rooms,
            blocked={
                endpoint_id: now + timedelta(seconds=self._until_free(endpoint_id))
                for endpoint_id, free in rooms.items()
                if free == 0
            },
        )
        for claim in claims:
            self._dispatch(claim)
        return len(claims)

    def _free(self, endpoint_id: str) -> int:
        """How many more deliveries of an endpoint this worker may hold (at most its held cap)."""
        held = len(self._running.get(endpoint_id, ())) + len(self._waiting.get(endpoint_id, ()))
        return max(self._held_cap(endpoint_id) - held, 0)

    def _held_cap(self, endpoint_id: str) -> int:
        """How many deliveries of an answering endpoint this worker may hold (see lanes)."""
        latency = self._latency.get(endpoint_id)
        cap = self._settings.endpoint_concurrency
        return HELD_BEFORE_ANSWER * cap if latency is None else held_cap(endpoint_cap=cap, latency=latency)

    def _answers(self, endpoint_id: str) -> bool:
        return self._standing.get(endpoint_id) is Standing.ANSWERS

    def _waiting_to_start(self) -> int:
        """Deliveries waiting for a fast slot: those of answering endpoints. The others wait for
        an endpoint's first answer, which frees no slot of ours."""
        return sum(len(queue) for endpoint_id, queue in self._waiting.items() if self._answers(endpoint_id))

    def _until_free(self, endpoint_id: str) -> float:
        return until_free(
            waiting=len(self._waiting.get(endpoint_id, ())),
            endpoint_cap=self._settings.endpoint_concurrency,
            latency=self._latency.get(endpoint_id, RECHECK_AFTER),
        )

    def _room(self) -> dict[str, int]:
        """How many more deliveries this worker may hold for each answering endpoint it holds
        some of. Other endpoints are left out on purpose: what they cannot take is handed
        back, rather than left due at the head of the queue where it would block every claim."""
        return {
            endpoint_id: self._free(endpoint_id)
            for endpoint_id in self._running
            if self._answers(endpoint_id)
        }

    async def _idle(self) -> None:
        """Sleep until there is reason to claim: woken (a message was created here), room
        freed up while work is in hand, the next delivery falls due, or the poll interval
        passed (the fallback for messages written by other processes)."""
        timeout = self._settings.poll_interval
        with contextlib.suppress(Exception):
            due = await self._store.next_due()
            # A delivery already due that the last claim left behind belongs to an endpoint
            # without room here; freed room will set ``_look``.
            if due is not None and (wait := (due - self._clock()).total_seconds()) > 0:
                timeout = min(timeout, wait)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._look.wait(), timeout)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._look.wait(), seconds)

    # -- sending -------------------------------------------------------------------------------

    def _dispatch(self, claim: Claim) -> None:
        endpoint_id = claim.endpoint_id
        step = self._next_step(endpoint_id, waiting_ahead=len(self._waiting.get(endpoint_id, ())))
        match step:
            case Start(lane):
                self._start(claim, lane)
            case Wait():
                self._waiting[endpoint_id].append(claim)
                self._queued += 1
            case HandBack(after):
                self._hand_back(claim, after)
            case _:
                assert_never(step)

    def _drain(self, endpoint_id: str) -> None:
        """Start or hand back what waits for an endpoint, now that something changed for it."""
        queue = self._waiting.get(endpoint_id)
        while queue:
            step = self._next_step(endpoint_id, waiting_ahead=0)
            if isinstance(step, Wait):
                break
            claim = queue.popleft()
            self._queued -= 1
            if isinstance(step, Start):
                self._start(claim, step.lane)
            else:
                self._hand_back(claim, step.after)
        if queue is not None and not queue:
            del self._waiting[endpoint_id]

    def _next_step(self, endpoint_id: str, *, waiting_ahead: int) -> Step:
        running = self._running.get(endpoint_id, ())
        # Requests are appended as they start and removed as they end: the first is the oldest.
        oldest_age = asyncio.get_running_loop().time() - running[0].started if running else 0.0
        load = EndpointLoad(in_flight=len(running), waiting_ahead=waiting_ahead, oldest_age=oldest_age)
        s = self._settings
        return next_step(
            self._standing.get(endpoint_id, Standing.UNKNOWN),
            load,
            endpoint_cap=s.endpoint_concurrency,
            stalled_room=s.stalled_concurrency - self._lanes[Lane.STALLED],
            waiting_room=s.concurrency + s.stalled_concurrency - self._queued,
            timeout=s.request_timeout,
        )

    def _start(self, claim: Claim, lane: Lane) -> None:
        loop = asyncio.get_running_loop()
        request = _Request(claim.endpoint_id, loop.time(), lane)
        if lane is Lane.FAST:
            request.timer = loop.call_later(self._settings.stall_after, self._stalled, request)
        self._running[claim.endpoint_id].append(request)
        self._lanes[lane] += 1
        task = asyncio.create_task(self._send(claim, request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _stalled(self, request: _Request) -> None:
        """A request has waited ``stall_after`` for its response: move it out of the fast lane."""
        request.timer = None
        if request.lane is Lane.FAST and self._lanes[Lane.STALLED] < self._settings.stalled_concurrency:
            request.lane = Lane.STALLED
            self._lanes[Lane.FAST] -= 1
            self._lanes[Lane.STALLED] += 1
            self._look.set()

    def _hand_back(self, claim: Claim, after: float) -> None:
        """Give a claimed delivery back to the store, due in ``after`` seconds."""
        due = self._clock() + timedelta(seconds=after)
        pending = DeliveryStatus.PENDING
        self._handed_back.append(
            AttemptResult(claim.delivery_id, claim.lease_token, claim.endpoint_id, pending, due, None, None)
        )
        self._unwritten += 1
        self._results_ready.set()

    async def _send(self, claim: Claim, request: _Request) -> None:
        assert self._runner is not None
        result: AttemptResult | None = None
        try:
            result = await self._runner.run(claim)
            self._results.append((claim, result))
            self._unwritten += 1
            self._results_ready.set()
        except Exception:
            log.exception("attempt for delivery %s failed unexpectedly", claim.delivery_id)
        finally:
            self._finished(request, result)

    def _finished(self, request: _Request, result: AttemptResult | None) -> None:
        endpoint_id = request.endpoint_id
        if request.timer is not None:
            request.timer.cancel()
        self._lanes[request.lane] -= 1
        running = self._running[endpoint_id]
        running.remove(request)
        if not running:
            del self._running[endpoint_id]
        if result is not None and result.attempt is not None:
            self._remember(endpoint_id, standing_after(result.attempt.error))
            took = asyncio.get_running_loop().time() - request.started
            seen = self._latency.get(endpoint_id)
            self._latency[endpoint_id] = took if seen is None else seen + LATENCY_WEIGHT * (took - seen)
        if not self._stopping:
            self._drain(endpoint_id)
        held = len(self._running.get(endpoint_id, ())) + len(self._waiting.get(endpoint_id, ()))
        # Claim again once there is room for a worthwhile batch, not after every request: each
        # claim is a transaction.
        cap = self._settings.endpoint_concurrency
        if held <= cap or self._lanes[Lane.FAST] <= self._settings.concurrency // 2:
            self._look.set()

    def _remember(self, endpoint_id: str, standing: Standing) -> None:
        self._standing[endpoint_id] = standing
        self._standing.move_to_end(endpoint_id)
        if len(self._standing) > STANDING_MEMORY:
            forgotten, _ = self._standing.popitem(last=False)
            self._latency.pop(forgotten, None)

    # -- writing results -----------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            batch, self._results = self._results, []
            handed_back, self._handed_back = self._handed_back, []
            if batch or handed_back:
                await self._flush(batch, handed_back)
            if self._stopping and not self._tasks and not self._results and not self._handed_back:
                return

    async def _flush(
        self, batch: list[tuple[Claim, AttemptResult]], handed_back: list[AttemptResult]
    ) -> None:
        # While one batch is being committed the next one accumulates: under load each commit
        # carries many results, when idle a result is written at once.
        results = [result for _, result in batch] + handed_back
        delay = 0.05
        while True:
            try:
                # Unbounded while running; once stopping, only until the stop gives up.
                async with asyncio.timeout_at(self._give_up_at):
                    written = await self._store.record_results(results, now=self._clock())
                break
            except Exception as exc:
                loop = asyncio.get_running_loop()
                if self._give_up_at is not None and loop.time() >= self._give_up_at:
                    log.warning(
                        "stopping without writing %d attempt results: their leases will expire and "
                        "the deliveries will be sent again",
                        len(results),
                    )
                    self._unwritten -= len(results)
                    return
                if isinstance(exc, StoreError):  # an outage, not a fault: no traceback for each try
                    log.warning("writing %d attempt results failed (%s); retrying", len(results), exc)
                else:
                    log.exception("writing %d attempt results failed; retrying", len(results))
                if self._give_up_at is not None:
                    delay = min(delay, max(self._give_up_at - loop.time(), 0.0))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self._unwritten -= len(results)
        if self._held_back:
            self._held_back = False
            self._look.set()
        if len(written) < len(results):
            log.warning(
                "%d attempt results were fenced off: their leases expired and another worker took over",
                len(results) - len(written),
            )
        if self._on_result is None:
            return
        for claim, result in batch:
            if result.delivery_id in written:
                try:
                    await self._on_result(delivery_event(claim, result))
                except Exception:
                    log.exception("a delivery callback raised")
