"""What a deploy will do and what it did, for the reviewer: a plan before a change, a result after it.

A job builds one `Report` per phase and hands it to `record()`. The same report feeds three outputs:
the log (here, at once), a JSON file in shared storage for later steps, and a Code Insights report on
the commit (both written by `pipe.report.publish`, which the entry calls once the job has ended, so
that a report that cannot be posted never changes the job's exit status).

Stdlib only and light: every job that changes something imports it, trust-policy never does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

Phase = Literal["plan", "result"]
# Bitbucket's report results: PENDING is a plan nobody has judged; FAILED a plan a guard rail refuses
# (or a deploy that failed).
Outcome = Literal["PASSED", "FAILED", "PENDING"]
Change = Literal["added", "changed", "removed", "replaced", "unchanged", "done", "failed"]
FieldType = Literal["BOOLEAN", "DATE", "DURATION", "LINK", "NUMBER", "PERCENTAGE", "TEXT"]
Severity = Literal["LOW", "MEDIUM", "HIGH", "CRITICAL"]

# What the log shows of a long plan; the shared-storage file always holds every item.
LOGGED_ITEMS = 50


class Field(NamedTuple):
    """One of a report's data fields (Bitbucket shows at most 6): a title and a typed value.
    DURATION is in milliseconds, as Bitbucket reads it."""

    title: str
    value: str | int | float | bool
    type: FieldType = "TEXT"


class Item(NamedTuple):
    """One thing the deploy changes or changed: a file, a Kubernetes object, a stack resource, a version.

    `name` says which ('index.html', 'Deployment web (namespace prod)', 'Bucket (AWS::S3::Bucket)');
    `detail` what changes ('image nginx:1.27 → nginx:1.28', '12 KiB'); `path` and `line`, when set,
    the file in the clone (relative to it, '/'-separated) and the line the item starts at, which
    becomes an annotation beside the diff. `severity` ranks what a reviewer must look at first:
    HIGH for what widens access or destroys data (an IAM statement, a replaced or deleted resource).
    """

    change: Change
    name: str
    detail: str = ""
    path: str | None = None
    line: int | None = None
    severity: Severity = "LOW"
    size: int | None = None


class Report:
    """A plan or a result of one job run. `summary` is one or two sentences (Bitbucket cuts at 450
    characters; publish truncates); `fields` the figures a reviewer scans (at most 6 are posted);
    `items` the whole list, however long (publish truncates what Bitbucket takes and says how many
    were left out); `document` anything more for the shared-storage file (JSON-serialisable)."""

    __slots__ = ("document", "fields", "items", "job", "outcome", "phase", "summary", "title")

    def __init__(
        self,
        job: str,
        phase: Phase,
        outcome: Outcome,
        title: str,
        summary: str,
        fields: Iterable[Field] = (),
        items: Iterable[Item] = (),
        document: dict[str, object] | None = None,
    ):
        self.job = job
        self.phase = phase
        self.outcome = outcome
        self.title = title
        self.summary = summary
        self.fields = tuple(fields)
        self.items = tuple(items)
        self.document = dict(document or {})

    def __repr__(self) -> str:
        return f"Report({self.job!r}, {self.phase!r}, {self.outcome!r}, {len(self.items)} items)"


_recorded: list[Report] = []


def record(report: Report) -> None:
    """Keep `report` for publishing when the job ends, and log it now (redacted and escaped)."""
    _recorded.append(report)
    _log(report)


def recorded() -> tuple[Report, ...]:
    return tuple(_recorded)


def forget() -> None:
    """Drop what was recorded (the entry does after publishing; tests between runs in one process)."""
    _recorded.clear()


# A plan line in the colour of its change (colorlog's names; pipe.common.log.COLOUR): what appears
# green, what goes red, what changes in place or is replaced yellow; anything else its level's colour.
CHANGE_COLOURS: dict[str, str] = {
    "added": "green",
    "removed": "red",
    "changed": "yellow",
    "replaced": "yellow",
}


def _log(report: Report) -> None:
    from pipe.common.log import COLOUR, logger

    logger.info("%s: %s", report.title, report.summary)
    for item in report.items[:LOGGED_ITEMS]:
        logger.info(
            "  %s %s%s",
            item.change,
            item.name,
            f" ({item.detail})" if item.detail else "",
            extra={COLOUR: CHANGE_COLOURS.get(item.change)},
        )
    if len(report.items) > LOGGED_ITEMS:
        logger.info(
            "  … and %d more (all of them in the shared-storage file).", len(report.items) - LOGGED_ITEMS
        )
