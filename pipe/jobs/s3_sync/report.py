"""s3-sync's plan and result reports (pipe.report): every file to upload or delete as an Item with its
size, the figures a reviewer scans, and the CloudFront invalidation.

The plan is recorded by a dry run, and by a sync the delete guard refuses (FAILED); the result after
a sync, also when it fails part way. Both are built from the plan the job has already made
(plan.Plan): nothing is listed or read again, and a file costs one small tuple.
"""

from collections.abc import Iterable
from typing import NamedTuple

from pipe.common.local_tree import LocalFile
from pipe.jobs.s3_sync import keys as s3_keys
from pipe.jobs.s3_sync.plan import Plan, Remote, Summary
from pipe.jobs.s3_sync.progress import size
from pipe.report import Change, Field, Item, Outcome, Report, record

JOB = "s3-sync"
# Paths named in a summary line; the document holds every one.
PATHS_IN_SUMMARY = 5


class Planned(NamedTuple):
    """What the sync will do (or did): the plan as compared, and where it goes."""

    bucket: str
    prefix: str
    changes: Plan  # deletions already emptied without DELETE_FLAG
    unchanged: int
    scanned: int
    paths: list[str]  # the invalidation's, [] without one
    distribution: str  # '' without CLOUDFRONT_DISTRIBUTION_ID
    guard_percent: int

    @property
    def where(self) -> str:
        return f"s3://{self.bucket}/{s3_keys.listing_prefix(self.prefix)}"


class _Count(NamedTuple):
    files: int
    bytes: int

    def said(self, change: str) -> str:
        return f"{self.files} {change} ({size(self.bytes)})" if self.files else f"0 {change}"


def _count(entries: Iterable[LocalFile | Remote]) -> _Count:
    sizes = [entry.size for entry in entries]
    return _Count(len(sizes), sum(sizes))


class _Figures(NamedTuple):
    new: _Count
    changed: _Count
    deleted: _Count


def _figures(changes: Plan) -> _Figures:
    return _Figures(_count(changes.new), _count(changes.changed), _count(changes.deletions))


def items(planned: Planned) -> list[Item]:
    """Every file, deletions first (what destroys data leads the log's first lines), then changed, then
    new, each in key order. The S3 key names each: a deleted object has no local file."""
    changes, prefix = planned.changes, planned.prefix
    return (
        [
            Item("removed", gone.key, size(gone.size), severity="HIGH", size=gone.size)
            for gone in changes.deletions
        ]
        + [_uploaded("changed", prefix, item) for item in changes.changed]
        + [_uploaded("added", prefix, item) for item in changes.new]
    )


def _uploaded(change: Change, prefix: str, item: LocalFile) -> Item:
    # scan() let only files with a safe key through: key_for cannot refuse one here.
    return Item(change, s3_keys.key_for(prefix, item.relative), size(item.size), size=item.size)


def _changes_line(figures: _Figures, unchanged: int) -> str:
    new, changed, deleted = (
        figures.new.said("new"),
        figures.changed.said("changed"),
        figures.deleted.said("deleted"),
    )
    return f"{new}, {changed}, {deleted}; {unchanged} unchanged."


def _invalidation_line(planned: Planned, invalidation_id: str | None = None, completed: bool = False) -> str:
    if not planned.paths:
        return ""
    shown = " ".join(planned.paths[:PATHS_IN_SUMMARY])
    more = (
        f" and {len(planned.paths) - PATHS_IN_SUMMARY} more" if len(planned.paths) > PATHS_IN_SUMMARY else ""
    )
    if invalidation_id is None:
        return f" Invalidation on {planned.distribution} of {len(planned.paths)} path(s): {shown}{more}."
    state = "completed" if completed else "created, not waited for"
    return f" Invalidation {invalidation_id} on {planned.distribution} ({state}) of {shown}{more}."


def _document(planned: Planned, figures: _Figures, dry_run: bool, refused: bool) -> dict[str, object]:
    changes = planned.changes
    return {
        "bucket": planned.bucket,
        "prefix": planned.prefix,
        "dry_run": dry_run,
        "new": figures.new._asdict(),
        "changed": figures.changed._asdict(),
        "deleted": figures.deleted._asdict(),
        "unchanged": planned.unchanged,
        "scanned": planned.scanned,
        "invalidation": {"distribution": planned.distribution or None, "paths": planned.paths},
        "delete_guard": {
            "percent": planned.guard_percent,
            "present": changes.present,
            "deleting": len(changes.deletions),
            "refused": refused,
        },
    }


def record_plan(planned: Planned, dry_run: bool, refusal: str | None) -> None:
    """The plan of a dry run (PENDING: nobody has judged it), or of any run the delete guard refuses
    (FAILED, the refusal first in the summary)."""
    figures = _figures(planned.changes)
    outcome: Outcome = "FAILED" if refusal else "PENDING"
    said = f"{refusal} " if refusal else ""
    state = "dry run" if dry_run else "refused"
    record(
        Report(
            JOB,
            "plan",
            outcome,
            f"s3-sync plan for {planned.where} ({state}, nothing changed)",
            f"{said}{_changes_line(figures, planned.unchanged)}{_invalidation_line(planned)}",
            fields=[
                Field("New files", figures.new.files, "NUMBER"),
                Field("Changed files", figures.changed.files, "NUMBER"),
                Field("Deleted files", figures.deleted.files, "NUMBER"),
                Field("To upload", size(figures.new.bytes + figures.changed.bytes)),
                Field("Unchanged files", planned.unchanged, "NUMBER"),
                Field("Invalidation paths", len(planned.paths), "NUMBER"),
            ],
            items=items(planned),
            document=_document(planned, figures, dry_run, refused=refusal is not None),
        )
    )


def record_result(planned: Planned, summary: Summary, completed: bool, failure: str | None = None) -> None:
    """What a sync did: PASSED with every file of the plan; FAILED with the failure's line and how far
    it got (which files made it before the failure is not known: no items then)."""
    figures = _figures(planned.changes)
    invalidation_id = summary.invalidation_id
    if failure is None:
        said = f"Synced in {summary.seconds} s: {_changes_line(figures, planned.unchanged)}"
    else:
        # The failure first, as the run's last line says it: a summary cut at 450 characters keeps it.
        said = (
            f"{failure} Done before it stopped: {summary.uploaded} of "
            f"{figures.new.files + figures.changed.files} uploads, {summary.deleted} of "
            f"{figures.deleted.files} deletions."
        )
    document = _document(planned, figures, dry_run=False, refused=False)
    document |= {
        "uploaded": {"files": summary.uploaded, "bytes": summary.bytes_uploaded},
        "deleted_done": summary.deleted,
        "seconds": summary.seconds,
        "invalidation": {
            "distribution": planned.distribution or None,
            "paths": planned.paths,
            "id": invalidation_id,
            "completed": completed,
        },
        "failure": failure,
    }
    record(
        Report(
            JOB,
            "result",
            "FAILED" if failure else "PASSED",
            f"s3-sync result for {planned.where}",
            said + _invalidation_line(planned, invalidation_id, completed) if invalidation_id else said,
            fields=[
                Field("New files", figures.new.files, "NUMBER"),
                Field("Changed files", figures.changed.files, "NUMBER"),
                Field("Deleted files", summary.deleted, "NUMBER"),
                Field("Uploaded", size(summary.bytes_uploaded)),
                Field("Duration", round(summary.seconds * 1000), "DURATION"),
                Field("Invalidation", invalidation_id or "none"),
            ],
            items=items(planned) if failure is None else (),
            document=document,
        )
    )
