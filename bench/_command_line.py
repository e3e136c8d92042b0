"""The command line every benchmark shares: `--rounds N` (measured rounds, at least 1) and `--json`
(the figures as JSON instead of the table), and one way to end when a sample fails."""

import argparse
import json
import sys
from collections.abc import Callable

from bench._child import SampleFailed


def parser(doc: str, rounds: int) -> argparse.ArgumentParser:
    """A parser described by the first line of the bench's docstring, with --rounds and --json; a
    bench adds its own options to it."""
    made = argparse.ArgumentParser(description=doc.splitlines()[0])
    made.add_argument("--rounds", type=int, default=rounds, help=f"measured rounds (default {rounds})")
    made.add_argument("--json", action="store_true", help="print the figures as JSON")
    return made


def parse(made: argparse.ArgumentParser) -> argparse.Namespace:
    arguments = made.parse_args()
    if arguments.rounds < 1:
        made.error("--rounds must be at least 1")
    return arguments


def finish(arguments: argparse.Namespace, measure: Callable[[], dict], report: Callable[[dict], str]) -> None:
    """Measure, then print the figures (as JSON with --json); a failed sample ends the bench with
    its story and exit status 1, with no figures: a bench with a failed sample measured nothing."""
    try:
        figures = measure()
    except SampleFailed as failure:
        sys.exit(f"bench aborted, a sample failed (nothing was measured):\n{failure}")
    print(json.dumps(figures, indent=2) if arguments.json else report(figures))
