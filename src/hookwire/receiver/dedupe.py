"""De-duplication of incoming webhooks by ``webhook-id``.

Senders deliver at least once: a retry after a timeout, or a worker that died mid-request,
sends the same ``webhook-id`` again. A :class:`Deduplicator` remembers which ids were handled
so that the handler runs once, and which are being handled right now so that two concurrent
copies do not both run it. The receiver drives it like this::

    claim(id)  -> CLAIMED      run the handler; then complete(id) on success,
                               release(id) on failure (the sender's retry runs it again)
               -> DONE         answer 2xx, do not run the handler
               -> IN_PROGRESS  answer 409, the sender retries later

Two stores ship: :class:`MemoryDeduplicator` (one process) and
:class:`~hookwire.store.receipts.SQLiteDeduplicator` (a file shared by several processes).
Anything with the three async methods below can stand in, e.g. one backed by Redis.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from hookwire.store.receipts import DEFAULT_CLAIM_LEASE, DEFAULT_RECEIPT_TTL, ClaimResult

__all__ = [
    "DEFAULT_CLAIM_LEASE",
    "DEFAULT_MAX_ENTRIES",
    "DEFAULT_RECEIPT_TTL",
    "ClaimResult",
    "Deduplicator",
    "MemoryDeduplicator",
]

DEFAULT_MAX_ENTRIES = 100_000
"""Ids a :class:`MemoryDeduplicator` remembers at most (a few tens of MB at worst)."""


class Deduplicator(Protocol):
    """Where a receiver records the ``webhook-id`` values it claimed and handled.

    ``claim`` must be atomic: of two concurrent claims of one id, only one gets ``CLAIMED``.
    """

    async def claim(self, webhook_id: str) -> ClaimResult:
        """Claim ``webhook_id`` for handling, unless it is handled or being handled."""
        ...

    async def complete(self, webhook_id: str) -> None:
        """Mark a claimed id as handled: later deliveries of it get ``DONE``."""
        ...

    async def release(self, webhook_id: str) -> None:
        """Give up a claim whose handler failed: the next delivery of the id gets ``CLAIMED``."""
        ...


class MemoryDeduplicator:
    """Receipts in a dict, for one process.

    Safe to share between threads and event loops (the Flask and Django adapters run a loop
    per request). At most ``max_entries`` ids are kept: past that the least recently touched
    are forgotten first, so a very old duplicate may run its handler again, which
    at-least-once delivery allows.

    Args:
        ttl: seconds a handled id is remembered.
        lease: seconds a claim holds while its handler runs; after that a duplicate may claim it.
        max_entries: the most ids remembered.
        clock: monotonic seconds, replaceable in tests.

    Raises:
        ValueError: ``ttl``, ``lease`` or ``max_entries`` is not positive.
    """

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_RECEIPT_TTL,
        lease: float = DEFAULT_CLAIM_LEASE,
        max_entries: int = DEFAULT_MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (ttl > 0 and lease > 0 and max_entries > 0):
            raise ValueError("ttl, lease and max_entries must be positive")
        self._ttl = ttl
        self._lease = lease
        self._max_entries = max_entries
        self._clock = clock
        # id -> (done, expires_at), least recently touched first.
        self._entries: OrderedDict[str, tuple[bool, float]] = OrderedDict()
        # A thread lock, not an asyncio one: the sections are short and never await, and the
        # same store may serve several threads, each with its own loop.
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    async def claim(self, webhook_id: str) -> ClaimResult:
        """Claim ``webhook_id`` unless it is handled or being handled."""
        with self._lock:
            now = self._clock()
            entry = self._entries.get(webhook_id)
            if entry is not None and entry[1] > now:
                return ClaimResult.DONE if entry[0] else ClaimResult.IN_PROGRESS
            self._put(webhook_id, False, now + self._lease, now)
            return ClaimResult.CLAIMED

    async def complete(self, webhook_id: str) -> None:
        """Record ``webhook_id`` as handled for the TTL."""
        with self._lock:
            now = self._clock()
            self._put(webhook_id, True, now + self._ttl, now)

    async def release(self, webhook_id: str) -> None:
        """Drop an unfinished claim so that the next delivery of ``webhook_id`` runs the handler."""
        with self._lock:
            entry = self._entries.get(webhook_id)
            if entry is not None and not entry[0]:
                del self._entries[webhook_id]

    def _put(self, webhook_id: str, done: bool, expires_at: float, now: float) -> None:
        self._entries[webhook_id] = (done, expires_at)
        self._entries.move_to_end(webhook_id)
        # Expired entries are dropped from the old end as they come; an expired one behind a
        # live one waits its turn, which costs memory only: claim() checks expiry itself.
        while self._entries:
            _, oldest_expiry = next(iter(self._entries.values()))
            if len(self._entries) <= self._max_entries and oldest_expiry > now:
                break
            self._entries.popitem(last=False)
