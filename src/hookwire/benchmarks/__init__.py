"""hookwire's benchmark suite: ``hookwire bench`` and the ``bench/`` scripts run these scenarios.

One module per scenario (``throughput``, ``fanout``, ``mixed``, ``backlog``, ``ingest``,
``scale``), each with ``measure(env) -> Result``; ``suite.run_suite`` runs them in one
environment (one receiver process, one PostgreSQL server), prints their tables and writes
their JSON. Benchmarks measure; they assert nothing about speed.
"""

from __future__ import annotations

SCENARIOS = ("throughput", "fanout", "mixed", "backlog", "ingest", "scale")
