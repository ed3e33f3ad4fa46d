"""What a benchmark run is asked to do: one value for every scenario, each reading its part."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

BACKENDS = ("sqlite", "postgres")


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """Sizes and repetitions of a benchmark run.

    Attributes:
        runs: interleaved repetitions of every measurement; tables quote their median.
        messages: events per throughput run (fan-out sends a tenth as many messages, to ten
            endpoints, so that both post the same number of requests).
        in_flight: requests in flight for every contender of the throughput scenario.
        sweep: in-flight levels of the throughput-against-load sweep (raw client and hookwire).
        backends: databases to measure, among ``sqlite`` and ``postgres``.
        backlog_sizes: pending deliveries of the backlog scenario.
        backlog_drain: deliveries drained from the front of each backlog while the worker's
            memory is sampled.
        rates: messages/s offered by the mixed-fleet scenario.
        seconds: how long each mixed-fleet rate is offered, and each ingest run lasts.
        connections: concurrent clients of the ingest scenario.
        ingest_sweep: client counts of the ingest-against-load sweep (bare app and hookwire on
            the first database).
        scale_rate: messages/s of the scale scenario's latency measurement.
        scale_seconds: how long that measurement lasts.
        node: run the node-webhooks baseline when ``node`` and ``npm`` are installed.
        node_dir: where node-webhooks is (or gets) installed; ``None`` picks ``bench/node`` in
            a checkout, else a folder in the user's cache.
        results_dir: where each scenario writes its JSON.
    """

    runs: int = 3
    messages: int = 20_000
    in_flight: int = 16
    sweep: tuple[int, ...] = (1, 4, 16, 64)
    backends: tuple[str, ...] = BACKENDS
    backlog_sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    backlog_drain: int = 5_000
    rates: tuple[int, ...] = (100, 250, 500, 1000)
    seconds: float = 5.0
    connections: int = 32
    ingest_sweep: tuple[int, ...] = (8, 32, 128)
    scale_rate: int = 100
    scale_seconds: float = 10.0
    node: bool = True
    node_dir: Path | None = None
    results_dir: Path = Path("bench/results")

    def quick(self) -> BenchOptions:
        """A run of a few minutes that still shows every trend (one repetition, smaller sizes)."""
        return replace(
            self,
            runs=1,
            messages=3_000,
            sweep=(1, 16, 64),
            backlog_sizes=(10_000, 100_000),
            backlog_drain=2_000,
            rates=(100, 500),
            seconds=3.0,
            ingest_sweep=(8, 128),
            scale_seconds=3.0,
        )

    def tiny(self) -> BenchOptions:
        """Seconds per scenario, for smoke tests: the figures mean nothing."""
        return replace(
            self,
            runs=1,
            messages=60,
            sweep=(4,),
            backlog_sizes=(300,),
            backlog_drain=50,
            rates=(40,),
            seconds=0.5,
            connections=4,
            ingest_sweep=(2,),
            scale_rate=20,
            scale_seconds=0.5,
            node=False,
        )

    def with_changes(self, **changes: object) -> BenchOptions:
        return replace(self, **changes)  # type: ignore[arg-type]
