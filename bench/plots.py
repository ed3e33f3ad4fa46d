"""Render the plots of ``docs/performance/`` from ``bench/results/*.json`` (needs matplotlib).

Run: ``python -m bench.plots [RESULTS_DIR] [OUT_DIR]``; the code is
``hookwire.benchmarks.plots``.
"""

from __future__ import annotations

from hookwire.benchmarks.plots import main

if __name__ == "__main__":
    main()
