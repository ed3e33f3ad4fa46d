"""The delivery worker: claim due deliveries in batches, send them concurrently, write results
in batches. Everything it decides comes from the policy; this is the thin loop that acts.

Concurrency is bounded twice: ``concurrency`` requests in flight in all, and
``endpoint_concurrency`` to any one endpoint, so one slow receiver cannot take every slot.
A worker holds at most twice the cap for an endpoint: the cap in flight and as many waiting
in a local queue, so that a finished request is followed at once without a round trip to the
database. The rest of a busy endpoint's backlog stays in the database, where any worker may
take it; the wait in the queue is at most one request's timeout, well inside the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from datetime import datetime

from hookwire.core.clock import utcnow
from hookwire.core.settings import Settings
from hookwire.delivery.attempt import AttemptRunner, DeliveryEvent, delivery_event
from hookwire.delivery.transport import Transport
from hookwire.store.base import AttemptResult, Claim, Store

log = logging.getLogger("hookwire.worker")

ResultListener = Callable[[DeliveryEvent], Awaitable[None]]


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
        self._results_ready = asyncio.Event()
        self._in_flight: dict[str, int] = defaultdict(int)
        self._waiting: dict[str, deque[Claim]] = defaultdict(deque)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = False
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

    async def stop(self, *, grace: float = 10.0) -> None:
        """Stop claiming, let requests in flight finish for up to ``grace`` seconds, write every
        result, hand back what was claimed but not started, and close connections."""
        self._stopping = True
        self._look.set()
        if self._stop_watching is not None:
            await self._stop_watching()
        if self._main is not None:
            await self._main
        waiting = [claim for queue in self._waiting.values() for claim in queue]
        self._waiting.clear()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=grace)
            for task in pending:
                task.cancel()  # their leases expire and another worker retries them
            await asyncio.gather(*pending, return_exceptions=True)
        if self._flusher is not None:
            self._results_ready.set()
            await self._flusher
        with contextlib.suppress(Exception):
            await self._store.release(waiting, now=self._clock())
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

    # -- claiming ------------------------------------------------------------------------------

    async def _claim_forever(self) -> None:
        while not self._stopping:
            try:
                claimed = await self._claim_once()
            except Exception:
                log.exception("claiming deliveries failed; retrying shortly")
                await self._sleep(self._settings.poll_interval)
                continue
            if claimed:
                continue  # there may be more due right away
            await self._idle()

    async def _claim_once(self) -> int:
        room = self._settings.concurrency - len(self._tasks) - sum(map(len, self._waiting.values()))
        if room <= 0:
            return 0
        now = self._clock()
        self._look.clear()
        claims = await self._store.claim_due(
            now=now,
            lease_until=now + self._settings.lease,
            limit=min(room, self._settings.claim_batch),
            per_endpoint=self._held_cap,
            room=self._room(),
        )
        for claim in claims:
            self._dispatch(claim)
        return len(claims)

    @property
    def _held_cap(self) -> int:
        return 2 * self._settings.endpoint_concurrency

    def _room(self) -> dict[str, int]:
        """How many more deliveries this worker may hold for each endpoint it holds some of."""
        return {
            endpoint_id: max(self._held_cap - count - len(self._waiting.get(endpoint_id, ())), 0)
            for endpoint_id, count in self._in_flight.items()
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
        if self._in_flight[claim.endpoint_id] >= self._settings.endpoint_concurrency:
            self._waiting[claim.endpoint_id].append(claim)
            return
        self._in_flight[claim.endpoint_id] += 1
        task = asyncio.create_task(self._send(claim))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, claim: Claim) -> None:
        assert self._runner is not None
        try:
            result = await self._runner.run(claim)
            self._results.append((claim, result))
            self._results_ready.set()
        except Exception:
            log.exception("attempt for delivery %s failed unexpectedly", claim.delivery_id)
        finally:
            self._finished(claim.endpoint_id)

    def _finished(self, endpoint_id: str) -> None:
        self._in_flight[endpoint_id] -= 1
        queue = self._waiting.get(endpoint_id)
        if queue and not self._stopping:
            self._dispatch(queue.popleft())
        if not queue:
            self._waiting.pop(endpoint_id, None)
        held = self._in_flight[endpoint_id] + len(queue or ())
        if held == 0:
            del self._in_flight[endpoint_id]
        # Claim again once there is room for a worthwhile batch, not after every request: each
        # claim is a transaction.
        cap = self._settings.endpoint_concurrency
        if held <= cap or len(self._tasks) <= self._settings.concurrency // 2:
            self._look.set()

    # -- writing results -----------------------------------------------------------------------

    async def _flush_forever(self) -> None:
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            batch, self._results = self._results, []
            if batch:
                await self._flush(batch)
            if self._stopping and not self._tasks and not self._results:
                return

    async def _flush(self, batch: list[tuple[Claim, AttemptResult]]) -> None:
        # While one batch is being committed the next one accumulates: under load each commit
        # carries many results, when idle a result is written at once.
        delay = 0.05
        while True:
            try:
                written = await self._store.record_results([r for _, r in batch], now=self._clock())
                break
            except Exception:
                log.exception("writing %d attempt results failed; retrying", len(batch))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                if self._stopping and delay >= 5.0:
                    return  # leases will expire; the deliveries are retried, never lost
        if len(written) < len(batch):
            log.warning(
                "%d attempt results were fenced off: their leases expired and another worker took over",
                len(batch) - len(written),
            )
        if self._on_result is None:
            return
        for claim, result in batch:
            if result.delivery_id in written:
                try:
                    await self._on_result(delivery_event(claim, result))
                except Exception:
                    log.exception("a delivery callback raised")
