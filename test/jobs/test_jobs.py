"""The job protocol (pipe/jobs/__init__.py): every job in the dispatch table follows it, and a job's
settings are read before the sign-in, so that a setting wrong on its own fails before any AWS call."""

import typing

import pytest

from pipe import jobs
from pipe.common.variables import Variable
from test.support import aws
from test.support.checks import assert_one_clear_failure


@pytest.mark.parametrize("command", list(jobs.JOBS))
def test_every_job_follows_the_protocol(command):
    job = jobs.load(command)
    assert isinstance(job.VARIABLES, tuple) and all(isinstance(v, Variable) for v in job.VARIABLES)
    assert isinstance(job.SIGNS_IN, bool)
    assert callable(job.read_settings)
    # The context run() declares is the one the entry point gives a job that does (not) sign in.
    context_type = typing.get_type_hints(job.run)["context"]
    assert typing.get_origin(context_type) is (jobs.SignedIn if job.SIGNS_IN else jobs.WithClaims)


# (job, what is set besides COMMAND, what the one line says): each wrong in the settings alone.
WRONG_ON_THEIR_OWN = [
    pytest.param(
        "s3-sync",
        {"S3_BUCKET": "my-bucket", "LOCAL_PATH": "site", "SSE_KMS_KEY_ID": "alias/site"},
        "SSE_KMS_KEY_ID needs SSE: 'aws:kms'",
        id="s3-sync",
    ),
    pytest.param(
        "beanstalk",
        {"APPLICATION_NAME": "app", "ENVIRONMENT_NAME": "app-prod", "BEANSTALK_COMMAND": "deploy-only"}
        | {"VERSION_LABEL": "v1", "ZIP_FILE": "app.zip"},
        "BEANSTALK_COMMAND deploy-only deploys an existing VERSION_LABEL",
        id="beanstalk",
    ),
    pytest.param("cdk", {"CDK_COMMAND": "synth"}, "No cdk.json in the clone directory", id="cdk"),
    pytest.param(
        "kubectl",
        {"CLUSTER_NAME": "web", "KUBECTL_COMMAND": "apply"},
        "RESOURCE_PATH is required for KUBECTL_COMMAND apply",
        id="kubectl",
    ),
]


@pytest.mark.parametrize(("command", "settings", "expected"), WRONG_ON_THEIR_OWN)
def test_a_setting_wrong_on_its_own_fails_before_the_sign_in(
    run, pipe_env, clone_dir, command, settings, expected
):
    env = pipe_env | {"BITBUCKET_CLONE_DIR": str(clone_dir), "COMMAND": command} | settings
    with aws.scripted("assume_role_with_web_identity") as sts:
        result = run(env)
    assert_one_clear_failure(result, expected)
    assert sts.calls == []
    assert "Signed in" not in result.output
