"""HTTP ingest: messages accepted per second by ``hookwire serve`` (worker off) against a bare
uvicorn app answering 202, driven by the same client in the same run.

Run: ``python -m bench.ingest [--seconds 10] [--connections 32] [--runs 3]``.
The scenario is ``hookwire.benchmarks.ingest`` (also ``hookwire bench ingest``).
"""

from __future__ import annotations

from bench import common


def main() -> None:
    parser = common.parser("ingest", __doc__)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    changes: dict[str, object] = {"connections": args.connections}
    if not args.quick:
        changes["seconds"] = args.seconds
    common.run("ingest", args, common.options_from(args, **changes))


if __name__ == "__main__":
    main()
