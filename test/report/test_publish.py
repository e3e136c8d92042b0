"""pipe.report.publish: in process against the Code Insights stand-in (replacing, ids, the time limit,
the toolkit's habits taken away), then end to end through the pipe with cloudfront-invalidate."""

import io
import json
import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from pipe import report
from pipe.common import log
from pipe.report import Field, Item, Report, post, publish
from pipe.report import settings as report_settings
from test.support import aws
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


def test_a_plan_of_ten_thousand_files_is_posted_in_batches_within_bitbuckets_limits(bitbucket, logged):
    report.record(plan([f"site/page-{n}.html" for n in range(10_000)]))
    publish_now(pipelines(bitbucket))
    report_id = "aws-oidc-deploy-s3-sync-plan"
    assert len(bitbucket.annotations(COMMIT, report_id)) == 1000
    posts = [r for r in bitbucket.requests if r.method == "POST"]
    assert len(posts) == 10 and all(r.status == 200 for r in posts)
    assert "9,000 more item(s) not annotated" in bitbucket.reports[(COMMIT, report_id)]["details"]


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


# --- End to end: the pipe as a process (test/support/run.py: DEBUG=true, leak-scanned, the stand-in's
# requests included), with cloudfront-invalidate, the simplest job that reports.


@pytest.fixture
def invalidate_env(pipe_env, clone_dir, tmp_path, moto_server, bitbucket):
    shared = tmp_path / "shared"
    shared.mkdir()
    _cdn, distribution_id = aws.new_distribution(moto_server.url)
    return (
        pipe_env
        | pipelines(bitbucket, "production")
        | {
            "COMMAND": "cloudfront-invalidate",
            "BITBUCKET_CLONE_DIR": str(clone_dir),
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
            "CLOUDFRONT_DISTRIBUTION_ID": distribution_id,
            "CLOUDFRONT_PATHS": "/index.html /assets/*",
        }
    )


RESULT_ID = "aws-oidc-deploy-cloudfront-invalidate-production-result"


def test_the_pipe_posts_its_result_the_stand_in_accepts(run, invalidate_env, bitbucket):
    result = run(invalidate_env)
    assert result.returncode == 0, result.output
    # DELETE (none yet: 404), PUT, one POST of its annotations.
    assert [request.status for request in bitbucket.requests] == [404, 200, 200], result.output
    posted = bitbucket.reports[(COMMIT, RESULT_ID)]
    assert posted["result"] == "PASSED" and "2 path(s)" in posted["details"]
    assert {"title": "Completed", "type": "BOOLEAN", "value": False} in posted["data"]
    assert [a["summary"] for a in bitbucket.annotations(COMMIT, RESULT_ID)] == [
        "done /index.html",
        "done /assets/*",
    ]
    shared = invalidate_env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"]
    with open(
        f"{shared}/aws-oidc-deploy/report-cloudfront-invalidate-result.json", encoding="utf-8"
    ) as stream:
        assert [item["name"] for item in json.load(stream)["items"]] == ["/index.html", "/assets/*"]
    assert "Code Insights: " in result.output and "Traceback" not in result.output


def test_a_job_that_fails_posts_a_failed_result_with_its_last_line(run, invalidate_env, bitbucket):
    result = run(invalidate_env | {"CLOUDFRONT_DISTRIBUTION_ID": "E2NOSUCHDISTRIBUTION"})
    assert result.returncode == 1, result.output
    failed = bitbucket.reports[(COMMIT, RESULT_ID)]
    assert failed["result"] == "FAILED"
    assert failed["details"] in result.last_line


def test_report_false_posts_nothing_and_still_writes_the_files(run, invalidate_env, bitbucket):
    result = run(invalidate_env | {"REPORT": "false"})
    assert result.returncode == 0, result.output
    assert bitbucket.requests == []
    shared = invalidate_env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"]
    assert sorted(path.name for path in Path(shared, "aws-oidc-deploy").iterdir()) == [
        "cloudfront-invalidation.json",
        "report-cloudfront-invalidate-result.json",
    ]


def test_the_oidc_token_as_a_path_never_reaches_the_stand_in(run, invalidate_env, bitbucket):
    """The leak scan (run_pipe) reads what the stand-in received: the token there fails the test."""
    token = invalidate_env["BITBUCKET_STEP_OIDC_TOKEN"]
    result = run(invalidate_env | {"CLOUDFRONT_PATHS": f"/{token}"})
    assert result.returncode == 0, result.output
    assert bitbucket.reports[(COMMIT, RESULT_ID)]
    # The token is longer than an annotation's summary: what is sent is masked before it is cut, so
    # not even its first part is there (the scan looks for it whole or cut by a character or two).
    assert any(b"done /****" in request.body for request in bitbucket.requests)
    assert not any(token[:40].encode() in request.body for request in bitbucket.requests)


@pytest.mark.parametrize("fault", FAULTS)
def test_a_report_that_cannot_be_posted_never_changes_the_exit_status(run, invalidate_env, bitbucket, fault):
    if fault == REFUSE:
        bitbucket.refuse()
    else:
        bitbucket.fault = fault
    started = time.monotonic()
    result = run(invalidate_env)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "not posted" in warnings[0], result.output
    assert "Traceback" not in result.output and 'File "' not in result.output
    assert result.last_line.startswith("✔ Invalidation ")
    # Posting never takes longer than its limit; the rest is the job (a few seconds against moto).
    assert elapsed < publish.REPORT_LIMIT_SECONDS + 20, elapsed


def test_a_report_a_job_built_wrong_is_one_warning_not_a_failed_step(bitbucket, logged):
    wrong = Item("changed", "x", severity=["HIGH"])  # type: ignore[arg-type]
    report.record(Report("s3-sync", "plan", "PENDING", "Plan", "x", items=[wrong]))
    publish_now(pipelines(bitbucket))
    assert "Reports not published: TypeError" in logged.getvalue()
    assert bitbucket.requests == []


def test_a_signal_while_the_poster_starts_is_said_in_one_warning(bitbucket, logged, monkeypatch):
    """The poster can send its first request before Thread.start() returns: the step's SIGTERM in that
    window is a signal while posting like any other (one warning, then the run stops). Seen in a full
    run: the warning was missing when the signal came there."""
    import threading

    from pipe.common import signals

    started = threading.Thread.start

    def start_then_stopped(thread):
        started(thread)
        if thread.name == "code-insights":
            raise signals.Stopped(signal.SIGTERM)

    monkeypatch.setattr(threading.Thread, "start", start_then_stopped)
    report.record(plan(["site/index.html"]))
    with pytest.raises(signals.Stopped):
        publish_now(pipelines(bitbucket))
    warnings = [line for line in logged.getvalue().splitlines() if "not posted" in line]
    assert len(warnings) == 1 and "not posted: interrupted" in warnings[0], logged.getvalue()


def test_sigterm_while_a_report_hangs_ends_as_stopped_with_one_warning(invalidate_env, bitbucket, clone_dir):
    """The step's SIGTERM while the proxy holds a request: the run ends as any stopped run does (143,
    one ✖ line), after one warning that the report was not posted."""
    bitbucket.fault = HANG
    process = subprocess.Popen(
        [sys.executable, "-m", "pipe"],
        env=invalidate_env | {"DEBUG": "true"},
        cwd=clone_dir,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not bitbucket.requests:  # polled, not slept on: the pipe has sent its first request
            assert time.monotonic() < deadline and process.poll() is None, "no request reached the stand-in"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 143, output
    assert [line for line in output.splitlines() if "✖" in line][-1].endswith("Stopped by SIGTERM.\x1b[0m"), (
        output
    )
    warnings = [line for line in output.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "not posted: interrupted" in warnings[0], output
    assert "Traceback" not in output


# --- The CodeInsights instance the pipe makes: its bounded client, its way in.

PROXIED = report_settings.Settings("team", "repo", "abc", "", "http://host.docker.internal:29418", None)
WITH_TOKEN = report_settings.Settings("team", "repo", "abc", "", None, "a-token-1234567890")


def test_through_the_auth_proxy_every_request_goes_through_it_and_nothing_else_applies():
    insights, _chunks = publish.code_insights(PROXIED, time.monotonic() + 5)
    client = insights.http_client
    assert isinstance(client, post.BoundedClient)
    assert client.proxies == {"http": PROXIED.proxy, "https": PROXIED.proxy}
    assert client.session.trust_env is False and insights.auth is None and insights.url_scheme == "http"


def test_outside_pipelines_the_token_goes_to_the_api_over_https():
    insights, _chunks = publish.code_insights(WITH_TOKEN, time.monotonic() + 5)
    prepared = requests.Request("GET", "https://api.bitbucket.org/", auth=insights.auth).prepare()
    assert prepared.headers["Authorization"] == "Bearer a-token-1234567890"
    assert insights.url_scheme == "https" and insights.http_client.proxies == {}


def test_the_toolkits_divide_chunks_makes_batches_of_100():
    _insights, divide_chunks = publish.code_insights(PROXIED, time.monotonic() + 5)
    assert [len(batch) for batch in divide_chunks(list(range(250)), 100)] == [100, 100, 50]
