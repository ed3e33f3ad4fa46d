"""A real ``hookwire serve`` process on 127.0.0.1 for API tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ADMIN_KEY = "hwk_test-admin-key-for-api-tests-only"


@dataclass(frozen=True)
class Server:
    url: str
    admin_key: str
    database_url: str
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(database_url: str, log: Path, *extra: str) -> Iterator[Server]:
    port = free_port()
    env = {**os.environ, "HOOKWIRE_ADMIN_KEY": ADMIN_KEY}
    command = [sys.executable, "-m", "hookwire", "serve", "--port", str(port), "--database-url", database_url]
    with log.open("ab") as output:
        process = subprocess.Popen([*command, *extra], stdout=output, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, process, log)
        yield Server(url, ADMIN_KEY, database_url, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)
        assert code == 0, f"serve exited {code}:\n{log.read_text()[-3000:]}"


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"serve exited early:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"serve did not become healthy:\n{log.read_text()[-3000:]}")
