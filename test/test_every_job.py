# ruff: noqa: F811 (each job's bench fixtures are imported here and named again as test arguments)
"""Issue 24's "Done when" 1-4 for every job at once, end to end: the pipe as a process (test/support/run.py:
DEBUG=true, leak-scanned, what the Code Insights stand-in received included) posting through the stand-in.

Each job's own bench is reused as it is (its fixtures, and where a job's test already makes the case, that
test itself, run again with the Pipelines variables added); what is asserted here is what the stand-in and
the shared-storage file got. Already proven elsewhere, so not repeated here:
- the publisher's 10,000 items in batches of 100, in process: test/report/test_publish.py
  (test_a_plan_of_ten_thousand_files_is_posted_in_batches_within_bitbuckets_limits);
- proxy down, 400, 500 and a hanging proxy for a job that succeeds, as a process, and in process with DEBUG:
  test/report/test_publish.py (test_a_report_that_cannot_be_posted_never_changes_the_exit_status,
  test_a_report_that_cannot_be_posted_is_one_warning_within_the_limit), and SIGTERM while one hangs;
- the OIDC token as a CloudFront path: test/report/test_publish.py.
"""

import base64
import json
import time
from pathlib import Path

import pytest

from pipe.report import payload
from pipe.report import publish as publisher
from test.jobs.beanstalk import test_job as beanstalk_bench
from test.jobs.beanstalk.test_job import (  # noqa: F401 (fixtures)
    app_dir,
    eb,
    eb_env,
    environment,
    names,  # also the ECS bench's cluster and service names: any two unique names do
    old_version,
)
from test.jobs.cdk import test_job as cdk_bench
from test.jobs.cdk.test_job import app, bootstrapped, cdk_env, cloudformation_fixes, tools  # noqa: F401
from test.jobs.ecs import test_job as ecs_bench
from test.jobs.ecs.test_job import ecs, ecs_env, service  # noqa: F401 (fixtures)
from test.jobs.helm.conftest import certificates, cluster, helm_bin, helm_env  # noqa: F401 (fixtures)
from test.jobs.kubectl import test_reports as kubectl_bench
from test.jobs.kubectl.test_reports import env as kubectl_env  # noqa: F401 (a fixture)
from test.jobs.s3_sync import test_report as s3_bench
from test.jobs.s3_sync.conftest import bucket, sync_env  # noqa: F401 (fixtures)
from test.jobs.s3_sync.test_report import site  # noqa: F401 (fixtures)
from test.report.test_publish import FAULTS, bitbucket, invalidate_env, pipelines  # noqa: F401
from test.support import leaks
from test.support.beanstalk import FAIL
from test.support.codeinsights import REFUSE, CodeInsightsStandIn
from test.support.encodings import FORMS
from test.support.job_env import COMMIT
from test.support.run import write_files

ENVIRONMENT = "production"
# The plan mode each job has, as the extra variables of its plan run. None: the job has no plan mode
# (cloudfront-invalidate: an invalidation changes no content; its result is the report).
PLAN_RUNS: dict[str, dict[str, str] | None] = {
    "s3-sync": {"DRY_RUN": "true"},
    "kubectl": {"DRY_RUN": "true"},
    "cdk": {"CDK_COMMAND": "diff"},
    "helm": {"HELM_ACTION": "diff"},
    "beanstalk": {"DRY_RUN": "true"},
    "ecs": {"DRY_RUN": "true"},
    "cloudfront-invalidate": None,
}


def report_id(job: str, phase: str) -> str:
    return f"aws-oidc-deploy-{job}-{ENVIRONMENT}-{phase}"


def with_shared(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The env with a shared-storage directory, where the job's bench gives it none."""
    if "BITBUCKET_PIPE_SHARED_STORAGE_DIR" in env:
        return env
    shared = tmp_path / "shared"
    shared.mkdir(exist_ok=True)
    return env | {"BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared)}


def refused(standin: CodeInsightsStandIn, since: int = 0) -> list[str]:
    """Requests the stand-in answered with an error (a DELETE of a report not there yet is the API's way)."""
    return [
        f"{r.method} {r.url} → {r.status}: {r.body[:300]!r}"
        for r in standin.requests[since:]
        if r.status >= 400 and not (r.method == "DELETE" and r.status == 404)
    ]


def shared_report(env: dict[str, str], job: str, phase: str) -> dict:
    path = Path(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"], "aws-oidc-deploy", f"report-{job}-{phase}.json")
    return json.loads(path.read_text(encoding="utf-8"))


def assert_accepted(standin: CodeInsightsStandIn, env: dict[str, str], job: str, phase: str) -> dict:
    """The report stored under its id, within Bitbucket's limits, its annotations all there, and the
    shared-storage file holding every item (each annotated change among them)."""
    stored = standin.reports.get((COMMIT, report_id(job, phase)))
    assert stored is not None, f"no {report_id(job, phase)}: {sorted(standin.reports)}"
    annotations = standin.annotations(COMMIT, report_id(job, phase))
    written = shared_report(env, job, phase)
    assert written["job"] == job and written["phase"] == phase and stored["result"] == written["outcome"]
    changes = [item for item in written["items"] if item["change"] != "unchanged"]
    assert len(annotations) == min(len(changes), payload.MAX_ANNOTATIONS), (len(annotations), len(changes))
    summaries = {f"{item['change']} {item['name']}" for item in changes}
    # Failure messages name an annotation by its id, never by its text: the text may be the leak.
    for annotation in annotations:
        size, cut = len(annotation["summary"]), annotation["summary"].removesuffix("…")
        assert size <= payload.MAX_SUMMARY, annotation["external_id"]
        found = any(summary.startswith(cut) for summary in summaries)
        assert found, f"{annotation['external_id']}: no such item in the shared-storage file"
    assert len(stored["details"]) <= payload.MAX_SUMMARY and len(stored["data"]) <= payload.MAX_FIELDS
    return stored


def posted(run, standin: CodeInsightsStandIn, env: dict[str, str], job: str, phase: str, status: int = 0):
    """One run of the pipe; every report it posted is accepted, `phase`'s among them."""
    since = len(standin.requests)
    result = run(env)
    assert result.returncode == status, result.output
    assert refused(standin, since) == [], result.output
    put = {r.url.rsplit("/", 1)[-1] for r in standin.requests[since:] if r.method == "PUT"}
    assert report_id(job, phase) in put, (put, result.output)
    for each in sorted(put):
        assert_accepted(standin, env, job, each.rsplit("-", 1)[-1])
    assert "Code Insights: " in result.output and "not posted" not in result.output, result.output
    return result


def plan_then_deploy(run, standin, env, job):
    """The job's plan run (where it has a plan mode: PLAN_RUNS), then the same step without it."""
    if PLAN_RUNS[job] is not None:
        posted(run, standin, env | PLAN_RUNS[job], job, "plan")
    return posted(run, standin, env, job, "result")


def sent(standin: CodeInsightsStandIn) -> bytes:
    return b"\n".join(f"{r.url}\n{r.headers!r}\n".encode() + r.body for r in standin.requests)


def assert_never_sent(standin: CodeInsightsStandIn, *secrets: str) -> None:
    """None of `secrets` in what the stand-in received: through the leak scan's decoder, and apart from
    it, each standard-library encoding of test/support/encodings.py searched for as such (the secret's
    own part of a base64 form: its first and last four characters hold the bytes around it)."""
    data = sent(standin)
    assert data, "the stand-in received nothing: nothing was checked"
    # Found by name and form only, and asserted through plain names, so that pytest's explanation of a
    # failure never shows the values (the test log must not become the leak).
    found = leaks.hits(data, [leaks.Secret(f"planted {n}", s) for n, s in enumerate(secrets)])
    assert found == []
    text = data.decode("utf-8", "replace")
    for secret in secrets:
        for form, encode in FORMS.items():
            if "wrapped" in form:
                continue  # a line break inside: the decoder's views above take it out
            needle = encode(secret)[4:-4] if form.startswith("base64") else encode(secret)
            leaked = needle in text
            assert not leaked, f"planted secret {secret[:4]}… sent to Code Insights ({form})"


# --- 1. Every job: its plan and its result, accepted, and the whole of each in shared storage. ---------


def test_s3_sync(run, sync_env, site, bitbucket):
    plan_then_deploy(run, bitbucket, sync_env | pipelines(bitbucket, ENVIRONMENT), "s3-sync")
    planned = [item["name"] for item in shared_report(sync_env, "s3-sync", "plan")["items"]]
    assert sorted(planned) == sorted(f"www/{path}" for path in s3_bench.SITE)


def test_kubectl(run, kubectl_env, tmp_path, bitbucket):
    env = with_shared(kubectl_env, tmp_path) | pipelines(bitbucket, ENVIRONMENT)
    plan_then_deploy(run, bitbucket, env, "kubectl")
    assert any(
        item["name"].startswith("Deployment web") for item in shared_report(env, "kubectl", "plan")["items"]
    )


def test_cdk_and_a_secret_in_its_output(run, cdk_env, app, bootstrapped, bitbucket):
    """One diff and one deploy (the slowest job); the deploy's output holds a connection string's
    password, which the report masks (item 4)."""
    password = cdk_bench.PLANTED
    connection = f"postgres://app:{password}@db.example:5432/app"
    env = cdk_bench.with_context(cdk_env | pipelines(bitbucket, ENVIRONMENT), f"outputValue={connection}")
    plan_then_deploy(run, bitbucket, env, "cdk")
    name = cdk_bench.stack_name(cdk_env)
    assert_never_sent(bitbucket, password)
    details = [a.get("details", "") for a in bitbucket.annotations(COMMIT, report_id("cdk", "result"))]
    masked = "postgres://****@db.example:5432/app" in details
    assert masked, "the output is not among the annotations, masked"  # values left out: they may leak
    assert any(item["name"] == f"{name}.Extra" for item in shared_report(env, "cdk", "result")["items"])


def test_beanstalk(run, eb_env, environment, old_version, app_dir, bitbucket):
    plan_then_deploy(run, bitbucket, eb_env | pipelines(bitbucket, ENVIRONMENT), "beanstalk")
    assert bitbucket.reports[(COMMIT, report_id("beanstalk", "result"))]["result"] == "PASSED"


def test_ecs(run, ecs_env, service, bitbucket):
    env = ecs_env | pipelines(bitbucket, ENVIRONMENT) | {"IMAGES": f"web={ecs_bench.NEW_IMAGE}"}
    plan_then_deploy(run, bitbucket, env, "ecs")
    assert bitbucket.reports[(COMMIT, report_id("ecs", "result"))]["result"] == "PASSED"


def test_cloudfront_invalidate(run, invalidate_env, bitbucket):
    plan_then_deploy(run, bitbucket, invalidate_env, "cloudfront-invalidate")


def test_helm(run, helm_env, cluster, tmp_path, bitbucket):
    env = with_shared(helm_env, tmp_path) | pipelines(bitbucket, ENVIRONMENT)
    plan_then_deploy(run, bitbucket, env, "helm")
    assert bitbucket.reports[(COMMIT, report_id("helm", "result"))]["result"] == "PASSED"


# --- 2. Plans too big for Bitbucket: 1,000 annotations in batches of 100, the rest counted. ----------


def assert_within_limits(standin: CodeInsightsStandIn, env: dict[str, str], job: str, count: int) -> None:
    identifier = report_id(job, "plan")
    batches = [json.loads(r.body) for r in standin.requests if r.method == "POST" and identifier in r.url]
    assert [len(batch) for batch in batches] == [100] * 10
    stored = assert_accepted(standin, env, job, "plan")
    assert f"{count - payload.MAX_ANNOTATIONS:,} more item(s) not annotated" in stored["details"]
    assert f"all in aws-oidc-deploy/report-{job}-plan.json" in stored["details"]
    assert len(shared_report(env, job, "plan")["items"]) == count


def test_a_dry_run_of_ten_thousand_files(run, sync_env, bitbucket):
    """In process the publisher does it (test_publish.py); here the job's own plan of 10,000 new files."""
    count = 10_000
    write_files(
        Path(sync_env["BITBUCKET_CLONE_DIR"], "build"), {f"many/{n:05d}.txt": "x" for n in range(count)}
    )
    env = sync_env | pipelines(bitbucket, ENVIRONMENT) | {"DRY_RUN": "true"}
    posted(run, bitbucket, env, "s3-sync", "plan")
    assert_within_limits(bitbucket, env, "s3-sync", count)


def test_a_diff_of_two_thousand_changed_objects(
    run, kubectl_env, eks_cluster, clone_dir, tmp_path, bitbucket
):
    """kubectl's own test of a 2,000-object plan on the control plane, run again through the stand-in."""
    env = with_shared(kubectl_env, tmp_path) | pipelines(bitbucket, ENVIRONMENT)
    kubectl_bench.test_a_plan_of_two_thousand_changed_objects(run, env, eks_cluster, clone_dir)
    assert refused(bitbucket) == []
    assert_within_limits(bitbucket, env, "kubectl", 2000)


# --- 3. A report that cannot be posted, for a job that FAILS (test_publish.py has one that succeeds). ---


@pytest.mark.parametrize("fault", FAULTS)
def test_a_failing_job_keeps_its_own_exit_status_when_its_report_cannot_be_posted(
    run, invalidate_env, bitbucket, fault
):
    if fault == REFUSE:
        bitbucket.refuse()
    else:
        bitbucket.fault = fault
    started = time.monotonic()
    result = run(invalidate_env | {"CLOUDFRONT_DISTRIBUTION_ID": "E2NOSUCHDISTRIBUTION"})
    elapsed = time.monotonic() - started
    assert result.returncode == 1, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "not posted" in warnings[0], result.output
    failures = [line for line in result.output.splitlines() if line.startswith("✖")]
    assert len(failures) == 1, result.output
    assert "Traceback" not in result.output and 'File "' not in result.output
    assert elapsed < publisher.REPORT_LIMIT_SECONDS + 20, elapsed
    assert bitbucket.reports == {}


# --- 4. Secrets the reports carry masked, in no encoding at the stand-in. -------------------------------
# (The CDK output: test_cdk_and_a_secret_in_its_output above.) The leak scan of every run already reads
# the stand-in's requests (leaks.RECEIVERS, filled by CodeInsightsStandIn) for the run's own secrets; a
# value the job masks as a kind (a Secret's data, a URL's password) is not one of them, so it is
# searched for here directly, as is every secret below.


def test_a_secret_in_a_file_name(run, sync_env, site, s3, bucket, bitbucket):
    """s3-sync's own test of a secret key in a file name (a plan, then a sync), through the stand-in."""
    s3_bench.test_a_secret_in_a_file_name_is_masked_in_the_plan_and_the_result(
        run, sync_env | pipelines(bitbucket, ENVIRONMENT), site, s3, bucket
    )
    assert refused(bitbucket) == []
    plan = bitbucket.annotations(COMMIT, report_id("s3-sync", "plan"))
    assert "added www/report-****.html" in [a["summary"] for a in plan]
    assert bitbucket.reports[(COMMIT, report_id("s3-sync", "result"))]["result"] == "PASSED"
    assert_never_sent(bitbucket, s3_bench.PLANTED_KEY)


def test_a_secret_in_a_manifest(
    run, kubectl_env, eks_cluster, clone_dir, monkeypatch, capfd, tmp_path, bitbucket
):
    """kubectl's own test of a plan with a changed Secret, through the stand-in: the Secret's data, and
    the annotation kubectl's client-side apply keeps on it (last-applied-configuration, which holds the
    data as written), both change, and neither value is sent."""
    env = with_shared(kubectl_env, tmp_path) | pipelines(bitbucket, ENVIRONMENT)
    kubectl_bench.test_a_plan_names_each_change_where_its_object_starts_and_masks_the_secret(
        run, env, eks_cluster, clone_dir, monkeypatch, capfd
    )
    applied = eks_cluster.object("", "v1", "secrets", "web-secret")["metadata"]["annotations"]
    last_applied = applied["kubectl.kubernetes.io/last-applied-configuration"]
    holds = kubectl_bench.PLANTED_BEFORE in last_applied
    assert holds, "the last-applied annotation does not hold the Secret's data: nothing planted there"
    assert refused(bitbucket) == []
    assert_never_sent(
        bitbucket,
        kubectl_bench.PLANTED_BEFORE,
        kubectl_bench.PLANTED_AFTER,
        base64.b64encode(kubectl_bench.PLANTED_AFTER.encode()).decode(),  # as the Secret's data holds it
    )
    plan = bitbucket.annotations(COMMIT, report_id("kubectl", "plan"))
    [secret] = [a for a in plan if a["summary"].startswith("changed Secret web-secret")]
    hidden = secret["details"] == "data.password (value hidden)"
    assert hidden, "the Secret's annotation does not say its value is hidden"


def test_a_secret_in_an_event_message(run, eb_env, eb, environment, old_version, app_dir, bitbucket):
    """An instance's command output quotes the step's OIDC token in an ERROR event: the failed result
    carries the event, masked."""
    token = eb_env["BITBUCKET_STEP_OIDC_TOKEN"]
    label = beanstalk_bench.label_of(eb_env)
    eb.state.outcomes[label] = FAIL
    eb.state.deploy_events[label] = [("ERROR", f"Command failed: export TOKEN={token}\nexit 1")]
    posted(run, bitbucket, eb_env | pipelines(bitbucket, ENVIRONMENT), "beanstalk", "result", status=1)
    result = bitbucket.reports[(COMMIT, report_id("beanstalk", "result"))]
    assert result["result"] == "FAILED"
    assert_never_sent(bitbucket, token)
    events = [
        a
        for a in bitbucket.annotations(COMMIT, report_id("beanstalk", "result"))
        if "TOKEN=" in a.get("details", "")
    ]
    masked = bool(events) and all("TOKEN=****" in a["details"] for a in events)
    assert masked, "the ERROR event is not among the annotations, masked"
