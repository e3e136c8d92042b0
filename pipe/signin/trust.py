"""IAM trust policies and a CloudFormation template that admit a given Bitbucket OIDC token."""

import json
from typing import Any

from pipe.common.block_yaml import block_yaml
from pipe.signin.claims import Claims

ACCOUNT_PLACEHOLDER = "<ACCOUNT_ID>"
# Role chaining and most pipelines need no more; CloudFormation's own default is one hour too.
DEFAULT_MAX_SESSION_SECONDS = 3600


def subject_pattern(claims: Claims) -> str:
    """The `sub` condition: this repository, narrowed to the step's deployment environment if it has one."""
    repository = claims.get("repositoryUuid")
    if not repository:
        return claims.subject
    environment = claims.get("deploymentEnvironmentUuid")
    return f"{repository}:{environment}:*" if environment else f"{repository}:*"


def scope_description(claims: Claims) -> str:
    repository = claims.get("repositoryUuid")
    if not repository:
        return f"subject {claims.subject}"
    environment = claims.get("deploymentEnvironmentUuid")
    return f"repository {repository}" + (f", deployment environment {environment}" if environment else "")


def provider_arn(claims: Claims, account: str | None, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account or ACCOUNT_PLACEHOLDER}:oidc-provider/{claims.provider_path}"


def _conditions(claims: Claims) -> dict[str, Any]:
    key = claims.provider_path
    subject = subject_pattern(claims)
    operator = "StringLike" if subject.endswith("*") else "StringEquals"
    conditions: dict[str, Any] = {"StringEquals": {f"{key}:aud": claims.audience}}
    conditions.setdefault(operator, {})[f"{key}:sub"] = subject
    return conditions


def trust_policy(claims: Claims, account: str | None, partition: str = "aws") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn(claims, account, partition)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": _conditions(claims),
            }
        ],
    }


def trust_policy_json(claims: Claims, account: str | None, partition: str = "aws") -> str:
    return json.dumps(trust_policy(claims, account, partition), indent=2)


def cloudformation_template(
    claims: Claims,
    role_name: str,
    permissions: dict[str, Any] | None = None,
    parameters: dict[str, Any] | None = None,
) -> str:
    """A stack with the OIDC provider (optional: an account has at most one per issuer) and the role,
    with the jobs' permissions policy inline when given (its `${Name}`s are `parameters`: name →
    (description, default))."""
    provider_url = f"https://{claims.provider_path}"
    existing_provider = {
        "Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:oidc-provider/{claims.provider_path}"
    }
    provider = {"Fn::If": ["CreateProvider", {"Ref": "BitbucketOIDCProvider"}, existing_provider]}
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": _conditions(claims),
    }
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Bitbucket Pipelines deploy role for {scope_description(claims)} (aws-oidc-deploy)",
        "Parameters": {
            "RoleName": {"Type": "String", "Default": role_name},
            "CreateOIDCProvider": {
                "Type": "String",
                "AllowedValues": ["true", "false"],
                "Default": "true",
                "Description": "false when the account already has the IAM OIDC provider for this issuer "
                "(add the audience to it instead).",
            },
            "ManagedPolicyArns": {
                "Type": "CommaDelimitedList",
                "Default": "",
                "Description": "Policies the deploy needs, e.g. arn:aws:iam::aws:policy/ReadOnlyAccess.",
            },
            "MaxSessionDuration": {
                "Type": "Number",
                "Default": DEFAULT_MAX_SESSION_SECONDS,
                "MinValue": 3600,
                "MaxValue": 43200,
            },
        },
        "Conditions": {
            "CreateProvider": {"Fn::Equals": [{"Ref": "CreateOIDCProvider"}, "true"]},
            "HasPolicies": {
                "Fn::Not": [{"Fn::Equals": [{"Fn::Join": ["", {"Ref": "ManagedPolicyArns"}]}, ""]}]
            },
        },
        "Resources": {
            "BitbucketOIDCProvider": {
                "Type": "AWS::IAM::OIDCProvider",
                "Condition": "CreateProvider",
                "Properties": {"Url": provider_url, "ClientIdList": [claims.audience]},
            },
            "DeployRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "MaxSessionDuration": {"Ref": "MaxSessionDuration"},
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [statement]},
                    "ManagedPolicyArns": {
                        "Fn::If": ["HasPolicies", {"Ref": "ManagedPolicyArns"}, {"Ref": "AWS::NoValue"}]
                    },
                },
            },
        },
        "Outputs": {
            "RoleArn": {
                "Description": "Set this as AWS_OIDC_ROLE_ARN.",
                "Value": {"Fn::GetAtt": ["DeployRole", "Arn"]},
            },
            "OIDCProviderArn": {"Value": provider},
        },
    }
    for name, (description, default) in (parameters or {}).items():
        template["Parameters"][name] = {"Type": "String", "Description": description} | (
            {"Default": default} if default is not None else {}
        )
    if permissions:
        role = template["Resources"]["DeployRole"]["Properties"]
        role["Policies"] = [{"PolicyName": "aws-oidc-deploy-jobs", "PolicyDocument": permissions}]
    return block_yaml(template)
