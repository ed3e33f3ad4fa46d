"""Helpers for the reliability suite: engines that may reach loopback, waiting for attempts,
and a memory probe."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from hookwire import Attempt, Settings, Webhooks
from hookwire.core.types import Delivery

LOOPBACK = ["127.0.0.0/8"]


def loopback_settings(**changes: Any) -> Settings:
    """Settings that may reach 127.0.0.0/8, without jitter, polling fast; ``changes`` on top."""
    values: dict[str, Any] = {"allow_networks": LOOPBACK, "retry_jitter": 0.0, "poll_interval": 0.2}
    values.update(changes)
    return Settings(**values)


async def attempts(hooks: Webhooks, message_id: str, count: int, *, timeout: float = 20) -> list[Attempt]:
    """Wait until ``count`` attempts of the message are recorded; return them oldest first."""
    async with asyncio.timeout(timeout):
        while True:
            found = (await hooks.attempts.by_message("default", message_id)).items
            if len(found) >= count:
                return sorted(found, key=lambda attempt: attempt.number)
            await asyncio.sleep(0.02)


async def delivery(hooks: Webhooks, message_id: str) -> Delivery:
    [found] = await hooks.messages.deliveries("default", message_id)
    return found


def rss_bytes() -> int:
    """This process's resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


class RssPeak:
    """Samples resident memory every few milliseconds on a thread (which keeps sampling while
    the event loop is busy) and reports the peak growth over the value at entry."""

    def __init__(self, interval: float = 0.005) -> None:
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="rss-probe", daemon=True)
        self.baseline = 0
        self.peak = 0

    @property
    def growth(self) -> int:
        return max(self.peak - self.baseline, 0)

    def __enter__(self) -> Self:
        self.baseline = self.peak = rss_bytes()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    def _sample(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, rss_bytes())
