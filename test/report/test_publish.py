"""pipe.report.publish: in process against the Code Insights stand-in (replacing, ids, the time limit,
the toolkit's habits taken away), then end to end through the pipe with cloudfront-invalidate."""

import io
import json
import logging
import time

import pytest

from pipe import report
from pipe.common import log
from pipe.report import Field, Item, Report, publish
from pipe.report import settings as report_settings
from test.support.codeinsights import HANG, REFUSE, CodeInsightsStandIn
from test.support.job_env import COMMIT

LIMIT = 2.0
# The bound a caller sees: the limit, the worker's grace second, and slack for a loaded machine.
BOUND = LIMIT + 3.0
FAULTS = [REFUSE, 400, 500, HANG]


@pytest.fixture
def bitbucket():
    with CodeInsightsStandIn() as standin:
        yield standin


def pipelines(standin: CodeInsightsStandIn, environment: str = "") -> dict[str, str]:
    """The variables Bitbucket gives a pipe in a Pipelines step, pointed at the stand-in."""
    env = {
        "BITBUCKET_BUILD_NUMBER": "42",
        "BITBUCKET_WORKSPACE": "my-team",
        "BITBUCKET_REPO_SLUG": "my-repo",
        "BITBUCKET_COMMIT": COMMIT,
        "BITBUCKET_DOCKER_HOST_INTERNAL": standin.host,
    }
    return env | ({"BITBUCKET_DEPLOYMENT_ENVIRONMENT": environment} if environment else {})


@pytest.fixture
def logged():
    """What the pipe's log handler writes while the test runs."""
    log.setup()
    stream = io.StringIO()
    previous = log._handler.setStream(stream)
    yield stream
    log._handler.setStream(previous)
    report.forget()


def plan(paths: list[str], job: str = "s3-sync") -> Report:
    items = [Item("changed", path, "1 KiB", path, 1) for path in paths]
    return Report(
        job, "plan", "PENDING", "Plan", f"{len(paths)} file(s) change.", [Field("Files", 1, "NUMBER")], items
    )


def publish_now(env, succeeded=True, line="Done.", limit=publish.REPORT_LIMIT_SECONDS):
    publish.publish(env, report_settings.read({}, env), "s3-sync", succeeded, line, limit)


def test_a_rerun_replaces_its_report_and_its_annotations(bitbucket, logged):
    env = pipelines(bitbucket)
    report.record(plan([f"site/{n}.html" for n in range(5)]))
    publish_now(env)
    report.record(plan(["site/new.html", "site/0.html"]))
    publish_now(env)
    report_id = "aws-oidc-deploy-s3-sync-plan"
    assert sorted(a["summary"] for a in bitbucket.annotations(COMMIT, report_id)) == [
        "changed site/0.html",
        "changed site/new.html",
    ]
    assert bitbucket.reports[(COMMIT, report_id)]["details"] == "2 file(s) change."
    methods = [request.method for request in bitbucket.requests if report_id in request.url]
    assert methods[-3:] == ["DELETE", "PUT", "POST"]
    assert "posted on commit" in logged.getvalue()


def test_two_deploys_of_one_commit_keep_their_own_reports(bitbucket, logged):
    for environment in ("test", "production"):
        report.record(plan([f"{environment}.html"]))
        publish_now(pipelines(bitbucket, environment))
    ids = sorted(report_id for _commit, report_id in bitbucket.reports)
    assert ids == ["aws-oidc-deploy-s3-sync-production-plan", "aws-oidc-deploy-s3-sync-test-plan"]


def test_a_job_that_failed_without_a_result_gets_a_failed_one_carrying_its_last_line(bitbucket, logged):
    report.record(plan(["a.html"]))
    publish_now(pipelines(bitbucket), succeeded=False, line="S3 refused the upload of a.html: AccessDenied.")
    result = bitbucket.reports[(COMMIT, "aws-oidc-deploy-s3-sync-result")]
    assert result["result"] == "FAILED"
    assert result["details"] == "S3 refused the upload of a.html: AccessDenied."


def test_a_dry_run_that_succeeded_posts_its_plan_alone(bitbucket, logged):
    report.record(plan(["a.html"]))
    publish_now(pipelines(bitbucket))
    assert [report_id for _commit, report_id in bitbucket.reports] == ["aws-oidc-deploy-s3-sync-plan"]


def test_the_whole_report_goes_to_shared_storage_even_without_report(tmp_path, logged):
    items = [Item("added", f"f{n}", path=f"f{n}") for n in range(3000)]
    report.record(Report("s3-sync", "plan", "PENDING", "Plan", "3,000 files.", items=items))
    env = {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(tmp_path)}
    publish.publish(env, None, "s3-sync", True, "Done.")
    written = json.loads((tmp_path / "aws-oidc-deploy" / "report-s3-sync-plan.json").read_text())
    assert len(written["items"]) == 3000 and written["items"][2999]["name"] == "f2999"
    assert report.recorded() == ()


@pytest.mark.parametrize("fault", FAULTS)
def test_a_report_that_cannot_be_posted_is_one_warning_within_the_limit(bitbucket, logged, capsys, fault):
    log.setup(debug=True)  # no traceback even with DEBUG
    if fault == REFUSE:
        bitbucket.refuse()
    else:
        bitbucket.fault = fault
    report.record(plan(["a.html"]))
    started = time.monotonic()
    publish_now(pipelines(bitbucket), limit=LIMIT)
    assert time.monotonic() - started < BOUND
    output = logged.getvalue()
    warnings = [line for line in output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "not posted" in warnings[0], output
    assert "Traceback" not in output and "✖" not in capsys.readouterr().out
    # The toolkit's root handler is gone again: the pipe's redacting handler is the only one.
    assert logging.getLogger().handlers == [log._handler]
