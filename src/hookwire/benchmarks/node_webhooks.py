"""The node-webhooks baseline: the popular npm package (``node-webhooks``, which keeps nothing
durable) driven with the same payload against the same receiver, from a plain trigger loop and
with its caller throttled to 64 events in flight.

The package is installed with ``npm`` into ``bench/node`` in a checkout (its ``package.json`` is
committed there) or, elsewhere, into the user's cache; the driver script ships with hookwire.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from hookwire.benchmarks.load import BODY

PACKAGE = "node-webhooks@1.4.2"
THROTTLE = 64


@dataclass(frozen=True, slots=True)
class NodeRun:
    mode: str
    count: int
    succeeded: int
    failed: int
    seconds: float
    timed_out: bool

    @property
    def per_second(self) -> float:
        """Successful events per second, as its caller sees them."""
        return self.succeeded / self.seconds if self.seconds > 0 else 0.0


def default_dir() -> Path:
    checkout = Path("bench/node")
    if (checkout / "package.json").exists():
        return checkout
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "hookwire" / "bench-node"


def prepare(folder: Path) -> Path:
    """Install node-webhooks into ``folder`` unless it is there; returns its ``node_modules``."""
    modules = folder / "node_modules"
    if not (modules / "node-webhooks").is_dir():
        folder.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is not installed")
        command = [npm, "install", "--no-audit", "--no-fund", "--silent"]
        if not (folder / "package.json").exists():
            command.append(PACKAGE)
        subprocess.run(  # noqa: S603 - npm found on PATH, fixed arguments
            command, cwd=folder, check=True, stdout=subprocess.DEVNULL, timeout=300
        )
    return modules.resolve()


async def run(modules: Path, url: str, count: int, mode: str) -> NodeRun:
    """One run of the driver in its own process; ``mode`` is ``loop`` or ``throttled``."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    driver = files("hookwire.benchmarks").joinpath("node_webhooks_driver.js")
    timeout = 30 + count / 200  # node-webhooks never gives up on a request by itself
    args = [str(driver), url, str(count), mode, str(THROTTLE), str(timeout), BODY.decode()]
    process = await asyncio.create_subprocess_exec(
        node, *args, stdout=asyncio.subprocess.PIPE, env={**os.environ, "NODE_PATH": str(modules)}
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout + 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"the node-webhooks driver exited with {process.returncode}")
    found = json.loads(output.decode().strip().splitlines()[-1])
    return NodeRun(
        mode=mode,
        count=count,
        succeeded=found["succeeded"],
        failed=found["failed"],
        seconds=found["seconds"],
        timed_out=found["timedOut"],
    )
