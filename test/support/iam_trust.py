"""moto 5.2.5's trust-policy check for sts:AssumeRole, made to evaluate a role's trust policy as IAM
does; applied by test/support/iam.py while enforcement is on (moto checks trust only then).

moto (IAMRequestBase.check_action_permitted → _check_role_trust_relationship → IAMPolicyStatement.
is_action_permitted with the caller's ARN as the principal) asks the caller's identity policy to allow
sts:AssumeRole on the role, as IAM does, and then the trust policy, where it differs from IAM:

- it compares a statement's AWS principal with the caller's ARN as text (equal, or contained in it).
  An account principal (`123456789012`, what CloudFormation's `Ref: AWS::AccountId` gives, as the CDK
  bootstrap template's roles have, or `arn:aws:iam::123456789012:root`) never equals a role session's
  ARN, so no principal of the account could assume them; a role ARN did not admit that role's
  sessions; and a principal that is only part of a listed ARN was admitted.
- it answers DENIED for a statement whose principal does not match, so one statement for another
  principal (the bootstrap roles' second statement, for TrustedAccounts) refused everybody.

IAM ("AWS JSON policy elements: Principal",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html): an AWS
account principal, by ID or as `arn:<partition>:iam::<account>:root`, delegates to the account: any
principal of that account may assume the role if its own identity-based policy allows sts:AssumeRole
on it (#principal-accounts); a role principal admits that role's sessions (#principal-roles); a role
session principal admits that session (#sts-session-principals); `*` admits everybody; a statement
whose principal does not match the caller does not apply to it. Conditions are moto's (StringEquals on
the keys it gathers), plus `Null` on sts:ExternalId, the one key moto gathers from an AssumeRole
request (the bootstrap template's roles refuse a call carrying one): other operators and keys stay
unevaluated, as moto leaves them.
"""

import re
from typing import Any

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_SESSION = re.compile(
    r"arn:(?P<partition>[\w-]+):sts::(?P<account>[0-9]{12}):assumed-role/(?P<role>[^/]+)/.+"
)
_IAM = re.compile(
    r"arn:(?P<partition>[\w-]+):iam::(?P<account>[0-9]{12}):(?P<kind>root|role|user)(?:/(?P<path>.+))?"
)
# The keys moto gathers from the request (moto.iam.utils.format_incoming_conditional_values).
_GATHERED = ("sts:ExternalId",)


def principal_matches(expected: str, caller: str) -> bool:
    """Does the trust policy's AWS principal `expected` name the caller (its ARN)?"""
    if expected == "*":
        return True
    session = _SESSION.fullmatch(caller)
    caller_account = session["account"] if session else (_IAM.fullmatch(caller) or {"account": ""})["account"]
    if _ACCOUNT_ID.fullmatch(expected):
        return expected == caller_account
    named = _IAM.fullmatch(expected)
    if named and named["kind"] == "root":
        return named["account"] == caller_account
    if named and named["kind"] == "role" and session:
        # A role ARN (with its path) admits that role's sessions; the session ARN carries no path.
        return (
            named["account"] == session["account"]
            and (named["path"] or "").rsplit("/", 1)[-1] == session["role"]
        )
    return expected == caller


def _aws_principals(statement: dict[str, Any], element: str) -> list[str] | None:
    """The statement's AWS principals ("*": everybody); None when it names only services or
    federated principals (or has no such element)."""
    value = statement.get(element)
    if value is None:
        return None
    if value == "*":
        return ["*"]
    found = value.get("AWS") if isinstance(value, dict) else None
    if found is None:
        return None
    return [found] if isinstance(found, str) else list(found)


def _applies_to(statement: dict[str, Any], caller: str) -> bool:
    named = _aws_principals(statement, "Principal")
    if "NotPrincipal" in statement:
        excluded = _aws_principals(statement, "NotPrincipal") or []
        return not any(principal_matches(p, caller) for p in excluded)
    return named is not None and any(principal_matches(p, caller) for p in named)


def _null_holds(statement: dict[str, Any], incoming: dict[str, str]) -> bool:
    for key, expected in (statement.get("Condition") or {}).get("Null", {}).items():
        if key in _GATHERED:
            wanted_absent = str(expected[0] if isinstance(expected, list) else expected).lower() == "true"
            if wanted_absent != (key not in incoming):
                return False
    return True


def trust_admits(document: dict[str, Any], action: str, caller: str, incoming: dict[str, str]) -> bool:
    """Does the trust policy `document` allow `caller` to perform `action` (sts:AssumeRole) on the role?
    An explicit Deny that applies wins; else an Allow that applies; else not (implicit deny)."""
    from moto.iam.access_control import IAMPolicyStatement

    statements = document["Statement"]
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        checked = IAMPolicyStatement(statement)
        element = "NotAction" if "NotAction" in statement else "Action"
        if checked._check_element_matches(element, action) == (element == "NotAction"):
            continue
        if not _applies_to(statement, caller):
            continue
        if not (checked._check_conditions(incoming) and _null_holds(statement, incoming)):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = True
    return allowed


def check_role_trust_relationship(self: Any, role_arn: str) -> bool:
    """moto's IAMRequestBase._check_role_trust_relationship, evaluated as IAM does (above). moto has
    already asked the caller's identity policy, and asks the trust policy only when that allowed."""
    import json

    from moto.iam.utils import format_incoming_conditional_values

    role = self.backend.get_role_by_arn(role_arn)
    document = json.loads(role.assume_role_policy_document)
    return trust_admits(
        document, self._action, self._access_key.arn, format_incoming_conditional_values(self._data)
    )
