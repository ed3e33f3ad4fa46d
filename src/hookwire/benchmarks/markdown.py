"""Results as Markdown: each scenario's tables, query plans and notes, and the machine, for the
generated sections of ``docs/performance.md`` (between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->`` markers; the prose around them is written by hand)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from hookwire.benchmarks import machine
from hookwire.benchmarks.runner import table_from_json


def scenario_section(document: Mapping[str, Any]) -> str:
    """Tables, plans and notes of one scenario's JSON document, with when it was measured."""
    parts = [f"*Measured {document['measured_at'][:10]}.*"]
    for raw in document["tables"]:
        table = table_from_json(raw)
        parts.append(f"{table.title}:\n\n{table.markdown()}")
        if table.note:
            parts.append(table.note)
    for title, body in document["blocks"]:
        parts.append(f"{title}:\n\n```text\n{body}\n```")
    parts.extend(document["notes"])
    return "\n\n".join(parts)


def machine_section(document: Mapping[str, Any]) -> str:
    described = document["machine"]
    lines = [f"- {machine.summary(described)}."]
    lines.append(f"- Results measured {document['measured_at'][:10]} (UTC); JSON in `bench/results/`.")
    if described.get("load_average"):
        one, five, fifteen = described["load_average"]
        load = f"{one}, {five}, {fifteen}, on {described['cores']} cores"
        lines.append(f"- Load average (1, 5, 15 min) as the last scenario ended: {load}.")
    return "\n".join(lines)


def replace_sections(text: str, sections: Mapping[str, str]) -> str:
    """``text`` with the body between each ``<!-- bench:NAME -->`` marker pair replaced.

    A section whose markers are missing is left out (the prose decides where tables go).
    """
    for name, body in sections.items():
        pattern = re.compile(
            rf"(<!-- bench:{re.escape(name)} -->)\n.*?(<!-- /bench:{re.escape(name)} -->)", re.DOTALL
        )
        text = pattern.sub(_between_markers(body), text)
    return text


def _between_markers(body: str) -> Callable[[re.Match[str]], str]:
    # A function, not a replacement string, so that backslashes in the body stay as they are.
    def replacement(match: re.Match[str]) -> str:
        return f"{match.group(1)}\n{body}\n{match.group(2)}"

    return replacement


Target = tuple[str, str, bool]  # what, the figure measured, met


def _ratio(value: float, target: float) -> str:
    return f"{value:.2f} (target ≥ {target:g})"


def _throughput_targets(data: Mapping[str, Any]) -> list[Target]:
    sqlite = data["contenders"].get("hookwire end to end, sqlite")
    if sqlite is None:
        return []
    rows = [
        (
            "SQLite end to end ÷ raw aiohttp",
            _ratio(sqlite["ratio_to_raw"], 0.8),
            sqlite["ratio_to_raw"] >= 0.8,
        )
    ]
    node = sqlite["ratio_to_node_best"]
    if node == node:  # not NaN: node-webhooks ran
        rows.append(("SQLite end to end ÷ best node-webhooks", _ratio(node, 1.2), node >= 1.2))
    lost = sum(sqlite["lost"])
    rows.append(("events lost by hookwire", f"{lost} (target 0)", lost == 0))
    return rows


def _latency_targets(data: Mapping[str, Any]) -> list[Target]:
    rows = []
    for point in data["points"]:
        if point["rate"] == 500 and point["backend"] == "sqlite":
            figures = f"p50 {point['p50']:.1f} ms, p99 {point['p99']:.1f} ms (targets < 5, < 50)"
            rows.append(
                (f"latency at 500 msg/s, {point['fleet']}", figures, point["p50"] < 5 and point["p99"] < 50)
            )
    return rows


def _backlog_targets(data: Mapping[str, Any]) -> list[Target]:
    rows = []
    for backend in ("sqlite", "postgres"):
        mine = [p for p in data["points"] if p["backend"] == backend]
        if len(mine) > 1:
            claim, rss = (mine[-1][k] / mine[0][k] for k in ("claim_ms", "rss_peak_mb"))
            label = f"{backend}: claim time, worker RSS at {mine[-1]['size']:,} ÷ at {mine[0]['size']:,}"
            rows.append(
                (
                    label,
                    f"{claim:.2f}, {rss:.2f} (target 0.9-1.1)",
                    all(0.9 <= r <= 1.1 for r in (claim, rss)),
                )
            )
    return rows


def _scale_targets(data: Mapping[str, Any]) -> list[Target]:
    runs = data["contenders"]
    if "PostgreSQL, 1 worker" not in runs or "PostgreSQL, 2 workers" not in runs:
        return []
    ratio = runs["PostgreSQL, 2 workers"]["median"] / runs["PostgreSQL, 1 worker"]["median"]
    return [("PostgreSQL 2 workers ÷ 1 worker", _ratio(ratio, 1.6), ratio >= 1.6)]


def _ingest_targets(data: Mapping[str, Any]) -> list[Target]:
    hookwire = data["contenders"].get("hookwire serve, sqlite")
    if hookwire is None:
        return []
    ratio = hookwire["ratio_to_bare"]
    return [("HTTP ingest (SQLite) ÷ bare uvicorn", _ratio(ratio, 0.5), ratio >= 0.5)]


_TARGETS: dict[str, Callable[[Mapping[str, Any]], list[Target]]] = {
    "throughput": _throughput_targets,
    "mixed": _latency_targets,
    "backlog": _backlog_targets,
    "scale": _scale_targets,
    "ingest": _ingest_targets,
}


def targets_section(documents: Mapping[str, Mapping[str, Any]]) -> str:
    """Issue 7's targets beside the figures measured, met or not."""
    rows = [
        row for name, check in _TARGETS.items() if name in documents for row in check(documents[name]["data"])
    ]
    lines = ["| target | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {figure} | {'yes' if met else '**no**'} |" for name, figure, met in rows]
    return "\n".join(lines)
