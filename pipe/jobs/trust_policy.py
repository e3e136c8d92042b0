"""COMMAND: trust-policy — the IAM trust policy and a CloudFormation template that admit this step's token.

Needs only the token and makes no AWS call, so it works before any role exists.
"""

from pipe.common.log import emit
from pipe.common.variables import Variable
from pipe.jobs import Context
from pipe.signin import session_name
from pipe.signin.arns import parse_role_arn
from pipe.signin.trust import (
    ACCOUNT_PLACEHOLDER,
    cloudformation_template,
    scope_description,
    trust_policy_json,
)

SIGNS_IN = False
VARIABLES = (Variable("AWS_OIDC_ROLE_ARN", parse=parse_role_arn),)


def run(context: Context) -> str:
    token_claims = context.claims
    assert token_claims is not None
    role = context.values.get("AWS_OIDC_ROLE_ARN")
    account = role.account if role else None
    partition = role.partition if role else "aws"
    slug = context.env.get("BITBUCKET_REPO_SLUG") or "repository"
    role_name = role.name if role else session_name.default(slug, "deploy")

    emit(f"# IAM trust policy for {scope_description(token_claims)}")
    if account is None:
        emit(f"# Replace {ACCOUNT_PLACEHOLDER}, or set AWS_OIDC_ROLE_ARN to fill it in.")
    emit(*trust_policy_json(token_claims, account, partition).split("\n"))
    emit("", "# CloudFormation template: the IAM OIDC provider (set CreateOIDCProvider=false if the account")
    emit("# already has one for this issuer) and a role with the trust policy above.")
    emit(*cloudformation_template(token_claims, role_name).split("\n"))
    return "Trust policy and CloudFormation template printed; no AWS call was made."
