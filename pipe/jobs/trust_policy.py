"""COMMAND: trust-policy — the IAM trust policy and a CloudFormation template that admit this step's token.

Needs only the token and makes no AWS call, so it works before any role exists.
"""

import json
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from pipe.common.errors import PipeError
from pipe.common.log import emit
from pipe.common.variables import Variable
from pipe.jobs import WithClaims
from pipe.signin import policies, session_name
from pipe.signin.arns import RoleArn, parse_role_arn
from pipe.signin.claims import Claims
from pipe.signin.trust import (
    ACCOUNT_PLACEHOLDER,
    cloudformation_template,
    scope_description,
    trust_policy_json,
)

SIGNS_IN: Literal[False] = False


def _job_name(raw: str) -> str:
    name = raw.strip().lower()
    if name not in policies.POLICIES:
        raise ValueError(f"must name jobs among: {', '.join(policies.POLICIES)}")
    return name


VARIABLES = (
    Variable("AWS_OIDC_ROLE_ARN", parse=parse_role_arn),
    Variable("POLICY_FOR_JOBS", is_list=True, parse=_job_name),
)


class Settings(NamedTuple):
    # The role the policy is for, if known: it fills in the account, partition and role name.
    role: RoleArn | None
    # The jobs whose permissions policy is printed and put in the template (each once, in order).
    jobs: list[str]


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    return Settings(role=values["AWS_OIDC_ROLE_ARN"], jobs=list(dict.fromkeys(values["POLICY_FOR_JOBS"])))


def _check_claims(token_claims: Claims) -> None:
    """A policy for a token without a usable issuer, audience or subject would admit a meaningless
    provider: refuse it instead of printing one."""
    for name in ("iss", "aud", "sub"):
        value = token_claims.values.get(name)
        items = value if name == "aud" and isinstance(value, list) else [value]
        if not items or not all(isinstance(item, str) and item.strip() for item in items):
            raise PipeError(
                f"The OIDC token has no usable {name} claim (it must be a non-empty string): a trust policy "
                "cannot be made from it. Use the token Bitbucket gives a step with `oidc: true`."
            )
    if not token_claims.issuer.startswith("https://"):
        raise PipeError(
            "The OIDC token's iss claim is not an https:// URL: IAM accepts only https identity providers."
        )


def run(context: WithClaims[Settings]) -> str:
    token_claims = context.claims
    _check_claims(token_claims)
    role = context.settings.role
    account = role.account if role else None
    partition = role.partition if role else "aws"
    slug = context.env.get("BITBUCKET_REPO_SLUG") or "repository"
    role_name = role.name if role else session_name.default(slug, "deploy")

    emit(f"# IAM trust policy for {scope_description(token_claims)}")
    if account is None:
        emit(f"# Replace {ACCOUNT_PLACEHOLDER}, or set AWS_OIDC_ROLE_ARN to fill it in.")
    emit(*trust_policy_json(token_claims, account, partition).split("\n"))
    chosen = policies.statements(context.settings.jobs)
    if context.settings.jobs:
        emit(
            "", f"# IAM permissions policy for {', '.join(context.settings.jobs)} (docs/iam.md says why each"
        )
        emit("# statement is there). Replace each <...> with your own value.")
        document = policies.policy(chosen, account, partition, None)
        emit(*json.dumps(document, indent=2).split("\n"))
    emit("", "# CloudFormation template: the IAM OIDC provider (set CreateOIDCProvider=false if the account")
    with_policy = (
        "and the permissions policy above." if chosen else "(POLICY_FOR_JOBS adds a permissions policy)."
    )
    emit(f"# already has one for this issuer) and a role with the trust policy above {with_policy}")
    template = cloudformation_template(
        token_claims,
        role_name,
        policies.cloudformation_policy(chosen) if chosen else None,
        {name: policies.PARAMETERS[name] for name in policies.parameters_used(chosen)},
    )
    emit(*template.split("\n"))
    printed = "Trust policy, permissions policy" if chosen else "Trust policy"
    return f"{printed} and CloudFormation template printed; no AWS call was made."
