"""The cdk job's reports as recorded (pipe.report.recorded()): a deploy's result with its outputs,
redacted before it is kept, and a failed deploy's result."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipe import report as reports
from pipe.common import log
from pipe.jobs.cdk import report as cdk_report

REGISTERED = "registered-Secret-5f3c9a1e"
ENVIRONMENT = "aws://123456789012/eu-west-1"


@pytest.fixture(autouse=True)
def nothing_recorded():
    reports.forget()
    yield
    reports.forget()


def test_a_deploy_result_has_every_stack_output_and_the_duration():
    outputs = {"Web": {"Url": "https://web.example", "Bucket": "site-1"}, "Db": {}}
    kept = cdk_report.record(cdk_report.deployed(outputs, ENVIRONMENT, 12.3456))
    assert reports.recorded() == (kept,)
    assert (kept.job, kept.phase, kept.outcome) == ("cdk", "result", "PASSED")
    assert kept.summary == f"Deployed Db, Web to {ENVIRONMENT} in 12 s."
    assert {f.title: (f.value, f.type) for f in kept.fields} == {
        "Stacks": (2, "NUMBER"),
        "Outputs": (2, "NUMBER"),
        "Duration": (12346, "DURATION"),
        "Environment": (ENVIRONMENT, "TEXT"),
    }
    assert [(i.change, i.name, i.detail) for i in kept.items] == [
        ("done", "Db", f"deployed to {ENVIRONMENT}, 0 output(s)"),
        ("done", "Web", f"deployed to {ENVIRONMENT}, 2 output(s)"),
        ("done", "Web.Bucket", "site-1"),
        ("done", "Web.Url", "https://web.example"),
    ]
    assert kept.document["outputs"] == outputs


def everything(kept) -> str:
    return repr(
        (
            kept.title,
            kept.summary,
            [tuple(f) for f in kept.fields],
            [tuple(i) for i in kept.items],
            kept.document,
        )
    )


@settings(max_examples=100)
@given(
    before=st.text(max_size=20),
    after=st.text(max_size=20),
    where=st.sampled_from(["value", "name", "stack"]),
    form=st.sampled_from(["plain", "url"]),
)
def test_a_secret_planted_in_an_output_is_never_recorded(before, after, where, form):
    log.register_secret(REGISTERED)
    reports.forget()
    planted = REGISTERED if form == "plain" else "postgres://app:Url-Pw-77a1b2c3@db:5432/x"
    hidden = REGISTERED if form == "plain" else "Url-Pw-77a1b2c3"
    text = f"{before}{planted}{after}"
    outputs = {
        "Stack" if where != "stack" else text: {
            "Value" if where != "name" else text: text if where == "value" else "v"
        }
    }
    cdk_report.record(cdk_report.deployed(outputs, ENVIRONMENT, 1.0))
    [kept] = reports.recorded()
    assert hidden not in everything(kept)
    assert log.MASK in everything(kept)


def test_a_failed_deploy_records_a_failed_result():
    kept = cdk_report.record(cdk_report.deploy_failed(f"cdk deploy failed: {REGISTERED}", ENVIRONMENT, 3.0))
    assert (kept.phase, kept.outcome) == ("result", "FAILED")
    assert kept.summary == f"cdk deploy failed: {log.MASK}"
    assert [(i.change, i.severity) for i in kept.items] == [("failed", "HIGH")]


def test_a_plan_that_cannot_be_made_is_failed_with_a_warning(tmp_path, caplog):
    from pathlib import Path

    from pipe.jobs.cdk import settings

    chosen = settings.Settings("diff", tmp_path, [], [], False, [], "never", False, None, False)
    kept = cdk_report.record_plan(None, chosen, Path("/nowhere/bin/cdk"), tmp_path / "cdk.out", ENVIRONMENT)
    assert (kept.phase, kept.outcome, kept.title) == ("plan", "FAILED", "CDK diff")
    assert kept.summary.startswith(
        f"The diff against {ENVIRONMENT} is incomplete: The cloud assembly's manifest "
    )
    assert "The CDK plan report is incomplete: " in caplog.text
    assert reports.recorded() == (kept,)
