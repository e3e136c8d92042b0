"""The least-privilege IAM permissions policy of each job: the one table (pipe.signin.policy_table,
re-exported here) that docs/iam.md, `COMMAND: trust-policy` (POLICY_FOR_JOBS) and its CloudFormation
template are made from, and which the IAM tests (test/signin/test_policies.py) run every job under.
This module renders it: the statements of the jobs named, as the JSON IAM takes (placeholders or given
values) or as the template's Fn::Sub strings.
"""

import json
import re
from typing import Any

from pipe.signin.policy_table import PARAMETERS, POLICIES, Parameter, Statement

__all__ = [
    "PARAMETERS",
    "POLICIES",
    "Parameter",
    "Statement",
    "cloudformation_policy",
    "parameters_used",
    "policy",
    "policy_with",
    "statements",
    "unknown_jobs",
]

_PSEUDO = re.compile(r"\$\{([A-Za-z:]+)\}")


def unknown_jobs(names: list[str]) -> list[str]:
    return [name for name in names if name not in POLICIES]


def statements(jobs: list[str]) -> list[Statement]:
    """The statements of these jobs, each once (two jobs may share one, as s3-sync and
    cloudfront-invalidate share CloudFront's)."""
    chosen: list[Statement] = []
    for job in jobs:
        for statement in POLICIES[job]:
            if statement.sid not in {s.sid for s in chosen}:
                chosen.append(statement)
    return chosen


def parameters_used(chosen: list[Statement]) -> list[str]:
    text = json.dumps([s._asdict() for s in chosen])
    names = {match for match in _PSEUDO.findall(text) if not match.startswith("AWS::")}
    return [name for name in PARAMETERS if name in names]


def _document(chosen: list[Statement], fill: Any) -> dict[str, Any]:
    def entry(statement: Statement) -> dict[str, Any]:
        resources = [fill(resource) for resource in statement.resources]
        body: dict[str, Any] = {
            "Sid": statement.sid,
            "Effect": "Allow",
            "Action": list(statement.actions) if len(statement.actions) > 1 else statement.actions[0],
            "Resource": resources if len(resources) > 1 else resources[0],
        }
        if statement.condition:
            body["Condition"] = {
                operator: {key: fill(value) for key, value in values.items()}
                for operator, values in statement.condition.items()
            }
        return body

    return {"Version": "2012-10-17", "Statement": [entry(statement) for statement in chosen]}


def policy(
    chosen: list[Statement], account: str | None, partition: str, region: str | None
) -> dict[str, Any]:
    """The permissions policy as IAM takes it: pseudo parameters filled from the role and region
    (placeholders where unknown), parameters from their defaults or `<Name>`."""
    known = {
        "AWS::Partition": partition,
        "AWS::AccountId": account or "<ACCOUNT_ID>",
        "AWS::Region": region or "<REGION>",
    }
    values = {name: p.default if p.default is not None else f"<{name}>" for name, p in PARAMETERS.items()}

    def fill(text: str) -> str:
        return _PSEUDO.sub(lambda m: known.get(m.group(1)) or values.get(m.group(1), m.group(0)), text)

    return _document(chosen, fill)


def policy_with(
    chosen: list[Statement], values: dict[str, str], account: str, partition: str, region: str
) -> dict[str, Any]:
    """The policy with every parameter given (the IAM tests make their roles with it)."""
    known = {"AWS::Partition": partition, "AWS::AccountId": account, "AWS::Region": region} | values
    return _document(chosen, lambda text: _PSEUDO.sub(lambda m: known[m.group(1)], text))


def cloudformation_policy(chosen: list[Statement]) -> dict[str, Any]:
    """The policy for the template: every string with a ${...} wrapped in Fn::Sub."""

    def fill(text: str) -> Any:
        return {"Fn::Sub": text} if "${" in text else text

    return _document(chosen, fill)
