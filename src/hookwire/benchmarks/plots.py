"""PNG plots of the JSON results (matplotlib, imported only here): throughput per contender,
throughput against requests in flight, latency against offered load, backlog cost, ingest
against concurrent clients, scale-out.

Run: ``python -m hookwire.benchmarks.plots [RESULTS_DIR] [OUT_DIR]`` (``bench/results`` and
``docs/performance`` by default); a plot whose results are missing is skipped.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookwire.benchmarks.runner import read_json

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.axis import Axis
    from matplotlib.figure import Figure

BLUE, GREEN, ORANGE, GREY, RED = "#1f6fb4", "#2e9e5b", "#e08a1e", "#8a8a8a", "#c23b3b"


def _figure(width: float = 8.0, height: float = 4.2, columns: int = 1) -> tuple[Figure, list[Axes]]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, columns, figsize=(width, height), dpi=130, squeeze=False)
    for ax in axes[0]:
        ax.grid(True, color="#e4e4e4", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    return figure, list(axes[0])


def _save(figure: Figure, path: Path, subtitle: str) -> None:
    figure.text(0.01, 0.01, subtitle, fontsize=7, color=GREY)
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    figure.savefig(path)
    import matplotlib.pyplot as plt

    plt.close(figure)


def _log_milliseconds(ax: Axes) -> None:
    """A log scale labelled 1, 2, 5, 10, ... instead of powers of ten."""
    from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(FixedLocator([m * 10**e for e in range(-1, 5) for m in (1, 2, 5)]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _thousands(axis: Axis) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _count(value: int) -> str:
    """10k, 100k, 1M."""
    if value >= 1_000_000 and value % 1_000_000 == 0:
        return f"{value // 1_000_000}M"
    if value >= 1_000 and value % 1_000 == 0:
        return f"{value // 1_000}k"
    return str(value)


def _machine(document: dict[str, Any]) -> str:
    m = document["machine"]
    return f"{m['cores']}-core {m['cpu']}, Python {m['python']}, measured {document['measured_at'][:10]}"


def _contender_colour(name: str) -> str:
    if name.startswith("raw"):
        return GREY
    if name.startswith("node"):
        return ORANGE
    return GREEN if "postgres" in name else BLUE


def throughput(document: dict[str, Any], out: Path) -> Path:
    contenders = document["data"]["contenders"]
    names = list(contenders)[::-1]  # matplotlib draws the first bar at the bottom
    medians = [contenders[n]["median"] for n in names]
    figure, [ax] = _figure(height=0.45 * len(names) + 1.6)
    ax.barh(names, medians, color=[_contender_colour(n) for n in names], height=0.6)
    for y, name in enumerate(names):
        ax.scatter(
            contenders[name]["runs"], [y] * len(contenders[name]["runs"]), color="black", s=8, zorder=3
        )
        label = f" {medians[y]:,.0f}/s  ({contenders[name]['ratio_to_raw']:.2f}x raw"
        versus_node = contenders[name]["ratio_to_node_best"]
        if name.startswith("hookwire") and versus_node == versus_node:  # not NaN: node ran
            label += f", {versus_node:.2f}x best node-webhooks"
        label += ")"
        ax.text(max([medians[y], *contenders[name]["runs"]]), y, label, va="center", fontsize=8)
    ax.set_xlim(0, max(max(c["runs"]) for c in contenders.values()) * 1.6)
    _thousands(ax.xaxis)
    ax.set_xlabel("delivered events/s (bar: median; dots: runs)")
    ax.set_title(f"Throughput: {document['data']['messages']:,} events of ~1 KB to one endpoint", fontsize=11)
    path = out / "throughput.png"
    _save(figure, path, _machine(document))
    return path


@dataclass(frozen=True, slots=True)
class _AgainstLoad:
    """A plot of a scenario's sweep (``data["sweep"]``): medians of a baseline and of hookwire
    per load level, hookwire's points labelled with its ratio to the baseline."""

    file: str
    baseline: tuple[str, str]  # label, key in the sweep
    hookwire: str  # label
    xlabel: str
    ylabel: str
    title: str

    def __call__(self, document: dict[str, Any], out: Path) -> Path | None:
        sweep = document["data"].get("sweep")
        if not sweep:
            return None
        label, key = self.baseline
        baseline, hookwire = sweep[key], sweep["hookwire"]
        figure, [ax] = _figure(width=6.5)
        for name, colour, values in ((label, GREY, baseline), (self.hookwire, BLUE, hookwire)):
            levels = [int(level) for level in values]
            ax.plot(levels, [values[str(v)]["median"] for v in levels], marker="o", color=colour, label=name)
        for level in levels:
            ours = hookwire[str(level)]["median"]
            ax.annotate(
                f"{ours / baseline[str(level)]['median']:.2f}x",
                (level, ours),
                textcoords="offset points",
                xytext=(0, 7),
                ha="center",
                fontsize=8,
                color=BLUE,
            )
        ax.set_xscale("log", base=2)
        ax.set_xticks(levels, [str(v) for v in levels])
        ax.set_xlabel(self.xlabel)
        _thousands(ax.yaxis)
        ax.set_ylabel(self.ylabel)
        ax.set_ylim(bottom=0)
        ax.set_title(f"{self.title} ({sweep['backend']})", fontsize=11)
        ax.legend(frameon=False)
        path = out / self.file
        _save(figure, path, _machine(document))
        return path


throughput_load = _AgainstLoad(
    "throughput-load.png",
    ("raw aiohttp", "raw"),
    "hookwire end to end",
    xlabel="requests in flight (per endpoint for hookwire)",
    ylabel="events/s (median)",
    title="Throughput against load",
)
ingest_load = _AgainstLoad(
    "ingest-load.png",
    ("bare uvicorn answering 202", "bare"),
    "hookwire serve",
    xlabel="concurrent clients",
    ylabel="requests/s (median)",
    title="HTTP ingest against load",
)


def latency(document: dict[str, Any], out: Path) -> Path:
    points = document["data"]["points"]
    backends = list(dict.fromkeys(p["backend"] for p in points))
    figure, axes = _figure(width=5.2 * len(backends), height=4.4, columns=len(backends))
    low = min(min(p["p50"] for p in points), 5) / 1.5
    high = max(max(p["p99"] for p in points), 50) * 2
    for ax, backend in zip(axes, backends, strict=True):
        for fleet, colour in (("healthy only", BLUE), ("with slow and failing", RED)):
            mine = sorted(
                (p for p in points if p["backend"] == backend and p["fleet"] == fleet),
                key=lambda p: p["rate"],
            )
            rates = [p["rate"] for p in mine]
            ax.plot(rates, [p["p50"] for p in mine], marker="o", color=colour, label=f"{fleet}: p50")
            ax.plot(
                rates,
                [p["p99"] for p in mine],
                marker="s",
                linestyle="--",
                color=colour,
                label=f"{fleet}: p99",
            )
        for target in (5, 50):
            label = "targets: p50 < 5 ms, p99 < 50 ms" if target == 5 else None
            ax.axhline(target, color=GREY, linestyle=":", linewidth=1.2, label=label)
        _log_milliseconds(ax)
        ax.set_xticks(rates)
        ax.set_xlabel("offered messages/s")
        ax.set_ylabel("healthy endpoints' trigger -> arrival (ms)")
        ax.set_title(f"Latency against load, mixed fleet ({backend})", fontsize=11)
        ax.set_ylim(low, high)
        ax.legend(frameon=False, fontsize=7, loc="upper left")
    path = out / "latency.png"
    _save(figure, path, _machine(document))
    return path


def backlog(document: dict[str, Any], out: Path) -> Path:
    points = document["data"]["points"]
    figure, (claim_ax, rss_ax) = _figure(width=10, height=4.2, columns=2)
    for backend, colour in (("sqlite", BLUE), ("postgres", GREEN)):
        mine = [p for p in points if p["backend"] == backend]
        if not mine:
            continue
        sizes = [p["size"] for p in mine]
        claim_ax.plot(
            sizes, [p["claim_ms"] for p in mine], marker="o", color=colour, label=f"{backend}: median"
        )
        claim_ax.plot(
            sizes,
            [p["claim_p90_ms"] for p in mine],
            marker="s",
            ls="--",
            color=colour,
            label=f"{backend}: p90",
        )
        rss_ax.plot(sizes, [p["rss_peak_mb"] for p in mine], marker="o", color=colour, label=backend)
    for ax in (claim_ax, rss_ax):
        ax.set_xscale("log")
        ax.set_xticks(sizes, [_count(size) for size in sizes])
        ax.minorticks_off()
        ax.set_xlabel("pending deliveries")
        ax.set_ylim(bottom=0)
        ax.legend(frameon=False, fontsize=8)
    claim_ax.set_ylabel("one claim_due of 128 (ms)")
    claim_ax.set_title("Claim time against backlog", fontsize=11)
    rss_ax.set_ylabel("worker peak RSS (MB)")
    rss_ax.set_title(f"Worker memory draining {document['data']['drain']:,} from the front", fontsize=11)
    path = out / "backlog.png"
    _save(figure, path, _machine(document))
    return path


def scale(document: dict[str, Any], out: Path) -> Path:
    contenders = document["data"]["contenders"]
    names = list(contenders)
    figure, [ax] = _figure(width=6.5)
    colours = [BLUE if n.startswith("SQLite") else GREEN for n in names]
    ax.bar(names, [contenders[n]["median"] for n in names], color=colours, width=0.6)
    for x, name in enumerate(names):
        ax.scatter(
            [x] * len(contenders[name]["runs"]), contenders[name]["runs"], color="black", s=8, zorder=3
        )
    _thousands(ax.yaxis)
    ax.set_ylabel("delivered events/s (bar: median; dots: runs)")
    ax.set_title("Scale-out: worker processes", fontsize=11)
    ax.tick_params(axis="x", labelsize=8)
    path = out / "scale.png"
    _save(figure, path, _machine(document))
    return path


PLOTS: dict[str, list[Callable[[dict[str, Any], Path], Path | None]]] = {
    "throughput": [throughput, throughput_load],
    "mixed": [latency],
    "backlog": [backlog],
    "ingest": [ingest_load],
    "scale": [scale],
}


def render(results_dir: Path, out: Path) -> list[Path]:
    """Every plot whose results exist; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for scenario, plots in PLOTS.items():
        document = read_json(results_dir, scenario)
        if document is None:
            continue
        for plot in plots:
            path = plot(document, out)
            if path is not None:
                written.append(path)
    return written


def main() -> None:
    results = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench/results")
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("docs/performance")
    for path in render(results, out):
        print(path)


if __name__ == "__main__":
    main()
