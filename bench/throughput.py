"""Delivered events/s of ~1 KB payloads to one fast local endpoint: hookwire end to end and
draining, on SQLite then PostgreSQL, beside a raw aiohttp client and node-webhooks (when node
is installed), all in the same run; then throughput against requests in flight.

Run: ``python -m bench.throughput [--messages 20000] [--runs 3] [--in-flight 16]``.
The scenario is ``hookwire.benchmarks.throughput`` (also ``hookwire bench throughput``).
"""

from __future__ import annotations

from bench import common


def main() -> None:
    parser = common.parser("throughput", __doc__)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--no-node", action="store_true", help="skip the node-webhooks baseline")
    args = parser.parse_args()
    changes = {"in_flight": args.in_flight, "node": not args.no_node}
    if not args.quick:
        changes["messages"] = args.messages
    common.run("throughput", args, common.options_from(args, **changes))


if __name__ == "__main__":
    main()
