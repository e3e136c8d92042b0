"""s3-sync's plan and result reports and its delete guard, against the moto server: as a process
(the log lines a user reads) and in-process through pipe.main.run (what pipe.report keeps for the
publisher)."""

import json
import re
import sys
import uuid

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from pipe import report
from pipe.common import log
from pipe.common.local_tree import LocalFile
from pipe.jobs.s3_sync import plan as s3_plan
from pipe.jobs.s3_sync import report as s3_report
from test.jobs.s3_sync.test_job import keys, summary_of
from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.in_process import run as in_process_run
from test.support.run import write_files

SITE = {
    "index.html": "<html>home</html>",  # 17 B
    "about/index.html": "<html>about</html>",  # 18 B
    "assets/app.js": "console.log('v1');",  # 18 B
}


@pytest.fixture
def site(clone_dir):
    return write_files(clone_dir / "build", SITE)


@pytest.fixture
def distribution(moto_server):
    return aws.new_distribution(moto_server.url)


@pytest.fixture
def in_process(monkeypatch, clone_dir):
    return lambda env: in_process_run(env, clone_dir, monkeypatch)


def _stale(s3, bucket, *relatives, body=b"x"):
    for relative in relatives:
        s3.put_object(Bucket=bucket, Key=f"www/{relative}", Body=body)


# --- the plan -------------------------------------------------------------------------------------
def test_a_dry_run_records_every_file_with_its_size_and_the_invalidation(
    in_process, sync_env, site, s3, bucket, distribution
):
    cloudfront, distribution_id = distribution
    _stale(s3, bucket, "old.css")  # 1 deleted of the 2 there: exactly the guard's half
    _stale(s3, bucket, "index.html", body=b"older")  # changed: another size
    message, recorded = in_process(
        sync_env | {"DRY_RUN": "true", "DELETE_FLAG": "true", "CLOUDFRONT_DISTRIBUTION_ID": distribution_id}
    )
    assert message.startswith("Dry run: 3 to upload, 0 unchanged, 1 to delete")
    [plan] = recorded
    assert (plan.job, plan.phase, plan.outcome) == ("s3-sync", "plan", "PENDING")
    assert [(item.change, item.name, item.size, item.detail) for item in plan.items] == [
        ("removed", "www/old.css", 1, "1 B"),
        ("changed", "www/index.html", 17, "17 B"),
        ("added", "www/about/index.html", 18, "18 B"),
        ("added", "www/assets/app.js", 18, "18 B"),
    ]
    assert plan.items[0].severity == "HIGH"
    assert len(plan.fields) <= 6
    assert {field.title: field.value for field in plan.fields} == {
        "New files": 2,
        "Changed files": 1,
        "Deleted files": 1,
        "To upload": "53 B",
        "Unchanged files": 0,
        "Invalidation paths": 6,
    }
    document = plan.document
    assert (document["new"], document["changed"], document["deleted"]) == (
        {"files": 2, "bytes": 36},
        {"files": 1, "bytes": 17},
        {"files": 1, "bytes": 1},
    )
    assert document["delete_guard"] == {"percent": 50, "present": 2, "deleting": 1, "refused": False}
    assert document["invalidation"] == {
        "distribution": distribution_id,
        "paths": ["/", "/about/", "/about/index.html", "/assets/app.js", "/index.html", "/old.css"],
    }
    assert f"Invalidation on {distribution_id} of 6 path(s): / /about/ /about/index.html" in plan.summary
    # A plan changes nothing: no upload, no deletion, no invalidation.
    assert keys(s3, bucket) == ["www/index.html", "www/old.css"]
    listed = cloudfront.list_invalidations(DistributionId=distribution_id)["InvalidationList"]
    assert listed.get("Quantity", 0) == 0


def test_the_plan_lines_in_the_log(run, sync_env, site, s3, bucket):
    for number in range(60):
        (site / "many" / f"{number:02d}.txt").parent.mkdir(exist_ok=True)
        (site / "many" / f"{number:02d}.txt").write_text("x" * number)
    _stale(s3, bucket, "gone.txt")
    _stale(s3, bucket, "index.html", body=b"older")
    result = run(sync_env | {"DRY_RUN": "true", "DELETE_FLAG": "true"})
    assert result.returncode == 0, result.output
    lines = result.output.splitlines()
    title = next(line for line in lines if "s3-sync plan for" in line)
    assert title.endswith(
        f"s3-sync plan for s3://{bucket}/www/ (dry run, nothing changed): 62 new (1.8 KB), "
        "1 changed (17 B), 1 deleted (1 B); 0 unchanged."
    )
    shown = [line.split("INFO:   ", 1)[1] for line in lines if line.startswith("INFO:   ")]
    # Deletions first, then what changes, then what is new; the log shows the first 50.
    assert shown[:4] == [
        "removed www/gone.txt (1 B)",
        "changed www/index.html (17 B)",
        "added www/about/index.html (18 B)",
        "added www/assets/app.js (18 B)",
    ]
    assert len(shown) == report.LOGGED_ITEMS + 1
    assert shown[-1] == "… and 14 more (all of them in the shared-storage file)."
    assert summary_of(sync_env)["dry_run"] is True


# --- the result -----------------------------------------------------------------------------------
def test_a_sync_records_its_result_with_duration_and_invalidation(
    in_process, sync_env, site, s3, bucket, distribution
):
    _, distribution_id = distribution
    env = sync_env | {
        "CLOUDFRONT_DISTRIBUTION_ID": distribution_id,
        "CLOUDFRONT_WAIT": "true",
        "S3_TRANSFER_CLIENT": "classic",  # in this process: the CRT is for the pipe's own processes
    }
    in_process(env)
    (site / "index.html").write_text("<html>HOME!</html>")
    _stale(s3, bucket, "old.css")
    _, recorded = in_process(env | {"DELETE_FLAG": "true"})
    [result] = recorded
    assert (result.phase, result.outcome) == ("result", "PASSED")
    assert [(item.change, item.name, item.size) for item in result.items] == [
        ("removed", "www/old.css", 1),
        ("changed", "www/index.html", 18),
    ]
    fields = {field.title: field for field in result.fields}
    assert len(result.fields) <= 6
    invalidation_id = fields["Invalidation"].value
    assert aws.invalidated_paths(distribution[0], distribution_id, invalidation_id)
    assert fields["Duration"].type == "DURATION" and fields["Duration"].value >= 0
    assert (fields["Changed files"].value, fields["Deleted files"].value, fields["Uploaded"].value) == (
        1,
        1,
        "18 B",
    )
    assert result.document["invalidation"]["completed"] is True
    assert result.summary.startswith("Synced in ")
    assert f"Invalidation {invalidation_id} on {distribution_id} (completed) of / /index.html /old.css" in (
        result.summary
    )
    assert keys(s3, bucket) == [f"www/{relative}" for relative in sorted(SITE)]


def test_a_sync_that_fails_records_a_failed_result(run, sync_env, site, s3, bucket):
    result = run(sync_env | {"CLOUDFRONT_DISTRIBUTION_ID": "E0DOESNOTEXIST"})
    assert_one_clear_failure(result, "The files are synced, but CloudFront distribution E0DOESNOTEXIST")
    [line] = [line for line in result.output.splitlines() if "s3-sync result for" in line]
    assert ": The files are synced, but CloudFront distribution E0DOESNOTEXIST" in line
    assert line.endswith("Done before it stopped: 3 of 3 uploads, 0 of 0 deletions.")


# --- the delete guard -----------------------------------------------------------------------------
@pytest.mark.parametrize("dry_run", ["false", "true"])
def test_deleting_more_than_half_is_refused_before_any_change(run, sync_env, site, s3, bucket, dry_run):
    _stale(s3, bucket, "gone-1.html", "gone-2.html")
    s3.put_object(Bucket=bucket, Key="www/index.html", Body=SITE["index.html"].encode())
    result = run(sync_env | {"DELETE_FLAG": "true", "DRY_RUN": dry_run})
    line = assert_one_clear_failure(
        result,
        f"DELETE_FLAG would delete 2 of the 3 objects under s3://{bucket}/www/ (67%), more than "
        "DELETE_GUARD_PERCENT allows (50%)",
    )
    assert "If that is meant, set DELETE_GUARD_PERCENT: '100'" in line
    assert line.startswith("✖ Dry run: ") == (dry_run == "true")
    assert keys(s3, bucket) == ["www/gone-1.html", "www/gone-2.html", "www/index.html"]  # nothing uploaded
    state = "dry run" if dry_run == "true" else "refused"
    assert f"s3-sync plan for s3://{bucket}/www/ ({state}, nothing changed): " in result.output
    assert "  removed www/gone-1.html (1 B)" in result.output
    assert "s3-sync result" not in result.output

    allowed = run(sync_env | {"DELETE_FLAG": "true", "DELETE_GUARD_PERCENT": "100", "DRY_RUN": dry_run})
    assert allowed.returncode == 0, allowed.output
    expected = ["www/gone-1.html", "www/gone-2.html", "www/index.html"] if dry_run == "true" else None
    assert keys(s3, bucket) == (expected or [f"www/{relative}" for relative in sorted(SITE)])


@st.composite
def _buckets(draw):
    """Objects under the prefix (kept ones match local files), some to delete, some outside the
    prefix, and a limit: the deletions at the limit's edge or one past it."""
    present = draw(st.integers(0, 6))
    percent = draw(st.sampled_from([0, 1, 33, 50, 67, 99, 100]))
    at_limit = present * percent // 100
    deleting = min(present, at_limit + draw(st.sampled_from([0, 1])))
    outside = draw(st.integers(0, 3))
    return present, deleting, percent, outside


@settings(max_examples=12, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_buckets())
@example((2, 1, 50, 0))  # exactly half
@example((3, 2, 50, 0))  # one more than half
@example((0, 0, 50, 0))  # an empty bucket
@example((2, 2, 50, 5))  # objects outside the prefix are not what is there
def test_the_guard_at_its_boundary_against_the_bucket(run, sync_env, clone_dir, s3, case):
    present, deleting, percent, outside = case
    bucket = f"edge-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    build = clone_dir / f"build-{bucket}"
    files = {f"kept-{number}.txt": "same" for number in range(present - deleting)} | {"new.txt": "new"}
    write_files(build, files)
    for relative, text in files.items():
        if relative != "new.txt":
            s3.put_object(Bucket=bucket, Key=f"www/{relative}", Body=text.encode())
    for number in range(deleting):
        s3.put_object(Bucket=bucket, Key=f"www/gone-{number}.txt", Body=b"x")
    for number in range(outside):
        s3.put_object(Bucket=bucket, Key=f"www-other/{number}.txt", Body=b"x")
    result = run(
        sync_env
        | {
            "S3_BUCKET": f"{bucket}/www",
            "LOCAL_PATH": build.name,
            "DELETE_FLAG": "true",
            "DELETE_GUARD_PERCENT": str(percent),
            "DRY_RUN": "true",
        }
    )
    if deleting * 100 > percent * present:
        line = assert_one_clear_failure(result, f"would delete {deleting} of the {present} objects")
        assert f"more than DELETE_GUARD_PERCENT allows ({percent}%)" in line
        assert "(dry run, nothing changed): Dry run: DELETE_FLAG would delete" in result.output
    else:
        assert result.returncode == 0, result.output
        assert f"{deleting} to delete of {present - deleting + 1} files" in result.last_line


# --- secrets in file names ------------------------------------------------------------------------
PLANTED_KEY = "Planted+Secret-Key.9876543210abcdefXYZ"


def test_a_secret_in_a_file_name_is_masked_in_the_plan_and_the_result(run, sync_env, site, s3, bucket):
    env = {name: value for name, value in sync_env.items() if name not in ("AWS_OIDC_ROLE_ARN",)}
    env |= {"AWS_ACCESS_KEY_ID": "AKIAPLANTEDKEY000001", "AWS_SECRET_ACCESS_KEY": PLANTED_KEY}
    (site / f"report-{PLANTED_KEY}.html").write_text("x")
    _stale(s3, bucket, f"old-{PLANTED_KEY}.css")
    s3.put_object(Bucket=bucket, Key="www/index.html", Body=SITE["index.html"].encode())
    planned = run(env | {"DRY_RUN": "true", "DELETE_FLAG": "true"})
    assert planned.returncode == 0, planned.output
    assert "  added www/report-****.html (1 B)" in planned.output
    assert "  removed www/old-****.css (1 B)" in planned.output
    assert_no_secret(planned.output, PLANTED_KEY)

    (site / f"report-{PLANTED_KEY}.html").unlink()
    synced = run(env | {"DELETE_FLAG": "true"})
    assert synced.returncode == 0, synced.output
    assert "  removed www/old-****.css (1 B)" in synced.output
    assert_no_secret(synced.output, PLANTED_KEY)


# What a file name can hold and scan() lets through as a key (no backslash: keys.check_relative).
_NAME_CHARACTERS = st.characters(codec="utf-8", exclude_characters="/\\\x00", exclude_categories=["Cs"])


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=100)
@given(
    secret=st.text(alphabet=_NAME_CHARACTERS, min_size=12, max_size=40).filter(lambda s: s.strip() == s),
    before=st.text(alphabet=_NAME_CHARACTERS, max_size=8),
    after=st.text(alphabet=_NAME_CHARACTERS, max_size=8),
)
@example(secret="line\nbreak\n✔ Deployed-secret", before="", after=".html")
def test_no_form_of_a_registered_secret_in_a_name_reaches_the_plan_lines(secret, before, after, capsys):
    """Whatever a name holds around a registered secret, what record() writes shows it masked."""
    registered = log._table
    log.setup()
    capsys.readouterr()
    stream = log._handler.setStream(sys.stderr)  # capsys's, which also gets anything printed
    try:
        log.register_secret(secret)
        name = f"{before}{secret}{after}"
        assume(name not in (".", ".."))
        changes = s3_plan.Plan(
            new=[LocalFile(relative=name, root="/nowhere", size=3)],
            deletions=[s3_plan.Remote(f"www/{name}", 5)],
            present=2,
        )
        planned = s3_report.Planned("site", "www", changes, 0, 1, [], "", 50)
        s3_report.record_plan(planned, dry_run=True, refusal=None)
    finally:
        log._handler.setStream(stream)
        log._table = registered
        report.forget()
    out, err = capsys.readouterr()
    written = re.sub(r"\x1b\[[0-9;]*m", "", out + err)
    assert_no_secret(written, secret)
    assert written.count("\n") == 3  # the title and the two items, each one line


# What pipe.report.publish makes of s3-sync's reports: the shared-storage file and the Code Insights stand-in.
def test_the_whole_plan_in_shared_storage_with_a_secret_name_masked(run, pipe_env, clone_dir, tmp_path, s3):
    bucket = f"store-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    site = write_files(clone_dir / "build", SITE | {f"many/{n:03d}.txt": "x" for n in range(120)})
    (site / f"report-{PLANTED_KEY}.html").write_text("x")
    shared = tmp_path / "shared"
    shared.mkdir()
    env = {k: v for k, v in pipe_env.items() if k != "AWS_OIDC_ROLE_ARN"} | {
        "AWS_ACCESS_KEY_ID": "AKIAPLANTEDKEY000001",
        "AWS_SECRET_ACCESS_KEY": PLANTED_KEY,
        "COMMAND": "s3-sync",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "DRY_RUN": "true",
    }
    result = run(env)
    assert result.returncode == 0, result.output
    text = (shared / "aws-oidc-deploy" / "report-s3-sync-plan.json").read_text()
    written = json.loads(text)
    assert written["outcome"] == "PENDING" and len(written["items"]) == len(SITE) + 121
    assert "www/report-****.html" in [item["name"] for item in written["items"]]
    assert_no_secret(text, PLANTED_KEY)


def test_a_plan_of_1500_files_and_a_sync_are_accepted_by_the_stand_in(run, pipe_env, clone_dir, tmp_path, s3):
    from test.report.test_publish import pipelines
    from test.support.codeinsights import CodeInsightsStandIn
    from test.support.job_env import COMMIT

    bucket = f"store-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    write_files(clone_dir / "build", {f"many/{n:04d}.txt": "x" * (n % 50) for n in range(1500)})
    shared = tmp_path / "shared"
    shared.mkdir()
    with CodeInsightsStandIn() as bitbucket:
        env = (
            pipe_env
            | pipelines(bitbucket, "production")
            | {
                "COMMAND": "s3-sync",
                "BITBUCKET_CLONE_DIR": str(clone_dir),
                "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
                "S3_BUCKET": f"{bucket}/www",
                "LOCAL_PATH": "build",
            }
        )
        planned = run(env | {"DRY_RUN": "true"})
        assert planned.returncode == 0, planned.output
        synced = run(env)
        assert synced.returncode == 0, synced.output
        plan = bitbucket.reports[(COMMIT, "aws-oidc-deploy-s3-sync-production-plan")]
        result = bitbucket.reports[(COMMIT, "aws-oidc-deploy-s3-sync-production-result")]
        annotations = bitbucket.annotations(COMMIT, "aws-oidc-deploy-s3-sync-production-plan")
        assert result["result"] == "PASSED" and plan["result"] == "PENDING"
        # Bitbucket takes 1,000 annotations per report: the rest are counted, not lost (the file has them).
        assert len(annotations) == 1000 and "500" in plan["details"], plan["details"]
    written = json.loads((shared / "aws-oidc-deploy" / "report-s3-sync-plan.json").read_text())
    assert len(written["items"]) == 1500
