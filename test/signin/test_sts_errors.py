"""pipe.signin.sts_errors: each STS failure told as what the user must change."""

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from pipe.common.errors import PipeError
from pipe.signin.arns import parse_role_arn
from pipe.signin.claims import Claims
from pipe.signin.sts_errors import explain_assume_role, explain_web_identity
from pipe.signin.trust import trust_policy
from test.support import tokens

ROLE = parse_role_arn("arn:aws:iam::123456789012:role/deploy")
CHAINED = parse_role_arn("arn:aws-cn:iam::210987654321:role/cross-account-deploy")
CALLER = "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42"
PROVIDER = "api.bitbucket.org/2.0/workspaces/sample-workspace/pipelines-config/identity/oidc"


@pytest.fixture
def claims() -> Claims:
    return Claims(tokens.claims())


def client_error(code: str, message: str = "", status: int = 400, operation="AssumeRoleWithWebIdentity"):
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        operation,
    )


# --- AssumeRoleWithWebIdentity --------------------------------------------------------------------------------------


def test_access_denied_names_the_role_and_gives_the_trust_policy_that_would_admit_the_token(claims):
    error = client_error("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity", 403)
    explained = explain_web_identity(error, ROLE, claims, 3600)
    assert isinstance(explained, PipeError)
    assert explained.message.startswith(
        "Not authorized to perform sts:AssumeRoleWithWebIdentity on arn:aws:iam::123456789012:role/deploy: "
        "its trust policy does not admit this token."
    )
    heading, _, policy = explained.details.partition("\n")
    assert heading == "# A trust policy for the role that admits this token:"
    assert json.loads(policy) == trust_policy(claims, "123456789012", "aws")


def test_access_denied_gives_a_policy_in_the_roles_partition(claims):
    role = parse_role_arn("arn:aws-us-gov:iam::123456789012:role/deploy")
    explained = explain_web_identity(client_error("AccessDenied", status=403), role, claims, 3600)
    policy = json.loads(explained.details.partition("\n")[2])
    assert (
        policy["Statement"][0]["Principal"]["Federated"]
        == f"arn:aws-us-gov:iam::123456789012:oidc-provider/{PROVIDER}"
    )


def test_invalid_identity_token_names_the_issuer_audience_and_provider_to_create(claims):
    explained = explain_web_identity(
        client_error("InvalidIdentityToken", "Incorrect token audience"), ROLE, claims, 3600
    )
    assert explained.message == (
        f"STS rejected the OIDC token (Incorrect token audience). The token's issuer is {tokens.ISSUER} and its "
        f"audience is {tokens.AUDIENCE}: account 123456789012 needs an IAM OIDC identity provider for "
        f"https://{PROVIDER} that lists {tokens.AUDIENCE} as an audience (client ID)."
    )
    assert explained.details == ""


def test_invalid_identity_token_without_a_message_shows_the_code(claims):
    explained = explain_web_identity(client_error("InvalidIdentityToken"), ROLE, claims, 3600)
    assert explained.message.startswith("STS rejected the OIDC token (InvalidIdentityToken).")


def test_a_duration_over_the_roles_maximum_names_the_duration(claims):
    error = client_error(
        "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    )
    explained = explain_web_identity(error, ROLE, claims, 43200)
    assert explained.message == (
        "AWS_ROLE_DURATION_SECONDS=43200 is more than arn:aws:iam::123456789012:role/deploy allows "
        "(its MaxSessionDuration). Lower AWS_ROLE_DURATION_SECONDS, or raise the role's maximum session duration."
    )


def test_another_validation_error_is_passed_on_with_its_code_and_message(claims):
    error = client_error("ValidationError", "1 validation error detected: Value at 'roleSessionName' failed")
    explained = explain_web_identity(error, ROLE, claims, 3600)
    assert explained.message == (
        "STS AssumeRoleWithWebIdentity for arn:aws:iam::123456789012:role/deploy failed: ValidationError: "
        "1 validation error detected: Value at 'roleSessionName' failed"
    )


def test_an_expired_token_says_to_rerun_the_step(claims):
    explained = explain_web_identity(
        client_error("ExpiredTokenException", "Token expired"), ROLE, claims, 3600
    )
    assert explained.message == "STS says the OIDC token has expired. Re-run the step to get a fresh token."


def test_a_disabled_region_names_the_account(claims):
    error = client_error("RegionDisabledException", "STS is not activated in this region.", 403)
    explained = explain_web_identity(error, ROLE, claims, 3600)
    assert (
        explained.message
        == "STS is not activated in this region for 123456789012: STS is not activated in this region."
    )


@pytest.mark.parametrize(
    ("error", "name"),
    [
        (
            EndpointConnectionError(endpoint_url="https://sts.eu-west-1.amazonaws.com"),
            "EndpointConnectionError",
        ),
        (ReadTimeoutError(endpoint_url="https://sts.eu-west-1.amazonaws.com"), "ReadTimeoutError"),
    ],
)
def test_a_network_failure_says_sts_could_not_be_reached(claims, error, name):
    explained = explain_web_identity(error, ROLE, claims, 3600)
    assert explained.message == (
        f"Could not reach AWS STS to assume arn:aws:iam::123456789012:role/deploy: {name}. "
        "Check the network and region."
    )


# --- AssumeRole (role chaining) ---------------------------------------------------------------------------------


def test_assume_role_access_denied_names_both_principals():
    error = client_error("AccessDenied", "not authorized", 403, operation="AssumeRole")
    explained = explain_assume_role(error, CHAINED, CALLER, 3600)
    role = "arn:aws-cn:iam::210987654321:role/cross-account-deploy"
    assert explained.message == (
        f"{CALLER} is not allowed to assume ROLE_ARN {role}. The trust policy of {role} must allow "
        f"this principal to sts:AssumeRole, and the first role needs sts:AssumeRole on {role} in its permissions."
    )


def test_assume_role_duration_names_the_duration():
    error = client_error("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit")
    explained = explain_assume_role(error, CHAINED, CALLER, 7200)
    assert explained.message == (
        "arn:aws-cn:iam::210987654321:role/cross-account-deploy does not allow sessions of 7200 s "
        "(its MaxSessionDuration). Lower AWS_ROLE_DURATION_SECONDS."
    )


def test_assume_role_other_errors_are_passed_on():
    explained = explain_assume_role(
        client_error("MalformedPolicyDocument", "bad", operation="AssumeRole"), CHAINED, CALLER, 900
    )
    assert explained.message == (
        "STS AssumeRole for arn:aws-cn:iam::210987654321:role/cross-account-deploy failed: MalformedPolicyDocument: bad"
    )


def test_assume_role_network_failure():
    explained = explain_assume_role(EndpointConnectionError(endpoint_url="https://x"), CHAINED, CALLER, 900)
    assert explained.message == (
        "Could not reach AWS STS to assume arn:aws-cn:iam::210987654321:role/cross-account-deploy: "
        "EndpointConnectionError. Check the network and region."
    )
