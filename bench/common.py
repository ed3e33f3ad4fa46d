"""What the ``bench/`` scripts share: the command-line flags every scenario takes, and running
one scenario of ``hookwire.benchmarks`` (the code lives there, so that ``hookwire bench`` runs
the same scenarios from an installed package)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from hookwire.benchmarks.options import BACKENDS, BenchOptions
from hookwire.benchmarks.suite import run_suite


def parser(scenario: str, doc: str | None) -> argparse.ArgumentParser:
    """Flags of every script; a script adds its own before ``parse_args``."""
    parse = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parse.add_argument("--runs", type=int, default=3, help="interleaved runs; tables quote medians")
    parse.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgres")
    parse.add_argument("--quick", action="store_true", help="one run of smaller sizes")
    parse.add_argument("--json", type=Path, default=Path(f"bench/results/{scenario}.json"))
    return parse


def options_from(args: argparse.Namespace, **changes: Any) -> BenchOptions:
    """``BenchOptions`` from the common flags, with the script's own ``changes`` on top."""
    options = BenchOptions().quick() if args.quick else BenchOptions(runs=args.runs)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    return options.with_changes(backends=backends, results_dir=args.json.parent, **changes)


def run(scenario: str, args: argparse.Namespace, options: BenchOptions) -> dict[str, Any]:
    """Run one scenario; its JSON goes to ``--json`` (``bench/results/<scenario>.json``)."""
    [document] = run_suite([scenario], options)
    if args.json.name != f"{scenario}.json":
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return document
