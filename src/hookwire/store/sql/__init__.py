"""SQL text, one folder per dialect: ``queries.sql`` (named queries) and ``migrations/NNNN_*.sql``.

A query starts at a line ``-- name: some_name`` and runs to the next such line.
"""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

_NAME = re.compile(r"^-- name: (\w+)\s*$", re.MULTILINE)


@cache
def queries(dialect: str) -> dict[str, str]:
    """The named queries of ``dialect`` (``"sqlite"``, ``"postgres"``)."""
    text = files(__package__).joinpath(dialect, "queries.sql").read_text(encoding="utf-8")
    parts = _NAME.split(text)
    named = {name: body.strip() for name, body in zip(parts[1::2], parts[2::2], strict=True)}
    if len(named) != len(parts) // 2:
        raise RuntimeError(f"duplicate query names in {dialect}/queries.sql")
    return named


def migrations(dialect: str) -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` for every migration of ``dialect``, in order."""
    folder = files(__package__).joinpath(dialect, "migrations")
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version = int(entry.name.split("_", 1)[0])
            found.append((version, entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)
