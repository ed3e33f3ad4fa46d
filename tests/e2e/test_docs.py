"""The tutorial's code runs as written and prints what the tutorial says it prints."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)


def test_tutorial_runs(tmp_path: Path) -> None:
    [program] = python_blocks(DOCS / "tutorial.md")
    script = tmp_path / "tutorial.py"
    script.write_text(program)
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines[:2]] == [
        "verified: True answered: 500",
        "verified: True answered: 200",
    ]
    assert re.fullmatch(r"attempt 1: 500 in \d+ ms", lines[2])
    assert re.fullmatch(r"attempt 2: 200 in \d+ ms", lines[3])
