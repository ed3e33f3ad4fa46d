"""The overview's chart: attempts per minute (succeeded and failed, stacked) and the success
ratio, as the geometry of an SVG drawn by the server (no charting library, no script)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from hookwire.core.stats import TimelineBucket

WIDTH = 1000  # viewBox units; the SVG stretches to its box
HEIGHT = 240
GAP = 0.15  # share of a bar's slot left empty


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    width: float
    succeeded_y: float
    succeeded_height: float
    failed_y: float
    failed_height: float
    label: str  # a tooltip: the bucket's time and counts


@dataclass(frozen=True, slots=True)
class Chart:
    """What ``overview.html`` draws."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    ratio_lines: tuple[str, ...]  # polyline points, one line per run of buckets with attempts
    peak_per_minute: float
    time_labels: tuple[str, ...]
    attempts: int
    succeeded: int
    buckets: tuple[TimelineBucket, ...]

    @property
    def success_ratio(self) -> float | None:
        return self.succeeded / self.attempts if self.attempts else None


def per_minute(count: int, bucket: timedelta) -> float:
    return count / (bucket.total_seconds() / 60)


def build(buckets: Sequence[TimelineBucket], bucket: timedelta) -> Chart:
    """Lay out ``buckets`` (oldest first, gaps filled) across the chart."""
    peak = max((b.attempts for b in buckets), default=0)
    scale = HEIGHT / peak if peak else 0.0
    slot = WIDTH / max(len(buckets), 1)
    bars = []
    for index, item in enumerate(buckets):
        ok, failed = item.succeeded * scale, item.failed * scale
        bars.append(
            Bar(
                x=round(index * slot + slot * GAP / 2, 2),
                width=round(slot * (1 - GAP), 2),
                succeeded_y=round(HEIGHT - ok, 2),
                succeeded_height=round(ok, 2),
                failed_y=round(HEIGHT - ok - failed, 2),
                failed_height=round(failed, 2),
                label=f"{item.start:%H:%M} UTC: {item.succeeded} succeeded, {item.failed} failed",
            )
        )
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=tuple(bars),
        ratio_lines=_ratio_lines(buckets, slot),
        peak_per_minute=per_minute(peak, bucket),
        time_labels=_time_labels(buckets),
        attempts=sum(b.attempts for b in buckets),
        succeeded=sum(b.succeeded for b in buckets),
        buckets=tuple(buckets),
    )


def _ratio_lines(buckets: Sequence[TimelineBucket], slot: float) -> tuple[str, ...]:
    """The success ratio (0 % at the bottom, 100 % at the top), broken where nothing was sent:
    a line across an empty stretch would claim a ratio nobody measured."""
    lines: list[list[str]] = [[]]
    for index, item in enumerate(buckets):
        ratio = item.success_ratio
        if ratio is None:
            if lines[-1]:
                lines.append([])
            continue
        lines[-1].append(f"{index * slot + slot / 2:.1f},{HEIGHT - ratio * HEIGHT:.1f}")
    # A single point draws nothing as a polyline; widen it to a short flat segment.
    drawn = []
    for points in lines:
        if len(points) == 1:
            x, y = (float(v) for v in points[0].split(","))
            points = [f"{x - slot / 2:.1f},{y:.1f}", f"{x + slot / 2:.1f},{y:.1f}"]
        if points:
            drawn.append(" ".join(points))
    return tuple(drawn)


def _time_labels(buckets: Sequence[TimelineBucket]) -> tuple[str, ...]:
    """Five evenly spaced times under the chart, first and last bucket included."""
    if not buckets:
        return ()
    picks = sorted({round(i * (len(buckets) - 1) / 4) for i in range(5)})
    return tuple(f"{buckets[i].start:%H:%M}" for i in picks)
