"""Create and refresh the project's own virtual environment (.venv) with nothing but Python."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".hookwire-installed"


def ensure(extras: str) -> Path:
    """Make .venv exist with the project installed (editable) with ``extras``; return its python."""
    if sys.version_info < (3, 11):
        sys.exit(f"hookwire needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    python = BIN / "python"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes() + extras.encode()).hexdigest()
    if python.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return python
    if not python.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"installing hookwire[{extras}] into .venv ...", flush=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "--editable", f"{ROOT}[{extras}]"], check=True)
    STAMP.write_text(wanted)
    return python
