"""What Bitbucket's reports API accepts, checked as strictly as its documentation says (README.md here
names the source of each rule and what is not verified against Bitbucket itself)."""

import re
from collections.abc import Iterable

REPORT_FIELDS = {
    "type", "uuid", "title", "details", "external_id", "reporter", "link", "remote_link_enabled",
    "logo_url", "report_type", "result", "data", "created_on", "updated_on",
}  # fmt: skip
REPORT_REQUIRED = ("title", "details", "report_type")
REPORT_TYPES = {"SECURITY", "COVERAGE", "TEST", "BUG"}
REPORT_RESULTS = {"PASSED", "FAILED", "PENDING"}
DATA_TYPES = {"BOOLEAN", "DATE", "DURATION", "LINK", "NUMBER", "PERCENTAGE", "TEXT"}
MAX_DATA = 6
ANNOTATION_FIELDS = {
    "type", "uuid", "annotation_type", "path", "line", "summary", "details", "result", "severity",
    "link", "external_id", "created_on", "updated_on",
}  # fmt: skip
ANNOTATION_REQUIRED = ("external_id", "annotation_type", "summary")
ANNOTATION_TYPES = {"VULNERABILITY", "CODE_SMELL", "BUG"}
SEVERITIES = {"CRITICAL", "HIGH", "MEDIUM", "LOW"}
ANNOTATION_RESULTS = {"PASSED", "FAILED", "IGNORED", "SKIPPED"}
MAX_SUMMARY = 450
MAX_DETAILS = 2000
MAX_PER_REQUEST = 100
MAX_ANNOTATIONS_PER_REPORT = 1000
# Bitbucket's answers, word for word where known (README.md).
SUMMARY_TOO_LONG = "The summary field cannot contain more than 450 characters."
TOO_MANY_PER_REQUEST = "Bulk upload supports a maximum of /100 annotations."
TOO_MANY_PER_REPORT = "A report can have at most 1000 annotations."
_ID = re.compile(r"[A-Za-z0-9._{}-]{1,255}")


def error(message: str) -> dict:
    return {"type": "error", "error": {"message": message}}


def length(text: str) -> int:
    """Java's String.length(): UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def id_problem(identifier: str) -> str | None:
    return None if _ID.fullmatch(identifier) else f"invalid id {identifier[:80]!r}"


def _text_problem(document: dict, name: str, limit: int, message: str | None = None) -> str | None:
    value = document.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        return f"{name} must be a string"
    if length(value) > limit:
        return message or f"The {name} field cannot contain more than {limit} characters."
    return None


def _fields_problem(document: object, known: set[str], required: Iterable[str], what: str) -> str | None:
    """A JSON object with no field Bitbucket does not know and every field it requires."""
    if not isinstance(document, dict):
        return f"{what} must be a JSON object"
    missing = [name for name in required if not document.get(name)]
    unknown = sorted(set(document) - known)
    if unknown:
        return f"unknown field(s) in the {what.split()[-1]}: {', '.join(unknown)}"
    return f"missing required field(s): {', '.join(missing)}" if missing else None


def report_problem(document: object) -> str | None:
    problem = _fields_problem(document, REPORT_FIELDS, REPORT_REQUIRED, "the report")
    if problem or not isinstance(document, dict):
        return problem
    if document["report_type"] not in REPORT_TYPES:
        return f"report_type must be one of {sorted(REPORT_TYPES)}"
    if "result" in document and document["result"] not in REPORT_RESULTS:
        return f"result must be one of {sorted(REPORT_RESULTS)}"
    for name, limit in (("title", MAX_SUMMARY), ("details", MAX_SUMMARY), ("reporter", MAX_SUMMARY)):
        problem = _text_problem(document, name, limit)
        if problem:
            return problem
    return _data_problem(document.get("data", []))


def _data_problem(data: object) -> str | None:
    if not isinstance(data, list):
        return "data must be a list"
    if len(data) > MAX_DATA:
        return f"a report has at most {MAX_DATA} data fields"
    for item in data:
        if not isinstance(item, dict) or set(item) != {"title", "type", "value"}:
            return "each data field is {title, type, value}"
        kind, value = item["type"], item["value"]
        if kind not in DATA_TYPES:
            return f"data type must be one of {sorted(DATA_TYPES)}"
        if not isinstance(item["title"], str) or length(item["title"]) > MAX_SUMMARY:
            return "a data field's title must be a string of at most 450 characters"
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        fits = {
            "BOOLEAN": isinstance(value, bool),
            "NUMBER": number,
            "PERCENTAGE": number,
            "DURATION": isinstance(value, int) and not isinstance(value, bool),
            "DATE": isinstance(value, int) and not isinstance(value, bool),
            "TEXT": isinstance(value, str) and length(value) <= MAX_DETAILS,
            "LINK": isinstance(value, dict) and set(value) == {"text", "href"}
            and all(isinstance(v, str) for v in value.values())
            and value["href"].startswith(("https://", "http://")),
        }[kind]  # fmt: skip
        if not fits:
            return f"a {kind} data field's value does not fit its type"
    return None


def annotation_problem(document: object) -> str | None:
    problem = _fields_problem(document, ANNOTATION_FIELDS, ANNOTATION_REQUIRED, "an annotation")
    if problem or not isinstance(document, dict):
        return problem
    if document["annotation_type"] not in ANNOTATION_TYPES:
        return f"annotation_type must be one of {sorted(ANNOTATION_TYPES)}"
    if "severity" in document and document["severity"] not in SEVERITIES:
        return f"severity must be one of {sorted(SEVERITIES)}"
    if "result" in document and document["result"] not in ANNOTATION_RESULTS:
        return f"result must be one of {sorted(ANNOTATION_RESULTS)}"
    line = document.get("line")
    if line is not None and (not isinstance(line, int) or isinstance(line, bool) or line < 1):
        return "line must be a positive whole number"
    problem = id_problem(str(document["external_id"]))
    for name, limit, message in (
        ("summary", MAX_SUMMARY, SUMMARY_TOO_LONG),
        ("details", MAX_DETAILS, None),
        ("path", MAX_DETAILS, None),
    ):
        problem = problem or _text_problem(document, name, limit, message)
    return problem


def bulk_problem(document: object) -> str | None:
    if not isinstance(document, list) or not document:
        return "a bulk upload is a non-empty JSON array of annotations"
    if len(document) > MAX_PER_REQUEST:
        return TOO_MANY_PER_REQUEST
    for annotation in document:
        problem = annotation_problem(annotation)
        if problem:
            return problem
    return None
