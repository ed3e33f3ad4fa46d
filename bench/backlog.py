"""Backlog: claim time and worker memory with 10 k, 100 k and 1 M pending deliveries, and the
claim's query plan, on SQLite and PostgreSQL.

Run: ``python -m bench.backlog [--sizes 10000,100000,1000000] [--drain 5000]``
(``--quick`` measures 10 k and 100 k). The scenario is ``hookwire.benchmarks.backlog``.
"""

from __future__ import annotations

from bench import common


def main() -> None:
    parser = common.parser("backlog", __doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="pending deliveries, comma-separated")
    parser.add_argument("--drain", type=int, default=5_000, help="deliveries drained while RSS is sampled")
    args = parser.parse_args()
    changes: dict[str, object] = {}
    if not args.quick:
        changes = {"backlog_sizes": tuple(int(s) for s in args.sizes.split(",")), "backlog_drain": args.drain}
    common.run("backlog", args, common.options_from(args, **changes))


if __name__ == "__main__":
    main()
