"""Helm's failures as one line that says why: the template error with its file and line, the failing
schema path, a release another operation left pending, a workload that did not become ready (which
one, and its status), a chart version that is not there."""

import re
from typing import NamedTuple

# template: web/templates/deployment.yaml:12:20: executing "..." at <.Values.x>: ...
# parse error at (web/templates/deployment.yaml:5): ...
_TEMPLATE = re.compile(
    r"(?:template: |parse error at \()(?P<file>[^\s:()]+\.(?:yaml|yml|tpl|txt|json)):(?P<line>[0-9]+)(?::[0-9]+)?\)?:?\s*(?P<why>.*)"
)
# jsonschema, as Helm prints it: "- at '/replicas': got string, want integer"
_SCHEMA = re.compile(r"at '(?P<path>[^']*)': (?P<why>.+)")
_NOT_READY = re.compile(
    r"resource (?P<kind>[A-Za-z]+)/(?P<namespace>[^/\s]*)/(?P<name>[^\s]+) not ready\. status: (?P<status>\w+), message: (?P<message>.*)"
)
_VERSION_MISSING = re.compile(
    r'chart "(?P<chart>[^"]+)" (?:version|matching) "?(?P<version>[^"\s]+)"? not found|(?P<ref>\S+): not found'
)
PENDING = "another operation (install/upgrade/rollback) is in progress"


class Explained(NamedTuple):
    line: str
    # The chart file and line the failure is at (relative to the chart directory), for an annotation.
    file: str | None = None
    line_number: int | None = None


def explain(said: str, release: str, chart_dir_name: str | None, namespace: str) -> Explained | None:
    """What Helm's output `said` means, or None when nothing here recognises it."""
    match = _TEMPLATE.search(said)
    if match:
        file, line = match["file"], int(match["line"])
        why = match["why"].strip().rstrip(".")[:300]
        return Explained(f"The chart does not render: {file} line {line}: {why}.", file, line)
    if "values don't meet the specifications of the schema" in said:
        paths = [f"{found['path'] or '/'} ({found['why'].strip()})" for found in _SCHEMA.finditer(said)]
        listed = "; ".join(paths[:5]) or said.splitlines()[-1][:200]
        return Explained(
            f"The values do not meet the chart's values.schema.json: {listed}. Fix VALUES or SET.",
            "values.schema.json",
            None,
        )
    if PENDING in said:
        return Explained(
            f"Release {release} in namespace {namespace} is stuck in a pending state (an earlier run was "
            "stopped during an install, upgrade or rollback, or one is running now). When none is running, "
            "set RECOVER_PENDING: 'true' to roll it back to its last deployed revision and go on."
        )
    # Helm may print the same error twice (its log line quotes it with \n escapes): one per workload.
    not_ready = list({(m["kind"], m["namespace"], m["name"]): m for m in _NOT_READY.finditer(said)}.values())
    if not_ready:
        first = not_ready[0]
        message = first["message"].split("\\n")[0].strip().rstrip('".')
        rolled_back = " Helm rolled the release back (ROLLBACK_ON_FAILURE)." if "rolled back" in said else ""
        more = f" (and {len(not_ready) - 1} more)" if len(not_ready) > 1 else ""
        return Explained(
            f"{first['kind']} {first['name']} in namespace {first['namespace'] or namespace} did not become ready "
            f"within WAIT_TIMEOUT{more}: status {first['status']}, {message}." + rolled_back
        )
    match = _VERSION_MISSING.search(said)
    if match and match["chart"]:
        return Explained(
            f"Chart {match['chart']} has no version {match['version']} in the repository: set CHART_VERSION "
            "to a version it has."
        )
    if (match and "manifest unknown" in said.lower()) or (match and match["ref"]):
        return Explained(
            f"The chart {match['ref']} is not in the registry (or not in CHART_VERSION): check CHART and CHART_VERSION."
        )
    return None
