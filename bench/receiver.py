"""The fast benchmark receiver; it lives in ``hookwire.benchmarks.receiver``.

Run: ``python -m bench.receiver PORT_FILE [--slow-seconds 1]``.
"""

from __future__ import annotations

from hookwire.benchmarks.receiver import main

if __name__ == "__main__":
    main()
