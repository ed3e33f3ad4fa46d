"""Smoke tests of the benchmark suite: every scenario runs end to end at a tiny size, so that
it cannot rot between the runs that measure. Nothing here asserts how fast anything is."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from hookwire.benchmarks import SCENARIOS
from hookwire.benchmarks.markdown import replace_sections, scenario_section
from hookwire.benchmarks.options import BenchOptions
from hookwire.benchmarks.processes import ReceiverClient, receiver_process
from hookwire.benchmarks.runner import Table
from hookwire.benchmarks.suite import run_suite


def tiny(results_dir: Path) -> BenchOptions:
    return (
        BenchOptions()
        .tiny()
        .with_changes(backends=("sqlite",), results_dir=results_dir, sweep=(), seconds=0.3)
    )


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_runs_and_writes_json(scenario: str, tmp_path: Path) -> None:
    [document] = run_suite([scenario], tiny(tmp_path), echo=lambda _: None)

    written = json.loads((tmp_path / f"{scenario}.json").read_text())
    assert written["scenario"] == scenario
    assert written["machine"]["cores"] >= 1
    assert document["tables"]
    assert all(table["rows"] for table in document["tables"])
    assert "| " + " | ".join(written["tables"][0]["columns"]) + " |" in scenario_section(written)
    assert _nothing_lost(written), "every scenario's deliveries all arrive"


def _nothing_lost(document: dict[str, Any]) -> bool:
    data = document["data"]
    match document["scenario"]:
        case "throughput" | "fanout":
            return all(not any(c.get("lost", [])) for c in data["contenders"].values())
        case "mixed":
            return all(point["missing"] == 0 for point in data["points"])
        case "backlog":
            return all(point["claim_ms"] > 0 and point["plan"] for point in data["points"])
        case _:
            return True


async def _post(session: aiohttp.ClientSession, url: str) -> tuple[int, float]:
    started = time.monotonic()
    async with session.post(url, data=b"{}", headers={"webhook-id": "msg_1"}) as response:
        await response.read()
        return response.status, time.monotonic() - started


def test_receiver_answers_by_path_and_records_arrivals() -> None:
    async def scenario(base: str) -> None:
        receiver = ReceiverClient(base)
        async with aiohttp.ClientSession() as session:
            ok, fail, slow = await asyncio.gather(
                _post(session, f"{base}ok/1"),
                _post(session, f"{base}fail/2"),
                _post(session, f"{base}slow/3"),
            )
        assert (ok[0], fail[0], slow[0]) == (200, 500, 200)
        assert slow[1] >= 0.2 > ok[1]
        assert await receiver.requests() == 3
        arrivals = await receiver.arrivals()
        assert sorted(path for _, path, _ in arrivals) == ["/fail/2", "/ok/1", "/slow/3"]
        assert {webhook_id for _, _, webhook_id in arrivals} == {"msg_1"}
        assert await receiver.arrivals() == []  # reading them forgets them
        await receiver.reset()
        assert await receiver.requests() == 0

    with receiver_process(slow_seconds=0.2) as base:
        asyncio.run(scenario(base))


def test_generated_sections_replace_only_between_their_markers() -> None:
    text = (
        "intro\n<!-- bench:a -->\nold\n<!-- /bench:a -->\n"
        "middle \\d\n<!-- bench:b -->\nkept\n<!-- /bench:b -->\n"
    )

    updated = replace_sections(text, {"a": "new \\1 table", "missing": "ignored"})

    assert updated == text.replace("\nold\n", "\nnew \\1 table\n")
    assert replace_sections(updated, {"a": "again"}) == text.replace("\nold\n", "\nagain\n")


def test_an_empty_generated_section_is_filled() -> None:
    text = "<!-- bench:a -->\n<!-- /bench:a -->\n"

    assert replace_sections(text, {"a": "table"}) == "<!-- bench:a -->\ntable\n<!-- /bench:a -->\n"


def test_tables_render_as_aligned_text_and_markdown() -> None:
    table = Table("Title", ("name", "events/s"), [("raw", "9,836"), ("hookwire", "1,857")])

    assert table.text().splitlines()[1:] == ["name      events/s", "raw          9,836", "hookwire     1,857"]
    assert table.markdown().splitlines()[:2] == ["| name | events/s |", "|---|---:|"]
