"""Run scenarios by name in one shared environment; print each table, write each JSON."""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, Protocol, cast

from hookwire.benchmarks import SCENARIOS, machine
from hookwire.benchmarks.environment import BenchEnvironment
from hookwire.benchmarks.options import BenchOptions
from hookwire.benchmarks.runner import Result, run_async, to_json, write_json


class ScenariosFailed(Exception):
    """Some scenarios raised; the others ran and wrote their results (``documents``)."""

    def __init__(self, names: Sequence[str], documents: list[dict[str, Any]]) -> None:
        super().__init__(f"scenario(s) failed: {', '.join(names)}")
        self.names = list(names)
        self.documents = documents


class Scenario(Protocol):
    NAME: str

    def measure(self, env: BenchEnvironment) -> Coroutine[Any, Any, Result]: ...


def scenario(name: str) -> Scenario:
    """The scenario module called ``name``, imported only when it runs."""
    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}: choose from {', '.join(SCENARIOS)}")
    return cast(Scenario, importlib.import_module(f"hookwire.benchmarks.{name}"))


def run_suite(
    names: Sequence[str],
    options: BenchOptions,
    *,
    echo: Callable[[str], None] = print,
    postgres_admin_url: str | None = None,
) -> list[dict[str, Any]]:
    """Run ``names`` in order; returns the JSON documents written to ``options.results_dir``.

    A scenario that raises is reported and skipped; ``ScenariosFailed`` is raised at the end.
    """
    chosen = [scenario(name) for name in names]
    documents, failed = [], []
    with BenchEnvironment(options, postgres_admin_url=postgres_admin_url) as env:
        for module in chosen:
            echo(f"\n== {module.NAME} ==")
            try:
                result = run_async(module.measure(env))
            except Exception:
                # A long run keeps going: the other scenarios' figures are still worth having.
                echo(traceback.format_exc())
                failed.append(module.NAME)
                continue
            result.notes.extend(note for note in env.notes if note not in result.notes)
            env.notes.clear()
            described = machine.describe(postgres_version=env.postgres_version())
            document = to_json(result, options=options, machine=described)
            path = write_json(options.results_dir, document)
            echo(result.text())
            echo(f"(written to {path})")
            documents.append(document)
    if failed:
        raise ScenariosFailed(failed, documents)
    return documents
