"""Processes a benchmark starts, and stops again: the fast receiver, ``hookwire worker``
processes and servers. Every wait here is bounded; every process started is ended in a
``finally``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import aiohttp


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    """Until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:g} s")


def stop(processes: Sequence[subprocess.Popen[bytes]], *, timeout: float = 60.0) -> None:
    """SIGTERM each (workers then finish what they hold), then wait; kill what does not end."""
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def receiver_process(*, slow_seconds: float = 1.0) -> Iterator[str]:
    """The fast receiver (``hookwire.benchmarks.receiver``) in its own process; yields its base
    URL, ``http://127.0.0.1:PORT/``."""
    with tempfile.TemporaryDirectory() as folder:
        port_file = Path(folder) / "port"
        command = [sys.executable, "-m", "hookwire.benchmarks.receiver", str(port_file)]
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [*command, "--slow-seconds", str(slow_seconds)]
        )
        try:
            deadline = time.monotonic() + 30
            while not (port_file.exists() and port_file.read_text()):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the benchmark receiver did not start")
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port_file.read_text()}/"
        finally:
            stop([process], timeout=10)


class ReceiverClient:
    """Reads the fast receiver's counters and arrival records over its control paths."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    async def _get(self, path: str) -> Any:
        async with (
            aiohttp.ClientSession() as session,
            session.get(urllib.parse.urljoin(self.base_url, path)) as r,
        ):
            r.raise_for_status()
            return json.loads(await r.read())

    async def requests(self) -> int:
        """Requests received since the receiver started or was reset (control paths excluded)."""
        stats = await self._get("_stats")
        return int(stats["requests"])

    async def arrivals(self) -> list[tuple[float, str, str]]:
        """``(monotonic time, path, webhook-id)`` of requests since the last call."""
        return [(float(t), str(path), str(wid)) for t, path, wid in await self._get("_arrivals")]

    async def reset(self) -> None:
        await self._get("_reset")

    async def wait_for(self, count: int, *, timeout: float, interval: float = 0.02) -> int:
        """Poll until ``count`` requests have arrived or ``timeout`` seconds have passed; returns
        how many arrived. (Polling: the senders are other processes.)"""
        deadline = time.monotonic() + timeout
        while (received := await self.requests()) < count and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(interval)
        return received


def start_workers(
    database_url: str, count: int, *, concurrency: int = 64, extra: Sequence[str] = ()
) -> list[subprocess.Popen[bytes]]:
    """``hookwire worker`` processes allowed to reach loopback, their output discarded."""
    command = [sys.executable, "-m", "hookwire", "worker", "--database-url", database_url]
    command += ["--allow-network", "127.0.0.0/8", "--concurrency", str(concurrency), *extra]
    env = {key: value for key, value in os.environ.items() if not key.startswith("HOOKWIRE_")}
    return [
        subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        for _ in range(count)
    ]


def rss_bytes(pid: int) -> int | None:
    """Resident memory of a process (Linux ``/proc``); ``None`` where that cannot be read."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return None


class RssSampler:
    """Samples a process's resident memory every ``interval`` seconds while it runs."""

    def __init__(self, pid: int, *, interval: float = 0.05) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[int] = []
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while (value := rss_bytes(self.pid)) is not None:
            self.samples.append(value)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._sample())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def peak(self) -> int:
        return max(self.samples, default=0)
