"""Real ``hookwire worker`` processes for crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def start_worker(
    database_url: str,
    log: Path,
    *,
    lease_seconds: float = 2,
    request_timeout: float = 1,
    concurrency: int = 32,
    poll_interval: float = 0.2,
    grace: float = 10,
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "hookwire",
        "worker",
        "--database-url",
        database_url,
        "--allow-network",
        "127.0.0.0/8",
        "--lease-seconds",
        str(lease_seconds),
        "--request-timeout",
        str(request_timeout),
        "--poll-interval",
        str(poll_interval),
        "--concurrency",
        str(concurrency),
        "--grace",
        str(grace),
    ]
    with log.open("ab") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def kill(process: subprocess.Popen[bytes]) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM and wait: the worker drains and exits 0."""
    if process.poll() is None:
        _wait_until_handled(process, signal.SIGTERM)
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def _wait_until_handled(process: subprocess.Popen[bytes], signum: int, timeout: float = 60) -> None:
    """Wait until ``process`` has a handler for ``signum``, or has ended, or ``timeout`` passed.

    A worker handles SIGTERM once it has migrated, just before it starts delivering. One just
    started (the chaos test restarts them at random) may not have got that far, and SIGTERM
    would then end it the default way, not by the drain under test. Linux lists the signals a
    process catches in /proc/<pid>/status.
    """
    deadline = time.monotonic() + timeout
    while process.poll() is None and time.monotonic() < deadline:
        if _caught_signals(process.pid) & (1 << (signum - 1)):
            return
        time.sleep(0.02)


def _caught_signals(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return int(line.split()[1], 16)
    return 0
