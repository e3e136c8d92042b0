"""pipe.signin.trust: the trust policy that admits a token, and the CloudFormation template around it."""

import json

import pytest
import yaml

from pipe.signin.claims import Claims
from pipe.signin.trust import (
    ACCOUNT_PLACEHOLDER,
    cloudformation_template,
    provider_arn,
    scope_description,
    subject_pattern,
    trust_policy,
    trust_policy_json,
)
from test.support import tokens

ACCOUNT = "123456789012"
PROVIDER = "api.bitbucket.org/2.0/workspaces/sample-workspace/pipelines-config/identity/oidc"
REPOSITORY = tokens.REPOSITORY_UUID
ENVIRONMENT = tokens.ENVIRONMENT_UUID


@pytest.fixture
def with_environment() -> Claims:
    return Claims(tokens.claims(environment=True))


@pytest.fixture
def without_environment() -> Claims:
    return Claims(tokens.claims(environment=False))


@pytest.fixture
def github() -> Claims:
    """A token from another issuer: no repositoryUuid, so only its exact subject can be trusted."""
    return Claims(
        {
            "iss": "https://token.actions.githubusercontent.com",
            "aud": "sts.amazonaws.com",
            "sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
            "exp": 2_000_000_000,
        }
    )


def _statement(principal: str, condition: dict) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": principal},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        ],
    }


def test_a_step_with_a_deployment_environment_is_trusted_for_that_environment(with_environment):
    assert trust_policy(with_environment, ACCOUNT) == _statement(
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/{PROVIDER}",
        {
            "StringEquals": {f"{PROVIDER}:aud": tokens.AUDIENCE},
            "StringLike": {f"{PROVIDER}:sub": f"{REPOSITORY}:{ENVIRONMENT}:*"},
        },
    )


def test_a_step_without_a_deployment_environment_is_trusted_for_the_repository(without_environment):
    assert trust_policy(without_environment, ACCOUNT) == _statement(
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/{PROVIDER}",
        {
            "StringEquals": {f"{PROVIDER}:aud": tokens.AUDIENCE},
            "StringLike": {f"{PROVIDER}:sub": f"{REPOSITORY}:*"},
        },
    )


def test_a_token_without_a_repository_is_trusted_for_its_exact_subject(github):
    assert trust_policy(github, ACCOUNT) == _statement(
        f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
        {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": "repo:octo-org/octo-repo:ref:refs/heads/main",
            }
        },
    )


def test_the_subject_patterns(with_environment, without_environment, github):
    assert subject_pattern(with_environment) == f"{REPOSITORY}:{ENVIRONMENT}:*"
    assert subject_pattern(without_environment) == f"{REPOSITORY}:*"
    assert subject_pattern(github) == "repo:octo-org/octo-repo:ref:refs/heads/main"


def test_the_subject_pattern_matches_the_token_it_was_made_for(with_environment, without_environment):
    for claims in (with_environment, without_environment):
        pattern = subject_pattern(claims)
        assert claims.subject.startswith(pattern.removesuffix("*"))


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_the_provider_arn_uses_the_partition_and_account(with_environment, partition):
    expected = f"arn:{partition}:iam::{ACCOUNT}:oidc-provider/{PROVIDER}"
    assert provider_arn(with_environment, ACCOUNT, partition) == expected
    principal = trust_policy(with_environment, ACCOUNT, partition)["Statement"][0]["Principal"]
    assert principal == {"Federated": expected}


def test_an_unknown_account_is_a_placeholder(with_environment):
    principal = trust_policy(with_environment, None)["Statement"][0]["Principal"]["Federated"]
    assert principal == f"arn:aws:iam::{ACCOUNT_PLACEHOLDER}:oidc-provider/{PROVIDER}"


def test_the_json_form_is_the_same_policy(with_environment):
    text = trust_policy_json(with_environment, ACCOUNT, "aws-cn")
    assert json.loads(text) == trust_policy(with_environment, ACCOUNT, "aws-cn")
    assert text.startswith('{\n  "Version": "2012-10-17",')


def test_scope_descriptions(with_environment, without_environment, github):
    assert (
        scope_description(with_environment)
        == f"repository {REPOSITORY}, deployment environment {ENVIRONMENT}"
    )
    assert scope_description(without_environment) == f"repository {REPOSITORY}"
    assert scope_description(github) == "subject repo:octo-org/octo-repo:ref:refs/heads/main"


# --- the CloudFormation template ---------------------------------------------------------------------------------


@pytest.fixture
def template_text(with_environment) -> str:
    return cloudformation_template(with_environment, "bitbucket-my-repo-deploy")


@pytest.fixture
def template(template_text) -> dict:
    return yaml.safe_load(template_text)


def test_the_template_has_no_yaml_aliases(template_text):
    # The provider reference is used twice; CloudFormation rejects the &id001/*id001 PyYAML would write.
    assert "&id" not in template_text
    assert "*id" not in template_text


def test_the_template_declares_the_oidc_provider(template):
    provider = template["Resources"]["BitbucketOIDCProvider"]
    assert provider == {
        "Type": "AWS::IAM::OIDCProvider",
        "Condition": "CreateProvider",
        "Properties": {"Url": f"https://{PROVIDER}", "ClientIdList": [tokens.AUDIENCE]},
    }


def test_the_roles_trust_condition_is_the_trust_policys(template, with_environment):
    document = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]
    statement = document["Statement"][0]
    expected = trust_policy(with_environment, ACCOUNT)["Statement"][0]
    assert document["Version"] == "2012-10-17"
    assert statement["Condition"] == expected["Condition"]
    assert statement["Action"] == expected["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"]["Federated"] == template["Outputs"]["OIDCProviderArn"]["Value"]


def test_the_principal_is_the_new_provider_or_the_existing_one(template):
    principal = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert principal["Principal"]["Federated"] == {
        "Fn::If": [
            "CreateProvider",
            {"Ref": "BitbucketOIDCProvider"},
            {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{PROVIDER}"},
        ]
    }


def test_the_template_outputs_the_role_arn(template):
    assert template["Outputs"]["RoleArn"] == {
        "Description": "Set this as AWS_OIDC_ROLE_ARN.",
        "Value": {"Fn::GetAtt": ["DeployRole", "Arn"]},
    }


def test_the_template_parameters_default_to_the_role_name(template):
    parameters = template["Parameters"]
    assert parameters["RoleName"] == {"Type": "String", "Default": "bitbucket-my-repo-deploy"}
    assert template["Resources"]["DeployRole"]["Properties"]["RoleName"] == {"Ref": "RoleName"}
    assert parameters["CreateOIDCProvider"]["Default"] == "true"
    assert parameters["MaxSessionDuration"]["Default"] == 3600


def test_the_template_describes_its_scope(template):
    assert template["AWSTemplateFormatVersion"] == "2010-09-09"
    assert template["Description"] == (
        f"Bitbucket Pipelines deploy role for repository {REPOSITORY}, deployment environment {ENVIRONMENT} "
        "(aws-oidc-deploy)"
    )


def test_a_template_for_another_issuer_uses_string_equals_on_the_subject(github):
    template = yaml.safe_load(cloudformation_template(github, "deploy"))
    statement = template["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert statement["Condition"] == trust_policy(github, None)["Statement"][0]["Condition"]
    assert template["Resources"]["BitbucketOIDCProvider"]["Properties"]["Url"] == (
        "https://token.actions.githubusercontent.com"
    )


def test_the_template_reads_back_as_pyyaml_would_have_written_it(
    with_environment, without_environment, github
):
    for claims in (with_environment, without_environment, github):
        text = cloudformation_template(claims, "deploy")
        # The template as PyYAML wrote it before: the same document, line for line where no value
        # needed quoting or wrapping.
        assert yaml.safe_load(text) == yaml.safe_load(yaml.safe_dump(yaml.safe_load(text), sort_keys=False))
        assert "  Type: AWS::IAM::Role\n" in text and 'AWSTemplateFormatVersion: "2010-09-09"\n' in text
