"""End to end: COMMAND=whoami as a process against the moto server."""

import shutil
import sys
from pathlib import Path

from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.run import run_pipe


def test_whoami_prints_the_assumed_role(run, pipe_env):
    result = run(pipe_env)
    assert result.returncode == 0, result.output
    assert "Account:           123456789012" in result.stdout
    assert (
        "Assumed-role ARN:  arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42"
        in result.stdout
    )
    assert f"Role ARN:          {aws.ROLE_ARN}" in result.stdout
    assert "Session name:      bitbucket-my-repo-42" in result.stdout
    assert "Credential source: OIDC token (BITBUCKET_STEP_OIDC_TOKEN)" in result.stdout
    assert "(in 59 min" in result.stdout
    assert "repositoryUuid={0d3b9a44" in result.output and "branchName=main" in result.output
    assert result.last_line.startswith("✔ Signed in to AWS account 123456789012")


def test_debug_output_holds_no_secret(run, pipe_env, moto_server):
    with aws.scripted("assume_role_with_web_identity") as sts:
        result = run(pipe_env | {"DEBUG": "true"})
    assert result.returncode == 0, result.output
    # DEBUG really is on: botocore's request and response logging went through the filter.
    assert "DEBUG: " in result.output and "Response body" in result.output
    assert "****" in result.output
    backend = aws.sts_backend()
    issued = [role for role in backend.assumed_roles if role.session_name == "bitbucket-my-repo-42"]
    assert issued and len(sts.calls) == 1
    credentials = issued[-1]
    assert_no_secret(
        result.output,
        pipe_env["BITBUCKET_STEP_OIDC_TOKEN"],
        credentials.secret_access_key,
        credentials.session_token,
    )


def test_transient_idp_errors_are_retried_and_logged(run, pipe_env):
    failures = (aws.idp_communication_error(), aws.idp_communication_error())
    with aws.scripted("assume_role_with_web_identity", *failures) as sts:
        result = run(pipe_env)
    assert result.returncode == 0, result.output
    assert len(sts.calls) == 3
    assert result.output.count("failed with IDPCommunicationError (transient); retry") == 2


def test_5xx_is_retried(run, pipe_env):
    with aws.scripted("assume_role_with_web_identity", aws.service_unavailable()) as sts:
        result = run(pipe_env)
    assert result.returncode == 0, result.output
    assert len(sts.calls) == 2 and "ServiceUnavailable (transient)" in result.output


def test_access_denied_is_not_retried_and_prints_the_trust_policy(run, pipe_env):
    with aws.scripted("assume_role_with_web_identity", aws.access_denied()) as sts:
        result = run(pipe_env)
    assert_one_clear_failure(
        result, "Not authorized to perform sts:AssumeRoleWithWebIdentity on " + aws.ROLE_ARN
    )
    assert len(sts.calls) == 1 and "(transient); retry" not in result.output
    policy = result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1]
    import json

    statement = json.loads(policy)["Statement"][0]
    issuer = "api.bitbucket.org/2.0/workspaces/sample-workspace/pipelines-config/identity/oidc"
    assert statement["Principal"]["Federated"] == f"arn:aws:iam::123456789012:oidc-provider/{issuer}"
    assert statement["Condition"]["StringLike"][f"{issuer}:sub"].startswith("{0d3b9a44")


def test_invalid_identity_token_names_issuer_and_audience(run, pipe_env):
    with aws.scripted("assume_role_with_web_identity", aws.invalid_identity_token()):
        result = run(pipe_env)
    line = assert_one_clear_failure(result, "STS rejected the OIDC token (Incorrect token audience)")
    assert "must" not in line or "lists ari:cloud:bitbucket::workspace/" in line
    assert "https://api.bitbucket.org/2.0/workspaces/sample-workspace/pipelines-config/identity/oidc" in line


def test_duration_above_role_maximum_says_so(run, pipe_env):
    with aws.scripted("assume_role_with_web_identity", aws.duration_too_long()):
        result = run(pipe_env | {"AWS_ROLE_DURATION_SECONDS": "43200"})
    assert_one_clear_failure(result, "AWS_ROLE_DURATION_SECONDS=43200 is more than")


def test_role_chaining_assumes_the_second_role_and_caps_the_duration(run, pipe_env):
    with (
        aws.scripted("assume_role_with_web_identity") as first,
        aws.scripted("assume_role") as second,
    ):
        result = run(pipe_env | {"ROLE_ARN": aws.CHAINED_ROLE_ARN, "AWS_ROLE_DURATION_SECONDS": "7200"})
    assert result.returncode == 0, result.output
    assert "Account:           210987654321" in result.stdout
    assert "AWS limits a chained session (ROLE_ARN) to 3600 s" in result.output
    # moto's web-identity call goes through assume_role too: pick the chained call out.
    chained = [call for call in second.calls if call["role_arn"] == aws.CHAINED_ROLE_ARN]
    assert len(chained) == 1 and chained[0]["duration"] == 3600
    assert first.calls[0]["role_arn"] == aws.ROLE_ARN and first.calls[0]["duration"] == 900


def test_allowed_account_ids_reject_another_account(run, pipe_env):
    result = run(
        pipe_env | {"AWS_ALLOWED_ACCOUNT_IDS_COUNT": "1", "AWS_ALLOWED_ACCOUNT_IDS_0": "111111111111"}
    )
    assert_one_clear_failure(
        result, "Signed in to AWS account 123456789012, which is not in AWS_ALLOWED_ACCOUNT_IDS"
    )


def test_allowed_account_ids_admit_the_account(run, pipe_env):
    result = run(pipe_env | {"AWS_ALLOWED_ACCOUNT_IDS": "111111111111, 123456789012"})
    assert result.returncode == 0, result.output


def test_web_identity_token_file_is_the_next_source(run, pipe_env, tmp_path, token):
    token_file = tmp_path / "token"
    token_file.write_text(token)
    env = {k: v for k, v in pipe_env.items() if k not in ("AWS_OIDC_ROLE_ARN", "BITBUCKET_STEP_OIDC_TOKEN")}
    result = run(env | {"AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file), "AWS_ROLE_ARN": aws.ROLE_ARN})
    assert result.returncode == 0, result.output
    assert "Credential source: token file (AWS_WEB_IDENTITY_TOKEN_FILE)" in result.stdout


def test_access_keys_work_with_a_warning(run, pipe_env):
    env = {k: v for k, v in pipe_env.items() if k not in ("AWS_OIDC_ROLE_ARN", "BITBUCKET_STEP_OIDC_TOKEN")}
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    result = run(
        env | {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": secret, "DEBUG": "true"}
    )
    assert result.returncode == 0, result.output
    assert "WARNING: Credential source: access keys" in result.output and "Prefer OIDC" in result.output
    assert "does not expire" in result.stdout
    assert_no_secret(result.output, secret)


def test_nothing_is_written_to_the_clone_dir(run, pipe_env, clone_dir):
    result = run(pipe_env | {"DEBUG": "true"})
    assert result.returncode == 0, result.output
    assert list(clone_dir.iterdir()) == []


def test_console_script_runs_the_pipe(pipe_env, clone_dir):
    script = Path(sys.executable).parent / "aws-oidc-deploy"
    assert script.exists() or shutil.which("aws-oidc-deploy")
    result = run_pipe(pipe_env, cwd=clone_dir, command=[str(script)])
    assert result.returncode == 0, result.output
    assert result.last_line.startswith("✔ Signed in")


def test_aws_profile_from_a_laptop_is_ignored(run, pipe_env):
    result = run(pipe_env | {"AWS_PROFILE": "my-laptop-profile", "AWS_DEFAULT_PROFILE": "other"})
    assert result.returncode == 0, result.output
