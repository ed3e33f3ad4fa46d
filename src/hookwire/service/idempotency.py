"""Idempotency: a request repeated with the same ``Idempotency-Key`` gets the first answer.

The first request claims the key with an insert on a unique column, so of any number of
concurrent repeats exactly one runs; the others wait for its answer and return it. Answers
are kept for 24 hours. A request that failed on our side (5xx) releases its claim, so that
the client's retry runs it again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from hookwire.core.errors import Conflict
from hookwire.service.context import Context

KEEP_FOR = timedelta(hours=24)
WAIT_FOR_FIRST = 10.0  # seconds a repeat waits for the first request to finish

Answer = tuple[int, bytes]


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class Idempotency:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def run_once(
        self, scope: str, fingerprint: str, compute: Callable[[], Awaitable[Answer]]
    ) -> Answer:
        """Run ``compute`` once for ``scope``; repeats get its answer.

        Args:
            scope: who is asking and the key they sent (keys of different callers never meet).
            fingerprint: identifies the request (method, path, body); a repeat with another
                fingerprint is a client error, not a repeat.
            compute: produces ``(status, body)``.
        """
        store = self._context.store
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_FOR_FIRST
        while True:
            now = self._context.clock()
            earlier = await store.start_idempotent(
                scope, fingerprint=fingerprint, now=now, expires_at=now + KEEP_FOR
            )
            if earlier is None:
                return await self._first(scope, compute)
            if earlier.fingerprint != fingerprint:
                raise IdempotencyConflict("this Idempotency-Key was used for a different request")
            if earlier.finished and earlier.status is not None and earlier.body is not None:
                return earlier.status, earlier.body
            if loop.time() > deadline:
                raise IdempotencyConflict("a request with this Idempotency-Key is still in progress")
            await asyncio.sleep(0.05)

    async def _first(self, scope: str, compute: Callable[[], Awaitable[Answer]]) -> Answer:
        store = self._context.store
        try:
            status, body = await compute()
        except BaseException:
            await asyncio.shield(store.forget_idempotent(scope))
            raise
        if status >= 500:
            await store.forget_idempotent(scope)
        else:
            await store.finish_idempotent(scope, status=status, body=body)
        return status, body
