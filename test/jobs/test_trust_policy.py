"""End to end: COMMAND=trust-policy needs only the token and makes no AWS call."""

import json

import yaml

from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.tokens import ISSUER, REPOSITORY_UUID, make_token

PROVIDER = ISSUER.removeprefix("https://")
# Nothing listens here: any AWS call would fail the run.
CLOSED_ENDPOINT = "http://127.0.0.1:9"


def documents(stdout: str) -> tuple[dict, dict]:
    lines = stdout.splitlines()
    start, end = lines.index("{"), lines.index("}")
    policy = json.loads("\n".join(lines[start : end + 1]))
    template_start = next(i for i, line in enumerate(lines) if line.startswith("AWSTemplateFormatVersion"))
    template_end = next(
        i for i, line in enumerate(lines) if line.startswith("✔") or ("\x1b" in line and "✔" in line)
    )
    template = yaml.safe_load("\n".join(lines[template_start:template_end]))
    return policy, template


def trust_env(pipe_env: dict) -> dict:
    env = {name: value for name, value in pipe_env.items() if name != "AWS_DEFAULT_REGION"}
    return env | {"COMMAND": "trust-policy", "AWS_ENDPOINT_URL": CLOSED_ENDPOINT}


def test_prints_policy_and_template_without_region_or_aws(run, pipe_env):
    result = run(trust_env(pipe_env))
    assert result.returncode == 0, result.output
    policy, template = documents(result.stdout)
    statement = policy["Statement"][0]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"] == f"arn:aws:iam::123456789012:oidc-provider/{PROVIDER}"
    assert statement["Condition"]["StringEquals"][f"{PROVIDER}:aud"].startswith(
        "ari:cloud:bitbucket::workspace/"
    )
    assert statement["Condition"]["StringLike"][f"{PROVIDER}:sub"].startswith(f"{REPOSITORY_UUID}:{{9e2a7f10")

    provider = template["Resources"]["BitbucketOIDCProvider"]["Properties"]
    assert provider == {
        "Url": ISSUER,
        "ClientIdList": [statement["Condition"]["StringEquals"][f"{PROVIDER}:aud"]],
    }
    role = template["Resources"]["DeployRole"]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"] == statement["Condition"]
    assert template["Parameters"]["RoleName"]["Default"] == "deploy"
    assert "no AWS call was made" in result.last_line
    assert_no_secret(result.output, pipe_env["BITBUCKET_STEP_OIDC_TOKEN"])


def test_without_role_arn_uses_a_placeholder_account(run, pipe_env):
    env = {name: value for name, value in trust_env(pipe_env).items() if name != "AWS_OIDC_ROLE_ARN"}
    result = run(env)
    assert result.returncode == 0, result.output
    policy, template = documents(result.stdout)
    assert "<ACCOUNT_ID>" in policy["Statement"][0]["Principal"]["Federated"]
    assert template["Parameters"]["RoleName"]["Default"] == "bitbucket-my-repo-deploy"


def test_step_without_deployment_environment_is_scoped_to_the_repository(run, pipe_env):
    result = run(trust_env(pipe_env) | {"BITBUCKET_STEP_OIDC_TOKEN": make_token(environment=False)})
    assert result.returncode == 0, result.output
    policy, _ = documents(result.stdout)
    assert policy["Statement"][0]["Condition"]["StringLike"][f"{PROVIDER}:sub"] == f"{REPOSITORY_UUID}:*"


def test_without_token_says_to_add_oidc_true(run, pipe_env):
    env = {name: value for name, value in trust_env(pipe_env).items() if name != "BITBUCKET_STEP_OIDC_TOKEN"}
    assert_one_clear_failure(run(env), "add `oidc: true` to this step")


def test_debug_shows_no_token(run, pipe_env):
    result = run(trust_env(pipe_env) | {"DEBUG": "true"})
    assert result.returncode == 0, result.output
    assert "DEBUG: aws-oidc-deploy" in result.output
    assert_no_secret(result.output, pipe_env["BITBUCKET_STEP_OIDC_TOKEN"])


def test_expired_token_is_refused(run, pipe_env):
    result = run(trust_env(pipe_env) | {"BITBUCKET_STEP_OIDC_TOKEN": make_token(expires_in=-5)})
    assert_one_clear_failure(result, "expired at")


def test_role_arn_partition_is_used(run, pipe_env):
    role = "arn:aws-us-gov:iam::123456789012:role/gov-deploy"
    result = run(trust_env(pipe_env) | {"AWS_OIDC_ROLE_ARN": role})
    assert result.returncode == 0, result.output
    policy, _ = documents(result.stdout)
    assert policy["Statement"][0]["Principal"]["Federated"].startswith("arn:aws-us-gov:iam::123456789012:")
    assert aws.ACCOUNT in policy["Statement"][0]["Principal"]["Federated"]


# Start-up is a feature (issue 16: trust-policy within 80 ms): each costs milliseconds to tens of
# milliseconds to import, and trust-policy, which makes no call and writes its YAML itself, needs none.
HEAVY = {
    "botocore",
    "boto3",
    "awscrt",
    "s3transfer",
    "requests",
    "urllib3",
    "http",
    "ssl",
    "email",
    "yaml",
    # Neither colorlog nor colorama is here: colorlog formats the log since issue 24, and trust-policy
    # logs the token's claims (~3 ms of CPU with colour on, bench/startup.py); colorama is held back for
    # that import (its failed attempt shows as a line of its own), and ctypes, which it would load,
    # stays out (test/test_main.py checks colorama in sys.modules itself).
    "ctypes",
    "dataclasses",
    "kubernetes",
    "bitbucket_pipes_toolkit",
}


def test_loads_no_aws_sdk_no_yaml_and_no_toolkit(run, pipe_env):
    result = run(pipe_env | {"COMMAND": "trust-policy", "PYTHONPROFILEIMPORTTIME": "1"})
    assert result.returncode == 0, result.output
    imported = {
        line.rsplit("|", 1)[-1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "pipe.signin" in imported  # the probe sees imports at all
    assert not {name.split(".")[0] for name in imported} & HEAVY


# --- POLICY_FOR_JOBS (hypothesis; repeatable profile in test/conftest.py) ------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipe.common.errors import PipeError  # noqa: E402
from pipe.jobs import trust_policy  # noqa: E402
from pipe.signin import policies  # noqa: E402

_POLICY_FOR_JOBS = next(v for v in trust_policy.VARIABLES if v.name == "POLICY_FOR_JOBS")


_JOB_NAMES = st.tuples(
    st.sampled_from(list(policies.POLICIES)), st.booleans(), st.sampled_from(["", " ", "\t"])
).map(lambda chosen: f"{chosen[2]}{chosen[0].upper() if chosen[1] else chosen[0]}{chosen[2]}")


@given(st.lists(st.one_of(_JOB_NAMES, st.text(max_size=40)), min_size=1, max_size=5))
def test_policy_for_jobs_takes_job_names_only_and_refuses_anything_else_in_one_line(items):
    """Each item is a job's name (any case, spaces around), or the one line names the choices; a value
    is shown escaped, never as raw control characters (no forged line)."""
    known = [item.strip().lower() in policies.POLICIES for item in items]
    try:
        read = _POLICY_FOR_JOBS.read(items)
    except PipeError as error:
        assert not all(known)
        assert error.message.startswith("POLICY_FOR_JOBS ")
        assert all(character.isprintable() for character in error.message), error.message
        return
    assert all(known) and read == [item.strip().lower() for item in items]
