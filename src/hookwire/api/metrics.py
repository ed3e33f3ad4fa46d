"""Prometheus metrics: counters fed as things happen in this process, gauges read from the
database at each scrape (so they are right whichever process did the work)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from hookwire.core import ids
from hookwire.core.clock import utcnow
from hookwire.delivery.attempt import DeliveryEvent
from hookwire.service.webhooks import Webhooks

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36000)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._accepted = Counter(
            "hookwire_messages_accepted", "Messages accepted over the API.", registry=self.registry
        )
        self._attempts = Counter(
            "hookwire_attempts",
            "Attempts made by this process's worker, by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self._latency = Histogram(
            "hookwire_delivery_latency_seconds",
            "From message creation to successful delivery.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self._pending = Gauge(
            "hookwire_pending_deliveries", "Deliveries pending or being sent.", registry=self.registry
        )
        self._oldest = Gauge(
            "hookwire_oldest_pending_delivery_age_seconds",
            "Age of the oldest delivery still pending.",
            registry=self.registry,
        )
        self._disabled = Gauge(
            "hookwire_disabled_endpoints", "Endpoints currently disabled.", registry=self.registry
        )

    def message_accepted(self) -> None:
        self._accepted.inc()

    def attempt_finished(self, event: DeliveryEvent) -> None:
        outcome = "succeeded" if event.succeeded else (event.error.value if event.error else "failed")
        self._attempts.labels(outcome=outcome).inc()
        if event.succeeded:
            self._latency.observe(max(time.time() - ids.created_ms(event.message_id) / 1000, 0.0))

    async def render(self, hooks: Webhooks) -> bytes:
        figures = await hooks.store.health_figures()
        self._pending.set(figures.pending_deliveries)
        oldest = figures.oldest_pending_at
        self._oldest.set(0 if oldest is None else max((utcnow() - oldest).total_seconds(), 0))
        self._disabled.set(figures.disabled_endpoints)
        return generate_latest(self.registry)
