"""The bare uvicorn app of the ingest baseline; it lives in ``hookwire.benchmarks.bare_app``.

Run: ``python -m bench.bare_app PORT``.
"""

from __future__ import annotations

from hookwire.benchmarks.bare_app import main

if __name__ == "__main__":
    main()
