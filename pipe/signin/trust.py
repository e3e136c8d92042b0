"""IAM trust policies and a CloudFormation template that admit a given Bitbucket OIDC token."""

import json
import re

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


def _conditions(claims: Claims) -> dict:
    key = claims.provider_path
    subject = subject_pattern(claims)
    operator = "StringLike" if subject.endswith("*") else "StringEquals"
    conditions: dict = {"StringEquals": {f"{key}:aud": claims.audience}}
    conditions.setdefault(operator, {})[f"{key}:sub"] = subject
    return conditions


def trust_policy(claims: Claims, account: str | None, partition: str = "aws") -> dict:
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


def cloudformation_template(claims: Claims, role_name: str) -> str:
    """A stack with the OIDC provider (optional: an account has at most one per issuer) and the role."""
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
    template = {
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
    return block_yaml(template)


# Written here rather than by PyYAML, whose import and pure-Python emitter were most of trust-policy's
# start-up. Strings that YAML could read as anything else (a number, a date, a boolean, a comment...)
# are double-quoted with escapes, so the text is ASCII and every value reads back as written; no
# anchors or aliases, which CloudFormation rejects.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _./:@${}()+=*,-]*")
# YAML 1.1 reads these words (any case) as booleans or null, not as strings.
_SPECIAL_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
# YAML reads a key written as `key: value` only up to 1024 characters; longer ones take `? key`.
_SIMPLE_KEY_LIMIT = 1000
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if (
        _PLAIN.fullmatch(value)
        and value.lower() not in _SPECIAL_WORDS
        and not value.endswith((" ", ":"))
        and ": " not in value
        and " #" not in value
    ):
        return value
    return '"' + "".join(_escaped(character) for character in value) + '"'


def _escaped(character: str) -> str:
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if 0x20 <= code < 0x7F:
        return character
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _block(value: dict | list, indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if len(_scalar(key)) > _SIMPLE_KEY_LIMIT:
                lines += _explicit_entry(_scalar(key), item, indent)
            elif isinstance(item, dict | list) and item:
                # A list under a key sits at the key's own indent, as PyYAML writes it.
                lines += [
                    f"{pad}{_scalar(key)}:",
                    *_block(item, indent + 2 if isinstance(item, dict) else indent),
                ]
            else:
                lines.append(f"{pad}{_scalar(key)}: {_inline(item)}")
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            nested = _block(item, indent + 2)
            lines += [f"{pad}- {nested[0][indent + 2 :]}", *nested[1:]]
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines


def _explicit_entry(key: str, item: object, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(item, dict | list) and item:
        return [f"{pad}? {key}", f"{pad}:", *_block(item, indent + 2)]
    return [f"{pad}? {key}", f"{pad}: {_inline(item)}"]


def _inline(value: object) -> str:
    if isinstance(value, dict | list):  # only ever empty here
        return "{}" if isinstance(value, dict) else "[]"
    return _scalar(value)


def block_yaml(document: dict) -> str:
    """`document` (mappings, lists, strings, whole numbers, booleans) as block-style YAML."""
    return "\n".join(_block(document, 0)) + "\n"
