"""pipe.report.payload: whatever a job records, what is posted passes Bitbucket's rules (as the
stand-in holds them, test/support/codeinsights/rules.py), the cut is counted, ids keep deploys apart,
and no string carries a registered secret in any form."""

import json
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from pipe.common import log
from pipe.report import Field, Item, Report, payload
from test.support import leaks
from test.support.codeinsights import rules
from test.support.encodings import hostile_output, planted

# Any text, including what os.fsdecode makes of bytes that are not UTF-8 (lone surrogates), characters
# beyond the BMP (two UTF-16 units each) and every control character.
TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=600) | st.sampled_from(
    ["", "\U0001f600" * 300, "x" * 451, "\ud800bad", "\n✔ Deployed", "\x1b[31mred"]
)
FIELD_TYPES = st.sampled_from(["BOOLEAN", "DATE", "DURATION", "LINK", "NUMBER", "PERCENTAGE", "TEXT"])
VALUES = st.one_of(
    TEXT,
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.just("https://example.com/x"),
)
FIELDS = st.builds(Field, TEXT, VALUES, FIELD_TYPES)
CHANGES = st.sampled_from(["added", "changed", "removed", "replaced", "unchanged", "done", "failed"])
SEVERITIES = st.sampled_from(["LOW", "MEDIUM", "HIGH", "CRITICAL"])
ITEMS = st.builds(
    Item,
    CHANGES,
    TEXT,
    TEXT,
    st.none() | TEXT,
    st.none() | st.integers(-5, 10**6),
    SEVERITIES,
    st.none() | st.integers(0, 10**12),
)


@st.composite
def reports(draw) -> Report:
    items = draw(st.lists(ITEMS, max_size=8))
    # Many items without drawing each: a few repeated, up to past the 1,000-annotation limit.
    copies = draw(st.integers(0, 1300))
    many = [items[n % len(items)] for n in range(copies)] if items else []
    return Report(
        draw(TEXT),
        draw(st.sampled_from(["plan", "result"])),
        draw(st.sampled_from(["PASSED", "FAILED", "PENDING"])),
        draw(TEXT),
        draw(TEXT),
        fields=draw(st.lists(FIELDS, max_size=9)),
        items=items + many,
    )


def accepted(built: payload.Payload) -> None:
    """As the stand-in would answer: the report, and each batch of 100 the toolkit's divide_chunks makes."""
    assert rules.id_problem(built.report_id) is None
    assert rules.report_problem(json.loads(json.dumps(built.report))) is None
    sent = json.loads(json.dumps(built.annotations))
    for start in range(0, len(sent), rules.MAX_PER_REQUEST):
        assert rules.bulk_problem(sent[start : start + rules.MAX_PER_REQUEST]) is None
    assert len(sent) <= rules.MAX_ANNOTATIONS_PER_REPORT


@given(reports(), TEXT)
@settings(max_examples=150)
def test_whatever_a_job_records_the_posted_report_passes_bitbucket_rules(report, environment):
    built = payload.build(report, environment)
    accepted(built)
    changes = sum(1 for item in report.items if item.change != "unchanged")
    assert len(built.annotations) == min(changes, payload.MAX_ANNOTATIONS)
    assert built.left_out == changes - len(built.annotations)
    if built.left_out:
        assert f"{built.left_out:,} more item(s) not annotated" in built.report["details"]
        assert payload.shared_file(report) in built.report["details"]
    if len(report.fields) > payload.MAX_FIELDS:
        assert f"{len(report.fields) - payload.MAX_FIELDS} more figure(s)" in built.report["details"]
    for text in _strings(built):
        assert "\n" not in text and "\x1b" not in text and not re.search("[\ud800-\udfff]", text)


def test_a_plan_of_ten_thousand_files_keeps_within_the_limits_and_counts_the_rest():
    items = [Item("added", f"site/page-{n}.html", "12 KiB", f"site/page-{n}.html") for n in range(10_000)]
    items[9_999] = Item("removed", "site/keep.html", path="site/keep.html", severity="HIGH")
    built = payload.build(
        Report("s3-sync", "plan", "PENDING", "Plan", "10,000 files change.", items=items), ""
    )
    accepted(built)
    assert len(built.annotations) == 1000 and built.left_out == 9000
    assert "9,000 more item(s) not annotated" in built.report["details"]
    # What a reviewer must see first survives the cut.
    assert built.annotations[0]["summary"] == "removed site/keep.html"


def test_a_summary_is_cut_to_450_utf16_units_with_the_count_kept():
    items = [Item("added", "x", path="x")] * 1001
    built = payload.build(Report("cdk", "plan", "PENDING", "t", "\U0001f600" * 400, items=items), "prod")
    details = built.report["details"]
    assert rules.length(details) <= 450 < len(details) * 2
    assert details.endswith("all in aws-oidc-deploy/report-cdk-plan.json]")


@given(
    st.sampled_from(["s3-sync", "kubectl", "cdk"]),
    st.lists(st.text(max_size=60), min_size=2, max_size=2, unique=True),
    st.sampled_from(["plan", "result"]),
)
def test_report_ids_are_bitbucket_safe_and_keep_two_deploys_of_one_commit_apart(job, environments, phase):
    first, second = (payload.report_id(job, environment, phase) for environment in environments)
    assert first != second
    assert first == payload.report_id(job, environments[0], phase)
    assert payload.report_id(job, environments[0], "plan") != payload.report_id(
        job, environments[0], "result"
    )
    for identifier in (first, second):
        assert re.fullmatch(r"[a-z0-9-]{1,100}", identifier), identifier


def test_a_report_id_reads_as_what_it_is():
    assert payload.report_id("s3-sync", "", "plan") == "aws-oidc-deploy-s3-sync-plan"
    assert payload.report_id("s3-sync", "production", "result") == "aws-oidc-deploy-s3-sync-production-result"


SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzREPORTSECRET"


@given(
    where=st.sampled_from(["title", "summary", "field title", "field value", "name", "detail", "path"]),
    text=planted(SECRET) | hostile_output(SECRET),
)
@settings(max_examples=300)
def test_a_secret_planted_in_any_field_in_any_encoding_is_never_posted(where, text):
    log.register_secret(SECRET)
    values = dict.fromkeys(["title", "summary", "field title", "field value", "name", "detail", "path"], "x")
    values[where] = text
    report = Report(
        "kubectl",
        "plan",
        "PENDING",
        values["title"],
        values["summary"],
        fields=[Field(values["field title"], values["field value"])],
        items=[Item("changed", values["name"], values["detail"], values["path"], 3)],
    )
    built = payload.build(report, "production")
    accepted(built)
    posted = json.dumps([built.report, built.annotations]).encode()
    assert leaks.hits(posted, [leaks.Secret("planted", SECRET)]) == []


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _strings(item)]
    return []
