"""Mixed fleet: 80 % healthy endpoints, 10 % slow (1 s), 10 % failing (500); the healthy ones'
trigger -> arrival latency with and without the bad ones, at several offered rates.

Run: ``python -m bench.mixed [--rates 100,250,500,1000] [--seconds 5]``.
The scenario is ``hookwire.benchmarks.mixed`` (also ``hookwire bench mixed``).
"""

from __future__ import annotations

from bench import common


def main() -> None:
    parser = common.parser("mixed", __doc__)
    parser.add_argument("--rates", default="100,250,500,1000", help="offered messages/s, comma-separated")
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    changes: dict[str, object] = {}
    if not args.quick:
        changes = {"rates": tuple(int(r) for r in args.rates.split(",")), "seconds": args.seconds}
    common.run("mixed", args, common.options_from(args, **changes))


if __name__ == "__main__":
    main()
