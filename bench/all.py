"""Run every scenario, render the plots and rewrite the generated sections of
``docs/performance.md`` (between ``<!-- bench:NAME -->`` markers) from the results.

Run: ``python -m bench.all`` (a quarter of an hour or more on 2 cores), ``--quick`` for a few
minutes, ``--docs-only`` to regenerate plots and tables from ``bench/results/`` without
measuring again.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from hookwire.benchmarks import SCENARIOS
from hookwire.benchmarks.markdown import machine_section, replace_sections, scenario_section, targets_section
from hookwire.benchmarks.options import BenchOptions
from hookwire.benchmarks.plots import render
from hookwire.benchmarks.runner import read_json
from hookwire.benchmarks.suite import ScenariosFailed, run_suite

RESULTS = Path("bench/results")
DOC = Path("docs/performance.md")
PLOTS = Path("docs/performance")


def rewrite_docs() -> None:
    documents = {name: read_json(RESULTS, name) for name in SCENARIOS}
    found = {name: document for name, document in documents.items() if document is not None}
    sections = {name: scenario_section(document) for name, document in found.items()}
    if found:
        latest = max(found.values(), key=lambda document: str(document["measured_at"]))
        sections["machine"] = machine_section(latest)
        sections["targets"] = targets_section(found)
    DOC.write_text(replace_sections(DOC.read_text(), sections))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one run of smaller sizes")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--docs-only", action="store_true", help="do not measure; regenerate from results")
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS), help="default: all")
    args = parser.parse_args()
    failed: ScenariosFailed | None = None
    if not args.docs_only:
        options = BenchOptions(runs=args.runs, results_dir=RESULTS)
        try:
            run_suite(args.scenarios, options.quick() if args.quick else options)
        except ScenariosFailed as exc:  # the others' results still go into the docs
            failed = exc
    for path in render(RESULTS, PLOTS):
        print(f"plot: {path}")
    rewrite_docs()
    print(f"rewrote the generated sections of {DOC}")
    if failed is not None:
        raise SystemExit(str(failed))


if __name__ == "__main__":
    main()
