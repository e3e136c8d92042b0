"""End to end: COMMAND=cloudfront-invalidate as a process against the moto server (CloudFront).

moto completes an invalidation at once and says "COMPLETED"; AWS says "InProgress", then
"Completed" (https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_Invalidation.html).
`aws_like_invalidations` makes moto answer as AWS does, so the wait is tested against both.
"""

import json
import threading

import pytest
from moto.cloudfront.exceptions import CloudFrontException
from moto.cloudfront.models import CloudFrontBackend

from test.support import aws, in_process
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.faults import FaultProxy, Rates, first, report


@pytest.fixture
def distribution(moto_server):
    return aws.new_distribution(moto_server.url)


@pytest.fixture
def cdn(distribution):
    return distribution[0]


@pytest.fixture
def distribution_id(distribution):
    return distribution[1]


@pytest.fixture
def invalidate_env(pipe_env, clone_dir, tmp_path, distribution_id):
    shared = tmp_path / "shared"
    shared.mkdir()
    return pipe_env | {
        "COMMAND": "cloudfront-invalidate",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "CLOUDFRONT_DISTRIBUTION_ID": distribution_id,
    }


def listed(name, items):
    """A YAML list as Bitbucket hands it to a pipe: NAME_COUNT, NAME_0, ..."""
    return {f"{name}_COUNT": str(len(items))} | {f"{name}_{i}": item for i, item in enumerate(items)}


def summary_of(env):
    path = f"{env['BITBUCKET_PIPE_SHARED_STORAGE_DIR']}/aws-oidc-deploy/cloudfront-invalidation.json"
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def invalidate(run, env):
    result = run(env)
    assert result.returncode == 0, result.output
    return result, summary_of(env)


def test_without_paths_the_whole_distribution_is_invalidated(run, invalidate_env, cdn, distribution_id):
    result, summary = invalidate(run, invalidate_env)
    assert aws.invalidated_paths(cdn, distribution_id, summary["invalidation_id"]) == ["/*"]
    assert summary["paths"] == ["/*"] and summary["completed"] is False
    assert result.last_line == (
        f"✔ Invalidation {summary['invalidation_id']} of {distribution_id} created for 1 path(s)."
    )
    assert "not waited for" in result.stdout


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        # Atlassian's PATHS style: one value, paths separated by spaces.
        ({"CLOUDFRONT_PATHS": "/index.html /about/ /assets/*"}, ["/index.html", "/about/", "/assets/*"]),
        # A YAML list, order kept, each path once, names outside ASCII as given.
        (
            listed("CLOUDFRONT_PATHS", ["/données/été.html", "/a%20b.css", "/index.html", "/index.html"]),
            ["/données/été.html", "/a%20b.css", "/index.html"],
        ),
        # `/*` covers the rest and is billed as one path.
        (listed("CLOUDFRONT_PATHS", ["/index.html", "/*"]), ["/*"]),
    ],
    ids=["plain-value", "yaml-list", "wildcard-absorbs"],
)
def test_the_given_paths_are_invalidated(run, invalidate_env, cdn, distribution_id, given, sent):
    _, summary = invalidate(run, invalidate_env | given)
    assert aws.invalidated_paths(cdn, distribution_id, summary["invalidation_id"]) == sent
    assert summary["paths"] == sent


@pytest.fixture
def aws_like_invalidations():
    """GetInvalidation answers "InProgress" for the first poll of each invalidation, then "Completed"
    in AWS's own casing. Returns the polls seen."""
    original = CloudFrontBackend.get_invalidation
    polls: list[str] = []
    lock = threading.Lock()

    def get_invalidation(self, dist_id, id):
        invalidation = original(self, dist_id, id)
        with lock:
            polls.append(id)
            invalidation.status = "InProgress" if polls.count(id) == 1 else "Completed"
        return invalidation

    CloudFrontBackend.get_invalidation = get_invalidation
    try:
        yield polls
    finally:
        CloudFrontBackend.get_invalidation = original


def test_wait_follows_aws_statuses_until_completed(run, invalidate_env, aws_like_invalidations):
    result, summary = invalidate(run, invalidate_env | {"CLOUDFRONT_WAIT": "true"})
    assert aws_like_invalidations == [summary["invalidation_id"]] * 2
    assert f"Invalidation {summary['invalidation_id']} is InProgress" in result.output
    assert summary["completed"] is True and summary["seconds_waited"] >= 0
    assert " completed for 1 path(s) in " in result.last_line


def test_wait_takes_motos_upper_case_completed(run, invalidate_env):
    result, summary = invalidate(run, invalidate_env | {"CLOUDFRONT_WAIT": "true"})
    assert summary["completed"] is True
    assert "completed in" in result.stdout


def test_a_distribution_that_does_not_exist_is_one_clear_line(run, invalidate_env, pipe_env):
    result = run(invalidate_env | {"CLOUDFRONT_DISTRIBUTION_ID": "E0DOESNOTEXIST"})
    assert_one_clear_failure(
        result,
        "CloudFront distribution E0DOESNOTEXIST does not exist in this account; check CLOUDFRONT_DISTRIBUTION_ID",
    )
    assert_no_secret(result.output, pipe_env["BITBUCKET_STEP_OIDC_TOKEN"])


@pytest.fixture
def invalidation_denied():
    """CreateInvalidation answers AccessDenied (HTTP 403, as CloudFront does); returns the calls."""
    original = CloudFrontBackend.create_invalidation
    calls: list[str] = []

    def create_invalidation(self, dist_id, paths, caller_ref):
        calls.append(dist_id)
        raise CloudFrontException(
            "AccessDenied",
            f"User: arn:aws:sts::{aws.ACCOUNT}:assumed-role/deploy/x is not authorized to perform: "
            f"cloudfront:CreateInvalidation on resource: arn:aws:cloudfront::{aws.ACCOUNT}:distribution/{dist_id}",
        )

    CloudFrontBackend.create_invalidation = create_invalidation
    try:
        yield calls
    finally:
        CloudFrontBackend.create_invalidation = original


def test_access_denied_fails_at_once_and_names_the_permission(run, invalidate_env, invalidation_denied):
    result = run(invalidate_env)
    line = assert_one_clear_failure(
        result, "AccessDenied: the role may not call cloudfront:CreateInvalidation"
    )
    assert invalidate_env["CLOUDFRONT_DISTRIBUTION_ID"] in line
    assert invalidation_denied == [invalidate_env["CLOUDFRONT_DISTRIBUTION_ID"]]  # not retried


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"CLOUDFRONT_DISTRIBUTION_ID": ""}, "CLOUDFRONT_DISTRIBUTION_ID is required"),
        ({"CLOUDFRONT_PATHS": "index.html"}, "CLOUDFRONT_PATHS must be paths that start with /"),
        ({"CLOUDFRONT_WAIT": "later"}, "CLOUDFRONT_WAIT must be true or false"),
    ],
)
def test_bad_input_is_one_clear_line_before_any_call(
    run, invalidate_env, invalidation_denied, extra, expected
):
    assert_one_clear_failure(run(invalidate_env | extra), expected)
    assert invalidation_denied == []


# Transient faults: the job's calls (STS, CreateInvalidation, GetInvalidation) through the fault
# proxy, as every job's happy path in test_faults_e2e.py.
FAULT_RUNS = 5


def test_invalidates_through_faults(run, invalidate_env, cdn, distribution_id, moto_server):
    with FaultProxy(moto_server.url, Rates.mixed(0.30, latency=0.10), seed=18) as proxy:
        for _ in range(FAULT_RUNS):
            result = run(invalidate_env | {"AWS_ENDPOINT_URL": proxy.url, "CLOUDFRONT_WAIT": "true"})
            assert result.returncode == 0, result.output
            summary = summary_of(invalidate_env)
            assert summary["completed"] is True
            assert aws.invalidated_paths(cdn, distribution_id, summary["invalidation_id"]) == ["/*"]
    report(f"cloudfront-invalidate ({FAULT_RUNS} runs)", proxy)
    assert sum(count for kind, count in proxy.faults.items() if kind != "latency") > 0, proxy.faults


@pytest.fixture
def caller_references():
    """The CallerReference of every CreateInvalidation that reached CloudFront, in order."""
    original = CloudFrontBackend.create_invalidation
    seen: list[str] = []

    def create_invalidation(self, dist_id, paths, caller_ref):
        seen.append(caller_ref)
        return original(self, dist_id, paths, caller_ref)

    CloudFrontBackend.create_invalidation = create_invalidation
    try:
        yield seen
    finally:
        CloudFrontBackend.create_invalidation = original


def test_each_invalidation_has_a_caller_reference_of_its_own(run, invalidate_env, caller_references):
    # CloudFront takes a known reference for the invalidation it already made: a fixed one would
    # make every later run report the first run's invalidation and invalidate nothing new.
    invalidate(run, invalidate_env)
    invalidate(run, invalidate_env)
    assert len(caller_references) == 2 and len(set(caller_references)) == 2, caller_references
    assert all(caller_references), caller_references


def test_a_retried_invalidation_keeps_its_caller_reference(
    run, invalidate_env, caller_references, moto_server
):
    # The first CreateInvalidation is carried out and its answer lost: the retry must carry the same
    # reference, so that CloudFront takes it for the invalidation it already made.
    def create_invalidation(request) -> bool:
        return request.service == "cloudfront" and request.method == "POST"

    with FaultProxy(moto_server.url, script=first("lost", create_invalidation)) as proxy:
        invalidate(run, invalidate_env | {"AWS_ENDPOINT_URL": proxy.url})
    assert [kind for _method, _path, kind in proxy.injected] == ["lost"]
    assert len(caller_references) == 2 and caller_references[0] == caller_references[1], caller_references


# The result report (pipe.report): its lines in the log, and what the publisher gets.
def test_the_result_report_names_the_paths_the_id_and_whether_it_completed(
    run, invalidate_env, distribution_id, monkeypatch, clone_dir
):
    paths = listed("CLOUDFRONT_PATHS", ["/index.html", "/assets/*"])
    result, summary = invalidate(run, invalidate_env | paths)
    invalidation_id = summary["invalidation_id"]
    assert (
        f"INFO: CloudFront invalidation on {distribution_id}: Invalidation {invalidation_id} on "
        f"{distribution_id} created, not waited for, 2 path(s)."
    ) in result.output
    assert "INFO:   done /index.html (created, not waited for)" in result.output

    _, reports = in_process.run(invalidate_env | paths | {"CLOUDFRONT_WAIT": "true"}, clone_dir, monkeypatch)
    [recorded] = [recorded for recorded in reports if recorded.phase == "result"]
    assert (recorded.job, recorded.outcome) == ("cloudfront-invalidate", "PASSED")
    fields = {field.title: field.value for field in recorded.fields}
    assert fields["Completed"] is True and fields["Paths"] == 2 and fields["Distribution"] == distribution_id
    assert [(item.change, item.name) for item in recorded.items] == [
        ("done", "/index.html"),
        ("done", "/assets/*"),
    ]
    assert (
        recorded.document["completed"] is True
        and recorded.document["invalidation_id"] == fields["Invalidation"]
    )
    assert len(recorded.fields) <= 6


def test_a_refused_invalidation_records_a_failed_result(run, invalidate_env, invalidation_denied):
    result = run(invalidate_env)
    assert_one_clear_failure(result, "AccessDenied")
    [line] = [
        line for line in result.output.splitlines() if line.startswith("INFO: CloudFront invalidation on")
    ]
    # The summary is the run's last line (what pipe.report.publish gives a failed job's result).
    assert line.endswith(f": {result.last_line.removeprefix('✖ ')}") and "AccessDenied" in line
    assert "INFO:   failed /* (not created)" in result.output
