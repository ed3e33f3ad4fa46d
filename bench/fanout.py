"""Fan-out: one message to 10 endpoints; messages/s and deliveries/s beside a raw client.

Run: ``python -m bench.fanout [--messages 20000]`` (deliveries; a tenth as many messages).
The scenario is ``hookwire.benchmarks.fanout`` (also ``hookwire bench fanout``).
"""

from __future__ import annotations

from bench import common


def main() -> None:
    parser = common.parser("fanout", __doc__)
    parser.add_argument("--messages", type=int, default=20_000, help="deliveries per run")
    args = parser.parse_args()
    changes = {} if args.quick else {"messages": args.messages}
    common.run("fanout", args, common.options_from(args, **changes))


if __name__ == "__main__":
    main()
