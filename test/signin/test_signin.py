"""pipe.signin against the moto server: sources, the Identity it returns, and the environment it hands on."""

import base64
import socket
import time
from datetime import UTC, datetime

import pytest

from pipe import signin
from pipe.aws import clients
from pipe.common import log
from pipe.common.errors import PipeError
from pipe.common.variables import read_all
from pipe.signin.arns import parse_role_arn
from test.support import aws
from test.support.checks import assert_one_clear_failure
from test.support.tokens import make_token


@pytest.fixture
def sts(moto_server, monkeypatch, tmp_path):
    """The pipe's AWS calls go to the moto server; nothing from this machine's AWS setup is used."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)
    # signin keeps one botocore session; a fresh one reads the environment set above.
    monkeypatch.setattr(clients, "_shared_botocore_session", None)
    return moto_server


@pytest.fixture
def env(token) -> dict[str, str]:
    return {
        "BITBUCKET_STEP_OIDC_TOKEN": token,
        "AWS_OIDC_ROLE_ARN": aws.ROLE_ARN,
        "AWS_DEFAULT_REGION": aws.REGION,
        "BITBUCKET_REPO_SLUG": "my-repo",
        "BITBUCKET_BUILD_NUMBER": "42",
    }


def sign_in(env: dict[str, str]) -> signin.Identity:
    return signin.sign_in(read_all(signin.VARIABLES, env), env)


SESSION_ARN = "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42"


# --- the OIDC token -------------------------------------------------------------------------------------------------


def test_the_oidc_token_signs_in_to_the_roles_account(sts, env):
    with aws.scripted("assume_role_with_web_identity") as calls:
        identity = sign_in(env)
    assert identity.account == aws.ACCOUNT
    assert identity.assumed_role_arn == SESSION_ARN
    assert identity.role == parse_role_arn(aws.ROLE_ARN)
    assert identity.session_name == "bitbucket-my-repo-42"
    assert identity.source == signin.SOURCE_OIDC
    assert identity.region == aws.REGION
    assert [(c["role_arn"], c["role_session_name"], c["duration"]) for c in calls.calls] == [
        (aws.ROLE_ARN, "bitbucket-my-repo-42", 3600)
    ]


def test_the_credentials_are_temporary_and_complete(sts, env):
    credentials = sign_in(env).credentials
    assert credentials.access_key_id.startswith("ASIA")
    assert len(credentials.secret_access_key) >= 40
    assert credentials.session_token
    assert isinstance(credentials.expiration, datetime)
    assert credentials.expiration > datetime.now(UTC)


def test_the_session_name_and_duration_variables_are_sent(sts, env):
    env |= {"AWS_ROLE_SESSION_NAME": "release-7", "AWS_ROLE_DURATION_SECONDS": "7200"}
    with aws.scripted("assume_role_with_web_identity") as calls:
        identity = sign_in(env)
    assert identity.session_name == "release-7"
    assert [(c["role_session_name"], c["duration"]) for c in calls.calls] == [("release-7", 7200)]


def test_the_credentials_sts_returned_are_masked_from_then_on(sts, env, token):
    credentials = sign_in(env).credentials
    assert log.redact(f"secret={credentials.secret_access_key}") == f"secret={log.MASK}"
    assert log.redact(f"token {credentials.session_token} end") == f"token {log.MASK} end"
    # The token was registered too: its base64 form is not JWT-shaped, so only registration masks it.
    encoded = base64.b64encode(token.encode()).decode().rstrip("=")
    assert log.redact(f"oidc {encoded}") == f"oidc {log.MASK}"


def test_the_signed_in_session_is_who_sts_says(sts, env):
    identity = sign_in(env)
    answer = identity.caller_identity()
    assert answer["Account"] == aws.ACCOUNT
    assert answer["Arn"] == SESSION_ARN


def test_sts_refusing_the_token_is_explained(sts, env):
    with (
        aws.scripted("assume_role_with_web_identity", aws.access_denied()) as calls,
        pytest.raises(PipeError) as caught,
    ):
        sign_in(env)
    assert len(calls.calls) == 1
    assert caught.value.message.startswith(
        f"Not authorized to perform sts:AssumeRoleWithWebIdentity on {aws.ROLE_ARN}: its trust policy does not admit"
    )
    assert '"Federated": "arn:aws:iam::123456789012:oidc-provider/' in caught.value.details


def test_a_role_in_another_partition_than_the_region_is_refused_before_any_call(sts, env):
    env["AWS_DEFAULT_REGION"] = "cn-north-1"
    with aws.scripted("assume_role_with_web_identity") as calls, pytest.raises(PipeError) as caught:
        sign_in(env)
    assert caught.value.message == (
        "AWS_OIDC_ROLE_ARN is in partition aws but region cn-north-1 is in aws-cn: "
        "set AWS_DEFAULT_REGION to a region of the role's partition."
    )
    assert calls.calls == []


def test_an_expired_token_is_refused_before_any_call(sts, env):
    env["BITBUCKET_STEP_OIDC_TOKEN"] = make_token(expires_in=-30)
    with aws.scripted("assume_role_with_web_identity") as calls, pytest.raises(PipeError, match="expired at"):
        sign_in(env)
    assert calls.calls == []


def test_an_account_not_in_the_allowed_list_is_refused(sts, env):
    env["AWS_ALLOWED_ACCOUNT_IDS"] = "111111111111,222222222222"
    with pytest.raises(PipeError) as caught:
        sign_in(env)
    assert caught.value.message == (
        "Signed in to AWS account 123456789012, which is not in AWS_ALLOWED_ACCOUNT_IDS "
        "(111111111111, 222222222222). Check the role ARN, or add the account to the list if it is intended."
    )


def test_an_account_in_the_allowed_list_is_accepted(sts, env):
    env |= {"AWS_ALLOWED_ACCOUNT_IDS_COUNT": "2", "AWS_ALLOWED_ACCOUNT_IDS_0": "111111111111"}
    env["AWS_ALLOWED_ACCOUNT_IDS_1"] = aws.ACCOUNT
    assert sign_in(env).account == aws.ACCOUNT


# --- role chaining and the other sources -------------------------------------------------------------------------


def test_role_arn_is_assumed_next_with_a_short_first_hop_and_a_capped_second(sts, env):
    env |= {"ROLE_ARN": aws.CHAINED_ROLE_ARN, "AWS_ROLE_DURATION_SECONDS": "7200"}
    with aws.scripted("assume_role") as calls:
        identity = sign_in(env)
    # moto's web-identity call goes through its assume_role too, so both hops are recorded here.
    assert [(c["role_arn"], c["duration"]) for c in calls.calls] == [
        (aws.ROLE_ARN, signin.CHAIN_FIRST_HOP_SECONDS),
        (aws.CHAINED_ROLE_ARN, signin.CHAINED_SESSION_LIMIT_SECONDS),
    ]
    assert identity.account == "210987654321"
    assert (
        identity.assumed_role_arn
        == "arn:aws:sts::210987654321:assumed-role/cross-account-deploy/bitbucket-my-repo-42"
    )
    assert identity.role == parse_role_arn(aws.CHAINED_ROLE_ARN)
    assert identity.source == f"{signin.SOURCE_OIDC}, then ROLE_ARN (role chaining)"


def test_a_token_file_with_aws_role_arn_signs_in(sts, tmp_path, token):
    path = tmp_path / "token"
    path.write_text(token + "\n")
    env = {"AWS_WEB_IDENTITY_TOKEN_FILE": str(path), "AWS_ROLE_ARN": aws.ROLE_ARN, "AWS_REGION": aws.REGION}
    identity = sign_in(env)
    assert identity.source == signin.SOURCE_TOKEN_FILE
    assert identity.account == aws.ACCOUNT
    # No BITBUCKET_REPO_SLUG or BITBUCKET_BUILD_NUMBER outside Bitbucket: the fallback session name.
    assert identity.session_name == "aws-oidc-deploy"
    assert identity.assumed_role_arn == "arn:aws:sts::123456789012:assumed-role/deploy/aws-oidc-deploy"


def test_access_keys_sign_in_without_a_call_and_are_masked(sts):
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "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",
        "AWS_DEFAULT_REGION": aws.REGION,
    }
    identity = sign_in(env)
    assert identity.source == signin.SOURCE_ACCESS_KEYS
    assert identity.credentials == signin.Credentials(
        "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYACCESSKEYS"
    )
    assert identity.role is None and identity.session_name is None
    assert log.redact("wJalrXUtnFEMI/K7MDENG/bPxRfiCYACCESSKEYS") == log.MASK


# --- Identity.environment -----------------------------------------------------------------------------------------

BASE = {
    "PATH": "/usr/bin:/bin",
    "BITBUCKET_CLONE_DIR": "/opt/atlassian/pipelines/agent/build",
    "AWS_PROFILE": "default",
    "AWS_DEFAULT_PROFILE": "default",
    "AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token",
    "AWS_ROLE_ARN": "arn:aws:iam::999999999999:role/other",
    "AWS_ROLE_SESSION_NAME": "other",
    "AWS_SHARED_CREDENTIALS_FILE": "/root/.aws/credentials",
    "AWS_CONFIG_FILE": "/root/.aws/config",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials",
    "BITBUCKET_STEP_OIDC_TOKEN": "eyJ.a.b",
    "AWS_ACCESS_KEY_ID": "AKIAOLDOLDOLDOLDOLD1",
    "AWS_SECRET_ACCESS_KEY": "old-secret",
    "AWS_SESSION_TOKEN": "stale-session-token",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def test_the_environment_has_these_credentials_and_no_other_source(sts, env):
    identity = sign_in(env)
    credentials = identity.credentials
    assert identity.environment(BASE) == {
        "PATH": "/usr/bin:/bin",
        "BITBUCKET_CLONE_DIR": "/opt/atlassian/pipelines/agent/build",
        "AWS_ACCESS_KEY_ID": credentials.access_key_id,
        "AWS_SECRET_ACCESS_KEY": credentials.secret_access_key,
        "AWS_SESSION_TOKEN": credentials.session_token,
        "AWS_REGION": aws.REGION,
        "AWS_DEFAULT_REGION": aws.REGION,
    }


def test_the_environment_leaves_the_base_unchanged(sts, env):
    base = dict(BASE)
    sign_in(env).environment(base)
    assert base == BASE


def test_access_keys_without_a_session_token_leave_no_stale_one(sts):
    identity = sign_in(
        {
            "AWS_ACCESS_KEY_ID": "AKIANEWNEWNEWNEWNEW1",
            "AWS_SECRET_ACCESS_KEY": "new-secret-value",
            "AWS_REGION": "eu-central-1",
        }
    )
    child = identity.environment(BASE)
    assert "AWS_SESSION_TOKEN" not in child
    assert (child["AWS_ACCESS_KEY_ID"], child["AWS_SECRET_ACCESS_KEY"]) == (
        "AKIANEWNEWNEWNEWNEW1",
        "new-secret-value",
    )
    assert (child["AWS_REGION"], child["AWS_DEFAULT_REGION"]) == ("eu-central-1", "eu-central-1")


def test_access_keys_with_a_session_token_pass_it_on(sts):
    identity = sign_in(
        {
            "AWS_ACCESS_KEY_ID": "ASIANEWNEWNEWNEWNEW1",
            "AWS_SECRET_ACCESS_KEY": "new-secret-value",
            "AWS_SESSION_TOKEN": "new-session-token",
            "AWS_REGION": "eu-central-1",
        }
    )
    assert identity.environment(BASE)["AWS_SESSION_TOKEN"] == "new-session-token"


# --- region -------------------------------------------------------------------------------------------------------


def test_aws_default_region_wins_over_aws_region(caplog):
    assert signin.region({"AWS_DEFAULT_REGION": "eu-west-1", "AWS_REGION": "us-east-1"}) == "eu-west-1"
    assert "AWS_DEFAULT_REGION (eu-west-1) and AWS_REGION (us-east-1) differ; using eu-west-1." in caplog.text


def test_aws_region_is_used_alone():
    assert signin.region({"AWS_REGION": "ap-southeast-2"}) == "ap-southeast-2"
    assert signin.region({"AWS_DEFAULT_REGION": None, "AWS_REGION": "ap-southeast-2"}) == "ap-southeast-2"


def test_no_region_is_refused():
    with pytest.raises(PipeError) as caught:
        signin.region({"AWS_DEFAULT_REGION": None, "AWS_REGION": None})
    assert caught.value.message == (
        "AWS_DEFAULT_REGION is required: set it to the region to work in, such as eu-west-1."
    )


# Within this after the budget (pipe.signin.retry.TOTAL_BUDGET_SECONDS): start-up on a loaded machine.
_START_UP_SLACK_SECONDS = 15


def test_a_sign_in_that_cannot_reach_sts_fails_within_its_budget(run, pipe_env):
    """An endpoint that accepts connections and never answers (the kernel accepts them into the
    backlog; nothing reads) took 96-100 s before 0.7; now one line within the 30 s budget."""
    from pipe.signin import retry

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        started = time.monotonic()
        result = run(pipe_env | {"AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{silent.getsockname()[1]}"})
        took = time.monotonic() - started
    assert_one_clear_failure(result, "Could not reach AWS STS to assume")
    assert took < retry.TOTAL_BUDGET_SECONDS + _START_UP_SLACK_SECONDS, f"{took:.0f} s"
