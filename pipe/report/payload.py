"""A Report as Bitbucket's Code Insights API takes it: the report and its annotations, within the
API's limits, every string redacted and escaped as the log's lines are.

Limits (docs/report.md, test/support/codeinsights/README.md): at most 6 data fields, a summary
(`details`) of at most 450 characters, annotation summaries of at most 450, at most 1,000 annotations
per report. What does not fit is cut, and the summary says how much was left out and where the whole
list is (the shared-storage file). Lengths are counted in UTF-16 code units, as Bitbucket's Java
service counts a string: never more than Python's count, so a text within one is within both.
"""

import hashlib
import re
from typing import Any, NamedTuple

from pipe import __version__
from pipe.common import line_safe, log
from pipe.report import Item, Report

MAX_FIELDS = 6
MAX_SUMMARY = 450
MAX_TITLE = 450
MAX_ANNOTATION_DETAILS = 2000
MAX_ANNOTATIONS = 1000
REPORT_TYPE = "TEST"
ANNOTATION_TYPES = {"failed": "BUG"}
# What a reviewer must read first survives the cut first.
_SEVERITY_RANK = {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 2, "LOW": 3}
_ID_UNSAFE = re.compile(r"[^a-z0-9]+")
_MAX_ENVIRONMENT_SLUG = 40


class Payload(NamedTuple):
    report_id: str
    report: dict[str, Any]
    annotations: list[dict[str, Any]]
    left_out: int  # items with a path that are not sent as annotations


def shared_file(report: Report) -> str:
    """The shared-storage file (relative to BITBUCKET_PIPE_SHARED_STORAGE_DIR) holding the whole report."""
    return f"aws-oidc-deploy/report-{_slug(report.job)}-{report.phase}.json"


def report_id(job: str, environment: str, phase: str) -> str:
    """`aws-oidc-deploy-<job>[-<environment>]-<phase>`, letters, digits and '-' only: one id per job,
    deployment environment and phase, so that a rerun replaces its own report and two deploys of one
    commit (test and production) keep theirs. An environment whose name is not already such a slug
    gets a digest of the name as well, so that 'Prod EU' and 'prod-eu' stay apart."""
    parts = ["aws-oidc-deploy", _slug(job)]
    if environment:
        slug = _slug(environment)[:_MAX_ENVIRONMENT_SLUG].strip("-")
        if slug != environment:
            slug = f"{slug}-{hashlib.sha256(environment.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
        parts.append(slug.strip("-"))
    parts.append(_slug(phase))
    return "-".join(part for part in parts if part)


def _slug(text: str) -> str:
    return _ID_UNSAFE.sub("-", text.lower()).strip("-")


def safe(text: object, limit: int | None = None) -> str:
    """`text` as every string sent is: escaped (one line), redacted, no lone surrogate (os.fsdecode's
    stand-ins for bytes that are not UTF-8, which JSON for Bitbucket cannot carry), within `limit`."""
    cleaned = log.redact(line_safe.escape(text))
    cleaned = cleaned.encode("utf-8", "backslashreplace").decode("utf-8")
    return clip(cleaned, limit) if limit is not None else cleaned


def length(text: str) -> int:
    """Bitbucket's count: UTF-16 code units (a character beyond the BMP counts two)."""
    return len(text) + sum(1 for character in text if ord(character) > 0xFFFF)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 code units, ending in '…' when cut."""
    if length(text) <= limit:
        return text
    kept, used = [], 1  # the '…'
    for character in text:
        size = 2 if ord(character) > 0xFFFF else 1
        if used + size > limit:
            break
        kept.append(character)
        used += size
    return "".join(kept) + "…"


def build(report: Report, environment: str) -> Payload:
    identifier = report_id(report.job, environment, report.phase)
    annotated = sorted(
        (item for item in report.items if item.path),
        key=lambda item: _SEVERITY_RANK.get(item.severity, len(_SEVERITY_RANK)),
    )
    sent = annotated[:MAX_ANNOTATIONS]
    left_out = len(annotated) - len(sent)
    annotations = [_annotation(item, f"{identifier}-{number:04d}") for number, item in enumerate(sent, 1)]
    body = {
        "external_id": identifier,
        "title": safe(report.title, MAX_TITLE) or identifier,
        "details": _details(report, left_out),
        "report_type": REPORT_TYPE,
        "reporter": f"aws-oidc-deploy {__version__}",
        "result": report.outcome,
        "data": [_field(field) for field in report.fields[:MAX_FIELDS]],
    }
    return Payload(identifier, body, annotations, left_out)


def _details(report: Report, left_out: int) -> str:
    notes = []
    if left_out:
        notes.append(
            f"{left_out:,} more item(s) not annotated (Bitbucket takes {MAX_ANNOTATIONS:,} per report)"
        )
    if len(report.fields) > MAX_FIELDS:
        notes.append(f"{len(report.fields) - MAX_FIELDS} more figure(s)")
    suffix = f" [{'; '.join(notes)}: all in {shared_file(report)}]" if notes else ""
    summary = safe(report.summary) or safe(report.title)
    return clip(summary, MAX_SUMMARY - length(suffix)) + suffix


def _field(field: Any) -> dict[str, Any]:
    """A data field; a value that does not fit its declared type is sent as TEXT rather than refused."""
    title = safe(field.title, 100) or "-"
    value, kind = field.value, field.type
    if kind == "BOOLEAN" and isinstance(value, bool):
        return {"title": title, "type": kind, "value": value}
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind in ("NUMBER", "PERCENTAGE") and numeric:
        return {"title": title, "type": kind, "value": value}
    if kind in ("DURATION", "DATE") and numeric:
        return {"title": title, "type": kind, "value": int(value)}
    if kind == "LINK" and isinstance(value, str) and value.startswith("https://"):
        href = safe(value, 2000)
        return {"title": title, "type": kind, "value": {"text": clip(href, MAX_TITLE), "href": href}}
    return {"title": title, "type": "TEXT", "value": safe(value, MAX_SUMMARY)}


def _annotation(item: Item, identifier: str) -> dict[str, Any]:
    summary = safe(f"{item.change} {item.name}", MAX_SUMMARY)
    annotation: dict[str, Any] = {
        "external_id": identifier,
        "annotation_type": ANNOTATION_TYPES.get(item.change, "CODE_SMELL"),
        "summary": summary,
        "path": safe(str(item.path).lstrip("/"), 1000),
        "severity": item.severity if item.severity in _SEVERITY_RANK else "LOW",
    }
    if item.detail:
        annotation["details"] = safe(item.detail, MAX_ANNOTATION_DETAILS)
    if isinstance(item.line, int) and not isinstance(item.line, bool) and item.line >= 1:
        annotation["line"] = item.line
    if item.change == "failed":
        annotation["result"] = "FAILED"
    return annotation
