"""The machine a run measured, read off the system: figures mean little without it."""

from __future__ import annotations

import os
import platform
import shutil
import sqlite3
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def _hypervisor() -> str | None:
    if shutil.which("lscpu") is None:
        return None
    output = subprocess.run(
        ["lscpu"],  # noqa: S607 - found on PATH just above
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    for line in output.splitlines():
        if line.startswith("Hypervisor vendor:"):
            return line.split(":", 1)[1].strip()
    return None


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _node_version() -> str | None:
    if shutil.which("node") is None:
        return None
    result = subprocess.run(
        ["node", "--version"],  # noqa: S607 - found on PATH just above
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def busy_cpu_seconds() -> float | None:
    """Seconds of CPU the whole machine has spent busy, over all cores, since boot
    (``/proc/stat``); ``None`` where there is no such file. Two readings a wall-clock interval
    apart give how many cores were busy meanwhile, whichever processes kept them so."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    # user nice system idle iowait irq softirq steal (guest time is counted in user already)
    ticks = [int(value) for value in fields[1:9]]
    busy = sum(ticks) - ticks[3] - ticks[4]
    return busy / os.sysconf("SC_CLK_TCK")


def describe(*, postgres_version: str | None = None) -> dict[str, Any]:
    """CPU, cores, memory, OS and the versions of everything on the measured path."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "hypervisor": _hypervisor(),
        "os": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres_version,
        "hookwire": _version("hookwire"),
        "aiohttp": _version("aiohttp"),
        "uvloop": _version("uvloop"),
        "node": _node_version(),
        # Other work on the machine moves the figures; the run says how busy it was.
        "load_average": [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else None,
    }


def summary(machine: dict[str, Any]) -> str:
    """One line: ``2-core AMD EPYC (KVM), 23.4 GiB, Linux 6.1, Python 3.11.7, SQLite 3.40.1, ...``."""
    host = f"{machine['cores']}-core {machine['cpu']}"
    if machine.get("hypervisor"):
        host += f" ({machine['hypervisor']} VM)"
    parts = [host, f"{machine['memory_gib']} GiB RAM", machine["os"], f"Python {machine['python']}"]
    parts.append(f"SQLite {machine['sqlite']}")
    if machine.get("postgresql"):
        parts.append(f"PostgreSQL {machine['postgresql']}")
    for name in ("aiohttp", "uvloop"):
        if machine.get(name):
            parts.append(f"{name} {machine[name]}")
    if machine.get("node"):
        parts.append(f"Node.js {machine['node'].lstrip('v')}")
    return ", ".join(parts)
