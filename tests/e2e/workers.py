"""Real ``hookwire worker`` processes for crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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
        process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)
