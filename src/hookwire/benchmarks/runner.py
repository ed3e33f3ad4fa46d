"""What every scenario shares: repeated samples and their medians, tables printed as text or
Markdown, JSON results, and running a coroutine on the fastest event loop installed."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import statistics
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed (as ``hookwire worker`` does), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


class Samples:
    """Measurements by contender, one per run. Runs are interleaved by the scenarios (every
    contender once, then again), so that a noisy moment on the machine hits all of them."""

    def __init__(self) -> None:
        self.runs: dict[str, list[float]] = {}

    def add(self, name: str, value: float) -> None:
        self.runs.setdefault(name, []).append(value)

    def median(self, name: str) -> float:
        return statistics.median(self.runs[name])

    def __contains__(self, name: object) -> bool:
        return name in self.runs

    def summary(self) -> dict[str, dict[str, Any]]:
        return {name: {"median": self.median(name), "runs": values} for name, values in self.runs.items()}


def percentile(values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``values`` fall (nearest rank); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def number(value: float, digits: int = 0) -> str:
    """``9,836`` or ``2.75``: thousands separated, as in the docs' tables."""
    if value != value:  # NaN: nothing measured
        return "-"
    return f"{value:,.{digits}f}"


def runs_text(values: Iterable[float], digits: int = 0) -> str:
    return " · ".join(number(value, digits) for value in values)


@dataclass(frozen=True, slots=True)
class Table:
    """Rows of already formatted cells; numeric columns are right-aligned."""

    title: str
    columns: tuple[str, ...]
    rows: Sequence[tuple[str, ...]]
    note: str = ""

    def _numeric(self, index: int) -> bool:
        cells = [row[index] for row in self.rows if row[index] not in ("-", "")]
        return bool(cells) and all(c.replace(",", "").replace(".", "").lstrip("-").isdigit() for c in cells)

    def text(self) -> str:
        widths = [max(len(r[i]) for r in [self.columns, *self.rows]) for i in range(len(self.columns))]
        numeric = [self._numeric(i) for i in range(len(self.columns))]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                c.rjust(w) if n else c.ljust(w) for c, w, n in zip(cells, widths, numeric, strict=True)
            ).rstrip()

        out = [self.title, line(self.columns), *(line(row) for row in self.rows)]
        return "\n".join(out + ([self.note] if self.note else []))

    def markdown(self) -> str:
        numeric = [self._numeric(i) for i in range(len(self.columns))]
        head = "| " + " | ".join(self.columns) + " |"
        rule = "|" + "|".join("---:" if n else "---" for n in numeric) + "|"
        body = ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join([head, rule, *body])


@dataclass(slots=True)
class Result:
    """What a scenario measured: tables for people, ``data`` for plots and scripts, and
    preformatted ``blocks`` such as query plans."""

    scenario: str
    tables: list[Table] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    blocks: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        parts = [table.text() for table in self.tables]
        parts += [f"{title}\n{body}" for title, body in self.blocks]
        parts += self.notes
        return "\n\n".join(parts)


def to_json(result: Result, *, options: object, machine: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "scenario": result.scenario,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": dict(machine),
        "options": _plain(dataclasses.asdict(options)) if dataclasses.is_dataclass(options) else {},  # type: ignore[arg-type]
        "data": result.data,
        "tables": [dataclasses.asdict(table) for table in result.tables],
        "blocks": [list(block) for block in result.blocks],
        "notes": result.notes,
    }


def write_json(folder: Path, document: Mapping[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{document['scenario']}.json"
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def read_json(folder: Path, scenario: str) -> dict[str, Any] | None:
    path = folder / f"{scenario}.json"
    if not path.exists():
        return None
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def table_from_json(raw: Mapping[str, Any]) -> Table:
    return Table(
        raw["title"], tuple(raw["columns"]), [tuple(row) for row in raw["rows"]], raw.get("note", "")
    )


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value
