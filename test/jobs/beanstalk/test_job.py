"""End to end: COMMAND=beanstalk as a process, S3 on the moto server, Elastic Beanstalk on the
stateful stand-in (test/support/beanstalk), reached through AWS_ENDPOINT_URL_ELASTIC_BEANSTALK."""

import contextlib
import io
import json
import os
import time
import uuid
import zipfile

import pytest

from test.support import aws
from test.support.beanstalk import FAIL, RECOVERS, RED, STUCK, BeanstalkStandIn
from test.support.beanstalk.model import PLATFORM_UNDEPLOYABLE, Version
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.run import write_files

COMMIT = "3f2a9c1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b"
BUILD = "42"
STORAGE_BUCKET = f"elasticbeanstalk-{aws.REGION}-{aws.ACCOUNT}"
APP_FILES = {
    "application.py": "def application(environ, start):\n    return [b'v1']\n",
    "Procfile": "web: gunicorn application:application\n",
    "static/site.css": "body { color: red; }\n",
}
# Fast polls keep the suite quick; the stand-in moves one step per poll, so no test races a clock.
INTERVAL = "0.1"


@pytest.fixture
def eb(moto_server):
    with BeanstalkStandIn(moto_server.url) as standin:
        yield standin


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:8]
    return f"web-{suffix}", f"web-prod-{suffix}"


@pytest.fixture
def environment(eb, names):
    """An application whose environment runs version `v-old` (uploaded by someone before)."""
    application, name = names
    eb.state.create_environment(application, name)
    return eb.state.environments[name]


@pytest.fixture
def old_version(eb, s3, environment):
    # The pipe's CreateStorageLocation may have made it in an earlier test.
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=STORAGE_BUCKET, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    key = f"{environment.application}/v-old.zip"
    body = zip_bytes({"application.py": "old"})
    s3.put_object(Bucket=STORAGE_BUCKET, Key=key, Body=body)
    environment.bundle = body
    eb.state.versions[(environment.application, "v-old")] = Version(
        environment.application, "v-old", "", STORAGE_BUCKET, key, "etag"
    )
    environment.version_label = "v-old"
    return "v-old"


@pytest.fixture
def app_dir(clone_dir):
    root = write_files(clone_dir / "app", APP_FILES)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[remote] url = https://x-token-auth:secret@bitbucket.org/\n")
    (clone_dir / ".git").mkdir()
    (clone_dir / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    return root


@pytest.fixture
def eb_env(pipe_env, clone_dir, eb, names, tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    application, name = names
    return pipe_env | {
        "COMMAND": "beanstalk",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "BITBUCKET_COMMIT": COMMIT,
        "BITBUCKET_BUILD_NUMBER": BUILD,
        "BITBUCKET_REPO_FULL_NAME": "my-workspace/my-repo",
        "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": eb.url,
        "APPLICATION_NAME": application,
        "ENVIRONMENT_NAME": name,
        "SOURCE_PATH": "app",
        "WAIT_INTERVAL": INTERVAL,
    }


def label_of(env) -> str:
    return f"{env['APPLICATION_NAME']}-{BUILD}-{COMMIT[:7]}"


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def result_of(env) -> dict:
    path = os.path.join(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"], "aws-oidc-deploy", "beanstalk.json")
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def updates(eb) -> list[str]:
    return [call.params.get("VersionLabel") for call in eb.actions("UpdateEnvironment")]


def succeeded(result) -> None:
    assert result.returncode == 0, result.output


# Done when 1: upload + deploy + wait → Green, events shown, URL printed.
def test_upload_deploy_and_wait_until_green(
    run, eb_env, eb, s3, environment, old_version, app_dir, clone_dir
):
    before = sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*"))
    result = run(eb_env)
    succeeded(result)
    label = label_of(eb_env)
    assert environment.version_label == label and environment.health == "Green"
    for message in ("Environment update is starting.", "Environment update completed successfully."):
        assert f"INFO  {message}" in result.output
    url = f"http://{environment.cname}"
    assert f"URL:          {url}" in result.stdout and f"Version:      {label}" in result.stdout
    assert "Health:       Green (Ok)" in result.stdout
    assert result.last_line.startswith(f"✔ Deployed {label} to {environment.name} in ")
    assert result_of(eb_env) | {"seconds": 0} == {
        "application": environment.application,
        "environment": environment.name,
        "version_label": label,
        "s3_bucket": STORAGE_BUCKET,
        "s3_key": f"{environment.application}/{label}.zip",
        "uploaded": True,
        "status": "Ready",
        "health": "Green",
        "health_status": "Ok",
        "running_version_label": label,
        "previous_version_label": "v-old",
        "cname": environment.cname,
        "url": url,
        "seconds": 0,
    }
    body = s3.get_object(Bucket=STORAGE_BUCKET, Key=f"{environment.application}/{label}.zip")["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        assert sorted(archive.namelist()) == sorted(APP_FILES)  # no .git
        assert archive.read("Procfile").decode() == APP_FILES["Procfile"]
    version = eb.state.versions[(environment.application, label)]
    assert version.description == "https://bitbucket.org/my-workspace/my-repo/pipelines/results/42"
    assert updates(eb) == [label]
    # The zip went to the private directory: the clone holds only what the user put there.
    assert sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*")) == before


# Done when 2: busy at start → wait, then deploy.
def test_busy_environment_is_waited_for_then_deployed(run, eb_env, eb, environment, old_version, app_dir):
    eb.state.busy(environment.name, polls=5)
    result = run(eb_env)
    succeeded(result)
    assert "is Updating (another operation is running); waiting for Ready before deploying" in result.output
    calls = eb.actions("UpdateEnvironment")
    assert [call.error for call in calls] == [None], (
        "UpdateEnvironment was called while the environment was busy"
    )
    assert environment.version_label == label_of(eb_env) and environment.health == "Green"


def test_an_update_that_slips_in_before_ours_is_waited_for(
    run, eb_env, eb, environment, old_version, app_dir
):
    """Ready when looked at, busy again when UpdateEnvironment arrives: wait again, no failure."""
    eb.faults["UpdateEnvironment"] = [
        (
            400,
            "InvalidParameterValue",
            f"Environment named {environment.name} is in an invalid state for this operation. Must be Ready.",
        )
    ]
    result = run(eb_env)
    succeeded(result)
    assert "got busy again before the update; waiting" in result.output
    assert [call.error for call in eb.actions("UpdateEnvironment")] == ["InvalidParameterValue", None]


# Done when 3: a failing deploy → exit 1 with the ERROR events; with rollback the previous version runs.
def test_failing_deploy_exits_1_with_the_error_events(run, eb_env, eb, environment, old_version, app_dir):
    label = label_of(eb_env)
    eb.state.outcomes[label] = FAIL
    result = run(eb_env)
    line = assert_one_clear_failure(
        result, f"Deploy of {label} to {environment.name} failed: Instance deployment failed."
    )
    assert "ERROR: Event" in result.output and "Command failed on instance" in result.output
    assert "Last events:" in result.stdout and "ERROR Instance deployment failed" in result.stdout
    assert "Rolled back" not in line and updates(eb) == [label]


def test_failing_deploy_rolls_back_to_the_previous_version(
    run, eb_env, eb, environment, old_version, app_dir
):
    label = label_of(eb_env)
    eb.state.outcomes[label] = FAIL
    result = run(eb_env | {"ROLLBACK_ON_FAILURE": "true"})
    line = assert_one_clear_failure(result, f"Deploy of {label} to {environment.name} failed")
    assert "Rolled back to v-old: the environment is Ready, health Green (Ok), version v-old." in line
    assert updates(eb) == [label, "v-old"]
    assert environment.version_label == "v-old" and environment.health == "Green"
    assert environment.status == "Ready"


def test_red_health_after_the_update_fails_the_deploy(run, eb_env, eb, environment, old_version, app_dir):
    label = label_of(eb_env)
    eb.state.outcomes[label] = RED
    result = run(eb_env | {"HEALTH_GRACE_PERIOD": "1"})
    assert_one_clear_failure(
        result, "the update finished but the environment's health is Red (Severe) at the end of the 1 s"
    )
    assert "WARNING: Event" in result.output and "failing with HTTP 5xx" in result.output


def test_rollback_that_fails_too_says_so(run, eb_env, eb, environment, old_version, app_dir):
    label = label_of(eb_env)
    eb.state.outcomes[label] = FAIL
    eb.state.outcomes["v-old"] = FAIL
    result = run(eb_env | {"ROLLBACK_ON_FAILURE": "true"})
    assert_one_clear_failure(result, "The rollback to v-old failed too: Instance deployment failed")


# Done when 4: stuck → DEPLOY_TIMEOUT → exit 1 with the last events, within timeout + one interval.
def test_stuck_deploy_times_out_within_timeout_plus_one_interval(
    run, eb_env, eb, environment, old_version, app_dir
):
    label = label_of(eb_env)
    eb.state.outcomes[label] = STUCK
    timeout, interval = 2, 0.5
    result = run(eb_env | {"DEPLOY_TIMEOUT": str(timeout), "WAIT_INTERVAL": str(interval)})
    line = assert_one_clear_failure(
        result, f"Deploy of {label} to {environment.name} timed out (DEPLOY_TIMEOUT 2 s)"
    )
    assert "still" not in line or "Updating" in line
    assert "the environment is Updating, health Grey (Info), version v-old" in line
    assert "Last events:" in result.stdout and "INFO  Deploying new version to instance(s)." in result.stdout
    # The clock starts when the pipe marks the events (DescribeEvents MaxRecords=1) and is checked
    # against the stand-in's record of the pipe's last request: it did not give up early. That it
    # wakes at the deadline and not an interval later is measured exactly on a fake clock
    # (test_watch.py): a wall-clock upper bound here would need the very slack that hides it.
    mark = next(call for call in eb.actions("DescribeEvents") if call.params.get("MaxRecords") == "1")
    waited = eb.calls[-1].at - mark.at
    assert waited >= timeout - 0.1, waited


def test_stuck_deploy_with_rollback_aborts_the_update(run, eb_env, eb, environment, old_version, app_dir):
    eb.state.outcomes[label_of(eb_env)] = STUCK
    result = run(eb_env | {"DEPLOY_TIMEOUT": "1", "WAIT_INTERVAL": "0.2", "ROLLBACK_ON_FAILURE": "true"})
    assert_one_clear_failure(result, "Rolled back to v-old: the environment is Ready, health Green (Ok)")
    assert len(eb.actions("AbortEnvironmentUpdate")) == 1
    assert environment.version_label == "v-old"


def test_busy_for_longer_than_the_timeout_fails_without_deploying(
    run, eb_env, eb, environment, old_version, app_dir
):
    eb.state.busy(environment.name, polls=10_000)
    result = run(eb_env | {"DEPLOY_TIMEOUT": "1", "WAIT_INTERVAL": "0.2"})
    assert_one_clear_failure(result, "was still Updating, health Grey (Info), version v-old after 1 s")
    assert updates(eb) == []


# Done when 5: upload-only, deploy-only, and a re-run that uploads nothing.
def test_upload_only_then_deploy_only(run, eb_env, eb, s3, environment, old_version, clone_dir):
    (clone_dir / "dist").mkdir()
    (clone_dir / "dist" / "app.zip").write_bytes(zip_bytes(APP_FILES))
    env = eb_env | {"SOURCE_PATH": "", "ZIP_FILE": "dist/app.zip", "VERSION_LABEL": "release-7"}
    result = run(env | {"BEANSTALK_COMMAND": "upload-only", "ENVIRONMENT_NAME": ""})
    succeeded(result)
    assert "Version release-7 of" in result.last_line and "(uploaded)" in result.last_line
    assert (environment.application, "release-7") in eb.state.versions and updates(eb) == []
    assert environment.version_label == "v-old"

    result = run(env | {"BEANSTALK_COMMAND": "deploy-only", "ZIP_FILE": ""})
    succeeded(result)
    assert environment.version_label == "release-7" and updates(eb) == ["release-7"]
    assert len(eb.actions("CreateApplicationVersion")) == 1


def test_rerun_with_the_same_label_and_bundle_uploads_nothing(run, eb_env, eb, s3, environment, app_dir):
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    # Every PUT makes an object version: one version in the end means one upload.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    env = eb_env | {"S3_BUCKET": bucket}
    succeeded(run(env))
    for path in app_dir.rglob("*"):
        os.utime(path, (time.time() + 60, time.time() + 60))  # a fresh clone: new times, same content
    result = run(env)
    succeeded(result)
    assert "already exists with this bundle" in result.output
    key = f"{environment.application}/{label_of(env)}.zip"
    versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    assert len(versions) == 1, "the bundle was uploaded again"
    assert len(eb.actions("CreateApplicationVersion")) == 1
    assert result_of(env)["uploaded"] is False
    assert updates(eb) == [label_of(env)] * 2  # the deploy itself is done again, as asked
    # Events of the first run are not shown again as news of the second.
    assert result.output.count("INFO  Environment update completed successfully.") == 1, result.output


def test_same_label_with_other_content_is_refused(run, eb_env, eb, environment, old_version, app_dir):
    env = eb_env | {"BEANSTALK_COMMAND": "upload-only"}
    succeeded(run(env))
    (app_dir / "application.py").write_text("def application(environ, start):\n    return [b'v2']\n")
    result = run(env)
    assert_one_clear_failure(
        result,
        f"Version '{label_of(env)}' already exists in application '{environment.application}' with a different bundle",
    )
    assert len(eb.actions("CreateApplicationVersion")) == 1


def test_wait_false_starts_the_deploy_and_returns(run, eb_env, eb, environment, old_version, app_dir):
    result = run(eb_env | {"WAIT": "false"})
    succeeded(result)
    assert "started (WAIT is false, not waiting)" in result.last_line
    assert environment.status == "Updating" and updates(eb) == [label_of(eb_env)]


def test_explicit_bucket_key_and_description(run, eb_env, eb, s3, environment, app_dir):
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    result = run(
        eb_env
        | {
            "S3_BUCKET": bucket,
            "S3_KEY": "releases/web.zip",
            "VERSION_LABEL": "v2",
            "DESCRIPTION": "Release 2",
        }
    )
    succeeded(result)
    version = eb.state.versions[(environment.application, "v2")]
    assert (version.bucket, version.key, version.description) == (bucket, "releases/web.zip", "Release 2")
    assert eb.actions("CreateStorageLocation") == []
    assert environment.version_label == "v2"


# Failures AWS reports, each as one line.
def test_deploy_only_of_a_missing_version(run, eb_env, environment):
    result = run(eb_env | {"BEANSTALK_COMMAND": "deploy-only", "SOURCE_PATH": "", "VERSION_LABEL": "nope"})
    assert_one_clear_failure(
        result, f"Version 'nope' does not exist in application '{environment.application}'"
    )


def test_missing_environment(run, eb_env, environment, app_dir):
    result = run(eb_env | {"ENVIRONMENT_NAME": "no-such-env"})
    assert_one_clear_failure(result, "Elastic Beanstalk environment 'no-such-env' was not found")


def test_missing_application(run, eb_env, eb, app_dir):
    result = run(eb_env | {"APPLICATION_NAME": "no-such-app"})
    line = assert_one_clear_failure(
        result, "Elastic Beanstalk application 'no-such-app' was not found in eu-west-1; create it first"
    )
    assert "elasticbeanstalk:DescribeApplications" in line
    assert eb.actions("CreateApplicationVersion") == []


def test_throttled_polls_are_retried(run, eb_env, eb, environment, old_version, app_dir):
    eb.faults["DescribeEnvironments"] = [(400, "Throttling", "Rate exceeded")] * 2
    eb.faults["DescribeEvents"] = [(503, "ServiceUnavailable", "Service is unavailable")]
    succeeded(run(eb_env))
    assert environment.version_label == label_of(eb_env)


def test_debug_deploy_leaks_no_secret_and_leaves_the_clone_as_it_was(
    run, eb_env, eb, environment, old_version, app_dir, clone_dir
):
    before = {p.relative_to(clone_dir): p.stat().st_mtime_ns for p in clone_dir.rglob("*")}
    session = f"eb-debug-{uuid.uuid4().hex[:8]}"
    result = run(eb_env | {"DEBUG": "true", "AWS_ROLE_SESSION_NAME": session})
    succeeded(result)
    assert "DEBUG: " in result.output and "****" in result.output
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == session]
    assert len(issued) == 1
    assert_no_secret(
        result.output,
        eb_env["BITBUCKET_STEP_OIDC_TOKEN"],
        issued[0].secret_access_key,
        issued[0].session_token,
    )
    assert {p.relative_to(clone_dir): p.stat().st_mtime_ns for p in clone_dir.rglob("*")} == before


# Bad input: one clear line each, before any AWS call.
@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"APPLICATION_NAME": ""}, "APPLICATION_NAME is required"),
        ({"APPLICATION_NAME": "a/b"}, "APPLICATION_NAME must be 1 to 100 characters without /"),
        ({"ENVIRONMENT_NAME": ""}, "ENVIRONMENT_NAME is required"),
        ({"ENVIRONMENT_NAME": "-bad-"}, "ENVIRONMENT_NAME must be 4 to 40 letters"),
        ({"BEANSTALK_COMMAND": "deploy"}, "BEANSTALK_COMMAND must be one of all, upload-only, deploy-only"),
        ({"ZIP_FILE": "app.zip"}, "Set ZIP_FILE or SOURCE_PATH, not both"),
        ({"SOURCE_PATH": ""}, "ZIP_FILE or SOURCE_PATH is required"),
        (
            {"SOURCE_PATH": "", "ZIP_FILE": "../outside.zip"},
            "ZIP_FILE '../outside.zip' leads outside the clone",
        ),
        ({"SOURCE_PATH": "", "ZIP_FILE": "/etc/passwd"}, "ZIP_FILE must be relative to the clone directory"),
        ({"SOURCE_PATH": "", "ZIP_FILE": "missing.zip"}, "ZIP_FILE 'missing.zip' does not exist"),
        ({"SOURCE_PATH": "", "ZIP_FILE": "app/Procfile"}, "ZIP_FILE 'app/Procfile' is not a zip archive"),
        ({"SOURCE_PATH": "app/Procfile"}, "SOURCE_PATH 'app/Procfile' is not a directory"),
        ({"SOURCE_PATH": "empty"}, "SOURCE_PATH 'empty' holds no files to deploy"),
        (
            {"BEANSTALK_COMMAND": "deploy-only"},
            "deploy-only deploys an existing VERSION_LABEL and uploads nothing",
        ),
        ({"WAIT_INTERVAL": "0"}, "WAIT_INTERVAL must be a number of seconds from 0.1 to 300"),
        ({"WAIT_INTERVAL": "soon"}, "WAIT_INTERVAL must be a number of seconds"),
        ({"DEPLOY_TIMEOUT": "0"}, "DEPLOY_TIMEOUT must be a whole number of seconds from 1 to 86400"),
        ({"WAIT": "maybe"}, "WAIT must be true or false"),
        ({"ROLLBACK_ON_FAILURE": "y"}, "ROLLBACK_ON_FAILURE must be true or false"),
        ({"HEALTH_GRACE_PERIOD": "-1"}, "HEALTH_GRACE_PERIOD must be a whole number of seconds from 0"),
        ({"VERSION_LABEL": "a/b"}, "VERSION_LABEL must be 1 to 100 characters without /"),
        ({"DESCRIPTION": "x" * 201}, "DESCRIPTION must be at most 200 characters"),
        ({"S3_BUCKET": "Bad_Bucket"}, "S3_BUCKET must be a bucket name"),
        ({"S3_KEY": "/abs.zip"}, "S3_KEY must be an S3 key"),
        ({"BITBUCKET_COMMIT": ""}, "VERSION_LABEL is required here"),
    ],
)
def test_bad_input_is_one_clear_line(run, eb_env, eb, app_dir, clone_dir, extra, expected):
    (clone_dir / "empty").mkdir()
    assert_one_clear_failure(run(eb_env | extra), expected)
    assert eb.calls == [], "an AWS call was made before the input was checked"


# --- Elastic Beanstalk as it really behaves (issue 14) ------------------------------------------------


def fresh_bucket(s3, versioned: bool = False, region: str = aws.REGION) -> str:
    bucket = f"bundles-{uuid.uuid4().hex[:10]}"
    if region != aws.REGION:
        s3 = aws.client("s3", s3.meta.endpoint_url, region)
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    if versioned:
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return bucket


def objects(s3, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_a_fixed_s3_key_is_never_overwritten_so_a_rollback_ships_the_right_bundle(
    run, eb_env, eb, s3, environment, app_dir
):
    bucket = fresh_bucket(s3, versioned=True)
    env = eb_env | {"S3_BUCKET": bucket, "S3_KEY": "releases/web.zip", "ROLLBACK_ON_FAILURE": "true"}
    succeeded(run(env | {"VERSION_LABEL": "L1"}))
    first = s3.get_object(Bucket=bucket, Key="releases/web.zip")["Body"].read()
    assert environment.bundle == first

    (app_dir / "application.py").write_text("def application(environ, start):\n    return [b'v2']\n")
    result = run(env | {"VERSION_LABEL": "L2"})
    line = assert_one_clear_failure(
        result, f"s3://{bucket}/releases/web.zip already holds a different object; the pipe never overwrites"
    )
    assert "set S3_KEY to a key of its own" in line
    # Refused before anything changed: one object version, no version L2, no deploy.
    stored = s3.list_object_versions(Bucket=bucket, Prefix="releases/web.zip").get("Versions", [])
    assert len(stored) == 1 and (environment.application, "L2") not in eb.state.versions
    assert updates(eb) == ["L1"]

    # L2 under its own key fails on the instances: the rollback to L1 ships L1's bytes.
    eb.state.outcomes["L2"] = FAIL
    result = run(env | {"VERSION_LABEL": "L2", "S3_KEY": "releases/web-L2.zip"})
    assert_one_clear_failure(result, "Rolled back to L1")
    assert updates(eb) == ["L1", "L2", "L1"] and environment.bundle == first


def test_a_key_holding_someone_elses_object_is_refused_before_anything_is_made(
    run, eb_env, eb, s3, environment, old_version, app_dir
):
    bucket = fresh_bucket(s3)
    foreign = b"not ours: another team's file"
    s3.put_object(Bucket=bucket, Key="shared/app.zip", Body=foreign)
    result = run(eb_env | {"S3_BUCKET": bucket, "S3_KEY": "shared/app.zip"})
    assert_one_clear_failure(result, f"s3://{bucket}/shared/app.zip already holds a different object")
    assert s3.get_object(Bucket=bucket, Key="shared/app.zip")["Body"].read() == foreign
    assert eb.actions("CreateApplicationVersion") == [] and updates(eb) == []


def test_a_fixed_key_holding_this_very_bundle_is_reused_for_a_new_label(
    run, eb_env, eb, s3, environment, old_version, app_dir
):
    bucket = fresh_bucket(s3, versioned=True)
    env = eb_env | {"S3_BUCKET": bucket, "S3_KEY": "releases/web.zip"}
    succeeded(run(env | {"VERSION_LABEL": "L1"}))
    result = run(env | {"VERSION_LABEL": "L1-again"})
    succeeded(result)
    assert "already holds this bundle; not uploading it again" in result.output
    assert len(s3.list_object_versions(Bucket=bucket, Prefix="releases/web.zip")["Versions"]) == 1
    assert environment.version_label == "L1-again"


def _bundle_of(app_dir, tmp_path) -> bytes:
    """The bytes the pipe zips from `app_dir` (the zip is reproducible: bundle.make_zip)."""
    from pipe.jobs.beanstalk.bundle import make_zip

    target = tmp_path / "expected-bundle.zip"
    make_zip(app_dir, target)
    return target.read_bytes()


def _put_in_one_part(s3, bucket: str, key: str, body: bytes) -> str:
    """The object as a multipart upload of one part, without the pipe's MD5 metadata: its ETag is
    MD5-of-MD5s-1, which no single-part bundle's digest can be compared with."""
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=1, Body=body)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key=key,
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )
    return s3.head_object(Bucket=bucket, Key=key)["ETag"]


@pytest.mark.parametrize("content", ["other-bytes", "same-bytes"])
def test_a_key_holding_an_object_that_cannot_be_compared_is_never_deployed(
    run, eb_env, eb, s3, environment, old_version, app_dir, tmp_path, content
):
    # Same size, a multipart ETag, no MD5 metadata: nothing proves it is this bundle, so it is not
    # deployed as this bundle, whatever its bytes happen to be.
    bundle = _bundle_of(app_dir, tmp_path)
    there = bundle if content == "same-bytes" else bytes(reversed(bundle))
    assert len(there) == len(bundle)
    bucket = fresh_bucket(s3)
    assert _put_in_one_part(s3, bucket, "shared/app.zip", there).strip('"').endswith("-1")
    result = run(eb_env | {"S3_BUCKET": bucket, "S3_KEY": "shared/app.zip"})
    assert_one_clear_failure(
        result,
        f"s3://{bucket}/shared/app.zip already holds an object the pipe cannot compare with this bundle",
    )
    assert s3.get_object(Bucket=bucket, Key="shared/app.zip")["Body"].read() == there
    assert eb.actions("CreateApplicationVersion") == [] and updates(eb) == []
    assert environment.version_label == "v-old"


@pytest.mark.parametrize("writer", ["someone-else", "a-parallel-run"])
def test_an_object_written_between_the_check_and_the_upload_is_not_overwritten(
    run, eb_env, eb, s3, environment, old_version, app_dir, tmp_path, moto_server, writer
):
    """The race the conditional write (If-None-Match) closes: the key is free when the pipe looks,
    and taken when its PutObject arrives. The fault proxy writes the object straight to moto just
    before it forwards the pipe's PUT."""
    from test.support.faults import FaultProxy

    bucket, key = fresh_bucket(s3, versioned=True), "releases/web.zip"
    bundle = _bundle_of(app_dir, tmp_path)
    there = b"another writer's object" if writer == "someone-else" else bundle
    written = []

    def write_first(request) -> None:
        if request.method == "PUT" and request.path.split("?", 1)[0] == f"/{bucket}/{key}" and not written:
            written.append(s3.put_object(Bucket=bucket, Key=key, Body=there)["VersionId"])
        return None  # then forwarded as it came

    with FaultProxy(moto_server.url, script=write_first) as proxy:
        result = run(eb_env | {"AWS_ENDPOINT_URL": proxy.url, "S3_BUCKET": bucket, "S3_KEY": key})
    assert written, "the pipe never sent its PUT"
    stored = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    assert [item["VersionId"] for item in stored] == written, "the object written in between was replaced"
    if writer == "someone-else":
        assert_one_clear_failure(result, f"s3://{bucket}/{key} already holds a different object")
        assert eb.actions("CreateApplicationVersion") == [] and updates(eb) == []
    else:  # the same bundle, put there by a run in parallel: this run deploys it without uploading it
        succeeded(result)
        assert result_of(eb_env)["uploaded"] is False
        assert updates(eb) == [label_of(eb_env)] and environment.bundle == bundle


@pytest.mark.parametrize("starts_red", [False, True], ids=["after-an-update", "fix-into-a-red-environment"])
def test_health_that_lags_then_recovers_is_a_success_without_rollback(
    run, eb_env, eb, environment, old_version, app_dir, starts_red
):
    label = label_of(eb_env)
    eb.state.outcomes[label] = RECOVERS
    eb.state.recovery_polls = 5
    if starts_red:
        environment.health, environment.health_status = "Red", "Severe"
    result = run(eb_env | {"ROLLBACK_ON_FAILURE": "true", "HEALTH_GRACE_PERIOD": "120"})
    succeeded(result)
    assert "health is Ready, health Red (Degraded)" in result.output
    assert "waiting up to 120 s for Green (HEALTH_GRACE_PERIOD)" in result.output
    assert "Environment health has transitioned from Warning to Ok." in result.output
    assert updates(eb) == [label] and eb.actions("AbortEnvironmentUpdate") == []
    assert (environment.version_label, environment.health_status) == (label, "Ok")
    assert "Health:       Green (Ok)" in result.stdout


def test_health_that_stays_severe_fails_and_rolls_back(
    run, eb_env, eb, s3, environment, old_version, app_dir
):
    label = label_of(eb_env)
    eb.state.outcomes[label] = RED
    started = time.monotonic()
    result = run(eb_env | {"ROLLBACK_ON_FAILURE": "true", "HEALTH_GRACE_PERIOD": "2"})
    line = assert_one_clear_failure(
        result, "health is Red (Severe) at the end of the 2 s health grace period"
    )
    assert "Rolled back to v-old: the environment is Ready, health Green (Ok), version v-old." in line
    assert updates(eb) == [label, "v-old"]
    old = s3.get_object(Bucket=STORAGE_BUCKET, Key=f"{environment.application}/v-old.zip")["Body"].read()
    assert environment.bundle == old
    assert time.monotonic() - started >= 2


def test_a_grace_period_longer_than_what_is_left_of_the_timeout_ends_with_it(
    run, eb_env, eb, environment, old_version, app_dir
):
    eb.state.outcomes[label_of(eb_env)] = RED
    result = run(eb_env | {"HEALTH_GRACE_PERIOD": "600", "DEPLOY_TIMEOUT": "3"})
    assert_one_clear_failure(result, "(cut short by DEPLOY_TIMEOUT)")


def deploy_only(env, label: str) -> dict:
    return env | {"BEANSTALK_COMMAND": "deploy-only", "SOURCE_PATH": "", "VERSION_LABEL": label}


def put_version(eb, s3, environment, label: str, status: str, polls: int = 0) -> Version:
    key = f"{environment.application}/{label}.zip"
    s3.put_object(Bucket=STORAGE_BUCKET, Key=key, Body=zip_bytes({"application.py": label}))
    version = Version(environment.application, label, "", STORAGE_BUCKET, key, "etag", status=status)
    version.processing_polls = polls
    eb.state.versions[(environment.application, label)] = version
    return version


def test_a_failed_version_is_refused(run, eb_env, eb, s3, environment, old_version):
    put_version(eb, s3, environment, "broken-1", "Failed")
    result = run(deploy_only(eb_env, "broken-1"))
    assert_one_clear_failure(result, "Version 'broken-1' of application")
    assert "has status Failed" in result.last_line and updates(eb) == []


def test_a_processing_version_is_waited_for_then_deployed(run, eb_env, eb, s3, environment, old_version):
    version = put_version(eb, s3, environment, "built-1", "Processing", polls=4)
    result = run(deploy_only(eb_env, "built-1"))
    succeeded(result)
    assert "Version built-1 is Processing; waiting for Elastic Beanstalk to finish" in result.output
    # The stand-in refuses UpdateEnvironment for a version still Processing, as AWS does.
    assert version.status == "Processed" and [call.error for call in eb.actions("UpdateEnvironment")] == [
        None
    ]
    assert environment.version_label == "built-1"


def _missing_application(eb, environment):
    return {"APPLICATION_NAME": "no-such-app"}, "application 'no-such-app' was not found"


def _missing_environment(eb, environment):
    return {"ENVIRONMENT_NAME": "shop-nowhere"}, "environment 'shop-nowhere' was not found"


def _describe_denied(eb, environment):
    eb.state.describe_denied.add("DescribeEnvironments")
    return {}, "may not call elasticbeanstalk:DescribeEnvironments"


def _terminated(eb, environment):
    eb.state.terminate(environment.name)
    return {}, f"environment '{environment.name}' of application '{environment.application}' is terminated"


def _terminating(eb, environment):
    environment.status = "Terminating"
    return {}, f"environment '{environment.name}' is Terminating: it is being deleted"


def _quota(eb, environment):
    eb.state.version_quota = len(eb.state.versions)
    # AWS's message ends in a full stop: quoted in the line, it is not doubled.
    return {}, "or request a limit increase. Delete versions you no longer need"


@pytest.mark.parametrize(
    "script",
    [_missing_application, _missing_environment, _describe_denied, _terminated, _terminating, _quota],
    ids=lambda script: script.__name__.strip("_"),
)
def test_a_failed_check_leaves_no_object_and_no_version(
    run, eb_env, eb, s3, environment, old_version, app_dir, script
):
    bucket = fresh_bucket(s3)
    versions_before = set(eb.state.versions)
    extra, expected = script(eb, environment)
    result = run(eb_env | {"S3_BUCKET": bucket} | extra)
    line = assert_one_clear_failure(result, expected)
    assert "DEPLOY_TIMEOUT" not in line
    if "not found" in expected or "may not call" in expected:
        assert "check the role's permissions too" in line
    assert objects(s3, bucket) == [] and set(eb.state.versions) == versions_before
    assert updates(eb) == []


def test_a_bucket_in_another_region_is_refused_before_the_upload(
    run, eb_env, eb, s3, environment, old_version, app_dir
):
    bucket = fresh_bucket(s3, region="us-west-2")
    result = run(eb_env | {"S3_BUCKET": bucket})
    assert_one_clear_failure(
        result, f"S3_BUCKET '{bucket}' is in us-west-2, but Elastic Beanstalk in eu-west-1 reads bundles only"
    )
    assert objects(s3, bucket) == [] and eb.actions("CreateApplicationVersion") == []


def test_deploy_only_to_a_missing_application_says_the_application_is_missing(run, eb_env, environment):
    result = run(deploy_only(eb_env, "v-1") | {"APPLICATION_NAME": "no-such-app"})
    line = assert_one_clear_failure(result, "Elastic Beanstalk application 'no-such-app' was not found")
    assert "Version" not in line


def test_a_terminated_environment_beside_a_live_one_of_the_same_name_is_no_obstacle(
    run, eb_env, eb, environment, old_version, app_dir
):
    live = eb.state.terminate(environment.name, replaced=True)
    succeeded(run(eb_env))
    assert live.version_label == label_of(eb_env) and environment.status == "Terminated"


def test_an_environment_terminated_while_waited_for_says_so_without_the_timeout(
    run, eb_env, eb, environment, old_version, app_dir
):
    from collections import deque

    from test.support.beanstalk.model import Step

    eb.state.busy(environment.name, polls=10)
    # The pre-check and the deploy's first look see it Updating; then someone terminates it.
    environment.timeline = deque([Step(), Step(), Step(status="Terminating", health="Grey")])
    result = run(eb_env)
    line = assert_one_clear_failure(result, f"environment {environment.name} is Terminating")
    assert "DEPLOY_TIMEOUT" not in line and updates(eb) == []


def test_a_timed_out_update_with_nothing_to_roll_back_to_is_aborted(run, eb_env, eb, environment, app_dir):
    assert environment.version_label is None  # a new environment: no version ran before
    eb.state.outcomes[label_of(eb_env)] = STUCK
    eb.state.abort_polls = 4  # an abort takes time
    result = run(eb_env | {"DEPLOY_TIMEOUT": "1", "WAIT_INTERVAL": "0.2", "ROLLBACK_ON_FAILURE": "true"})
    line = assert_one_clear_failure(result, "No rollback: no other version ran before. Aborted the update")
    assert "the environment is Ready, health Green (Ok), version none." in line
    assert len(eb.actions("AbortEnvironmentUpdate")) == 1 and environment.status == "Ready"


def test_an_abort_that_leaves_the_new_version_is_followed_by_the_rollback(
    run, eb_env, eb, environment, old_version, app_dir
):
    label = label_of(eb_env)
    eb.state.outcomes[label] = STUCK
    eb.state.abort_keeps_new_version = True
    result = run(eb_env | {"DEPLOY_TIMEOUT": "3", "WAIT_INTERVAL": "0.2", "ROLLBACK_ON_FAILURE": "true"})
    assert_one_clear_failure(result, "Rolled back to v-old")
    assert updates(eb) == [label, "v-old"] and environment.version_label == "v-old"


def test_a_bundle_above_the_multipart_threshold_is_sent_in_parts(
    run, eb_env, eb, s3, environment, old_version, clone_dir
):
    from pipe.common.etag import MULTIPART_THRESHOLD

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.jar", os.urandom(MULTIPART_THRESHOLD + 1024 * 1024))
    (clone_dir / "app.zip").write_bytes(buffer.getvalue())
    bucket = fresh_bucket(s3)
    env = eb_env | {"SOURCE_PATH": "", "ZIP_FILE": "app.zip", "S3_BUCKET": bucket, "S3_KEY": "big/app.zip"}
    succeeded(run(env | {"VERSION_LABEL": "big-1"}))
    head = s3.head_object(Bucket=bucket, Key="big/app.zip")
    assert head["ETag"].strip('"').endswith("-2"), head["ETag"]  # two parts of 8 MiB
    assert environment.bundle == buffer.getvalue()
    result = run(env | {"VERSION_LABEL": "big-2"})
    succeeded(result)
    assert "already holds this bundle" in result.output and environment.version_label == "big-2"


def test_an_event_message_with_a_line_break_cannot_forge_a_line(
    run, eb_env, eb, environment, old_version, app_dir
):
    label = label_of(eb_env)
    forged = f"✔ Deployed {label} to {environment.name} in 1 s: Ready, health Green."
    # An ERROR event: its message is also the reason in the ✖ line, escaped there once (final_line).
    # Every line break XML carries (a carriage return arrives as a line feed): LF, NEL, U+2028/U+2029,
    # and a C1 CSI that would repaint the terminal's line.
    breaks = {"\n": "\\n", "\x85": "\\x85", "\u2028": "\\u2028", "\u2029": "\\u2029", "\x9b": "\\x9b"}
    message = "npm output" + "".join(f"{raw}{forged}" for raw in breaks) + "\n✖ fake failure"
    shown = "npm output" + "".join(f"{escaped}{forged}" for escaped in breaks.values()) + "\\n✖ fake failure"
    eb.state.deploy_events[label] = [("ERROR", message)]
    result = run(eb_env)
    line = assert_one_clear_failure(result, f"failed: {shown}")
    assert line.count("✖") == 2  # the line's own mark and the quoted one, inside it
    lines = result.output.splitlines()  # splits at NEL and U+2028/U+2029 too
    assert not any(line.startswith(("✔", "✖ fake")) for line in lines), result.output
    assert f"ERROR {shown}" in result.output  # the event as logged and in the "Last events" details
    assert all(character not in result.output for character in breaks if character != "\n")


# --- the environment's platform (issue 14: "the platform's state") ---------------------------------


@pytest.mark.parametrize("status", PLATFORM_UNDEPLOYABLE)
@pytest.mark.parametrize("command", ["all", "deploy-only"])
def test_an_environment_on_a_platform_that_cannot_take_a_deploy_is_refused_before_anything_is_made(
    run, eb_env, eb, s3, environment, old_version, app_dir, status, command
):
    platform = eb.state.put_platform(environment, status=status)
    bucket = fresh_bucket(s3)
    versions_before = set(eb.state.versions)
    env = eb_env | {"S3_BUCKET": bucket}
    if command == "deploy-only":
        put_version(eb, s3, environment, "ready-1", "Processed")
        versions_before = set(eb.state.versions)
        env = deploy_only(env, "ready-1")
    line = assert_one_clear_failure(
        run(env),
        f"environment '{environment.name}' runs on platform {platform.arn}, whose status is {status}: "
        "Elastic Beanstalk cannot deploy to it",
    )
    assert "ENVIRONMENT_NAME" in line and "update-environment --platform-arn" in line
    assert [call.params["PlatformArn"] for call in eb.actions("DescribePlatformVersion")] == [platform.arn]
    assert objects(s3, bucket) == [] and set(eb.state.versions) == versions_before
    assert eb.actions("CreateApplicationVersion") == [] and updates(eb) == []


@pytest.mark.parametrize("branch_state", ["Deprecated", "Retired"])
def test_a_platform_branch_past_its_support_is_a_warning_not_a_failure(
    run, eb_env, eb, environment, old_version, app_dir, branch_state
):
    platform = eb.state.put_platform(
        environment, branch="Node.js 14 running on 64bit Amazon Linux 2", branch_lifecycle_state=branch_state
    )
    result = run(eb_env)
    succeeded(result)
    warning = next(line for line in result.output.splitlines() if "runs on platform branch" in line)
    assert f"platform branch {platform.branch}, which Elastic Beanstalk has marked {branch_state}" in warning
    assert "Deploying anyway; move the environment to a supported platform branch" in warning
    assert environment.version_label == label_of(eb_env)


def test_a_platform_that_is_ready_and_supported_says_nothing(
    run, eb_env, eb, environment, old_version, app_dir
):
    eb.state.put_platform(environment, lifecycle_state=None)  # not the newest of its branch: normal
    result = run(eb_env | {"DEBUG": "false"})
    succeeded(result)
    assert len(eb.actions("DescribePlatformVersion")) == 1
    assert "platform" not in result.output.lower()


@pytest.mark.parametrize("code", ["AccessDenied", "InsufficientPrivilegesException"])
def test_without_permission_to_describe_the_platform_the_deploy_goes_on_with_a_warning(
    run, eb_env, eb, environment, old_version, app_dir, code
):
    eb.state.put_platform(environment, status="Failed")  # unseen: UpdateEnvironment refuses it
    eb.state.platform_denied = code
    result = run(eb_env)
    assert "the role may not call elasticbeanstalk:DescribePlatformVersion. Deploying without the check" in (
        result.output
    )
    # Without the check, AWS's own refusal comes after the upload: what the permission saves.
    assert_one_clear_failure(result, "UpdateEnvironment failed")
    eb.state.put_platform(environment)
    succeeded(run(eb_env | {"VERSION_LABEL": "after-1"}))


# --- properties of the defaults (hypothesis; repeatable profile in test/conftest.py) -----------------

from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipe.common.errors import PipeError  # noqa: E402
from pipe.jobs.beanstalk import job as beanstalk_job  # noqa: E402
from pipe.jobs.beanstalk import settings as beanstalk_settings  # noqa: E402

_PARSERS = {variable.name: variable.parse for variable in beanstalk_job.VARIABLES}
_APPLICATION = st.from_regex(beanstalk_job._NAME, fullmatch=True).filter(lambda name: name.strip() == name)


@example(application="..", build="42", commit="3f2a9c1" * 5 + "d0b8e")
@given(
    application=_APPLICATION,
    build=st.integers(1, 10**7).map(str),
    commit=st.text(alphabet="0123456789abcdef", min_size=40, max_size=40),
)
def test_the_default_label_and_key_pass_the_checks_a_users_own_would(application, build, commit):
    application = _PARSERS["APPLICATION_NAME"](application)
    label = beanstalk_settings.default_label(
        application, {"BITBUCKET_BUILD_NUMBER": build, "BITBUCKET_COMMIT": commit}
    )
    assert _PARSERS["VERSION_LABEL"](label) == label
    assert len(label) <= beanstalk_settings.MAX_LABEL and label.endswith(f"-{build}-{commit[:7]}")
    try:
        key = beanstalk_settings.default_key(application, label)
    except PipeError as refused:
        assert "set S3_KEY" in str(refused) and ".." in application.split("/")
        return
    assert _PARSERS["S3_KEY"](key) == key == f"{application}/{label}.zip"


# Issue 24: the plan before the deploy and the result after it, as the step log shows them.
def test_the_plan_and_result_are_logged_around_the_deploy(run, eb_env, eb, environment, old_version, app_dir):
    label, name = label_of(eb_env), environment.name
    result = run(eb_env)
    succeeded(result)
    output = result.output
    plan = (
        f"INFO: Elastic Beanstalk plan: {label} to {name}: Deploy {label} to {name} (application "
        f"{environment.application}), which runs v-old with health Green (Ok); the bundle is new."
    )
    assert plan in output
    assert f"INFO:   replaced {name}: version (v-old → {label})" in output
    key = f"{environment.application}/{label}.zip"
    assert f"INFO:   added bundle s3://{STORAGE_BUCKET}/{key} (new)" in output
    assert output.index(plan) < output.index("Environment update is starting.")
    outcome = f"INFO: Elastic Beanstalk result: {label} to {name}: Deployed {label} to {name} in "
    assert outcome in output and "health Green (Ok)." in output.split(outcome)[1].splitlines()[0]
    assert f"INFO:   done {name}: version ({label})" in output


def test_a_failed_deploy_logs_a_failed_result_with_a_planted_secret_masked(
    run, eb_env, eb, environment, old_version, app_dir
):
    label, token = label_of(eb_env), eb_env["BITBUCKET_STEP_OIDC_TOKEN"]
    eb.state.outcomes[label] = FAIL
    eb.state.deploy_events[label] = [
        ("ERROR", f"Hook failed: curl -H 'Authorization: Bearer {token}'\nexit 22")
    ]
    result = run(eb_env | {"ROLLBACK_ON_FAILURE": "true"})
    assert_one_clear_failure(result, f"Deploy of {label} to {environment.name} failed: Hook failed")
    assert_no_secret(result.output, token)
    output = result.output
    assert f"INFO: Elastic Beanstalk plan: {label} to {environment.name}: " in output
    failed = f"INFO: Elastic Beanstalk result: {label} to {environment.name}: Deploy of {label} to "
    line = next(line for line in output.splitlines() if line.startswith(failed))
    assert "Rolled back to v-old" in line and "Authorization: Bearer ****" in line
    assert "INFO:   failed ERROR event (" in output
    event = next(line for line in output.splitlines() if line.startswith("INFO:   failed ERROR event ("))
    assert "Hook failed: curl -H 'Authorization: Bearer ****'\\nexit 22" in event
    assert "INFO:   failed " + environment.name + ": version (v-old)" in output


# DRY_RUN: the checks and the plan, no write call; the same step without it deploys.
def reads_only(calls) -> None:
    """Every call the stand-in answered asked a question (Describe*): nothing was created, uploaded
    to Elastic Beanstalk's bucket or deployed."""
    written = sorted({call.action for call in calls if not call.action.startswith("Describe")})
    assert written == [], written


def test_a_dry_run_records_a_pending_plan_makes_no_write_call_and_without_it_the_step_deploys(
    run, eb_env, eb, s3, environment, old_version, app_dir
):
    from test.report.test_publish import pipelines
    from test.support.codeinsights import CodeInsightsStandIn

    env = eb_env | {"VERSION_LABEL": "release-9"}
    key, name = f"{environment.application}/release-9.zip", environment.name
    plan_id, result_id = (
        "aws-oidc-deploy-beanstalk-production-plan",
        "aws-oidc-deploy-beanstalk-production-result",
    )
    with CodeInsightsStandIn() as bitbucket:
        pipeline = env | pipelines(bitbucket, "production")
        result = run(pipeline | {"DRY_RUN": "true"})
        succeeded(result)
        reads_only(eb.actions())
        assert s3.list_objects_v2(Bucket=STORAGE_BUCKET, Prefix=key).get("KeyCount") == 0
        assert environment.version_label == "v-old" and eb.state.versions.keys() == {
            (environment.application, "v-old")
        }
        assert not os.path.exists(
            os.path.join(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"], "aws-oidc-deploy", "beanstalk.json")
        ), "a dry run must not overwrite the last deploy's result file"
        assert (
            f"INFO: Elastic Beanstalk plan: release-9 to {name}: Deploy release-9 to {name} (application "
            f"{environment.application}), which runs v-old with health Green (Ok); the bundle is new."
        ) in result.output
        assert f"INFO:   replaced {name}: version (v-old → release-9)" in result.output
        assert f"INFO:   added bundle s3://{STORAGE_BUCKET}/{key} (new)" in result.output
        assert result.last_line == (
            f"✔ Plan recorded: release-9 to {name} (Ready, health Green (Ok), version v-old); bundle new; "
            "nothing changed (dry run)."
        )
        planned = dict(bitbucket.reports[(COMMIT, plan_id)])
        assert planned["result"] == "PENDING"
        assert {"title": "Version to deploy", "type": "TEXT", "value": "release-9"} in planned["data"]
        assert {"title": "Bundle", "type": "TEXT", "value": "new"} in planned["data"]
        assert (COMMIT, result_id) not in bitbucket.reports

        result = run(pipeline)
        succeeded(result)
        assert environment.version_label == "release-9" and updates(eb) == ["release-9"]
        assert len(eb.actions("CreateApplicationVersion")) == 1
        done = bitbucket.reports[(COMMIT, result_id)]
    assert done["result"] == "PASSED"
    assert {"title": "Version running", "type": "TEXT", "value": "release-9"} in done["data"]
    assert {"title": "Rolled back", "type": "BOOLEAN", "value": False} in done["data"]


def test_a_dry_run_after_the_deploy_finds_the_bundle_reused_and_the_version_running(
    run, eb_env, eb, s3, environment, old_version, app_dir
):
    succeeded(run(eb_env))
    calls = len(eb.actions())
    result = run(eb_env | {"DRY_RUN": "true"})
    succeeded(result)
    label = label_of(eb_env)
    assert f"INFO:   unchanged {environment.name}: version ({label} (already running: deployed again))" in (
        result.output
    )
    assert "the bundle is reused." in result.output and result.last_line.endswith("(dry run).")
    reads_only(eb.actions()[calls:])
    assert updates(eb) == [label]


def test_a_dry_run_refuses_what_the_deploy_would_refuse(run, eb_env, eb, environment, old_version, app_dir):
    env = eb_env | {"BEANSTALK_COMMAND": "upload-only", "ENVIRONMENT_NAME": ""}
    succeeded(run(env))
    (app_dir / "application.py").write_text("def application(environ, start):\n    return [b'v2']\n")
    result = run(eb_env | {"DRY_RUN": "true"})
    assert_one_clear_failure(
        result,
        f"Version '{label_of(env)}' already exists in application '{environment.application}' with a different bundle",
    )
    assert updates(eb) == []


def test_a_dry_run_of_upload_only_plans_the_upload(run, eb_env, eb, s3, environment, old_version, app_dir):
    result = run(eb_env | {"BEANSTALK_COMMAND": "upload-only", "ENVIRONMENT_NAME": "", "DRY_RUN": "true"})
    succeeded(result)
    reads_only(eb.actions())
    key = f"{environment.application}/{label_of(eb_env)}.zip"
    assert f"INFO:   added bundle s3://{STORAGE_BUCKET}/{key} (new)" in result.output
    assert result.last_line.endswith("(bundle new); nothing changed (dry run).")
