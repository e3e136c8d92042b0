"""What changes between a deployed CloudFormation template and the one the CDK app synthesized:
resources added, changed, removed or replaced, and the IAM statements and security-group rules
added or removed. Pure functions over the two templates (dicts), so that they can be tested alone.

Compared per logical id, as CloudFormation updates a stack: a resource's Type, Properties, Condition,
DeletionPolicy and UpdateReplacePolicy. Metadata (the CDK's construct paths, asset hashes) changes
nothing in AWS and is left out, and so is AWS::CDK::Metadata, as the CDK CLI's own diff leaves it out.

Replacement follows CloudFormation's resource-type rules (`Rules`: per type, the properties whose
change replaces the resource, and those that may): a changed Type always replaces. A property whose
rule is unknown (a type the rules do not list, no rules at all) counts as an update: the report says
"changed", never "replaced", for it. The rules cannot see a replacement CloudFormation decides from
values (a "may" rule: an engine version crossing a major, a key schema reordered): those are flagged
as "may replace".

Security changes are statements and rules compared as sets of canonical JSON texts, so that reordering
a list is no change; a statement whose text changes at all is one removed and one added.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

Template = Mapping[str, Any]
# {resource type: {property: "yes" | "maybe"}}: whether changing the property replaces the resource.
Rules = Mapping[str, Mapping[str, str]]

IGNORED_TYPES = frozenset({"AWS::CDK::Metadata"})
COMPARED_KEYS = ("Type", "Properties", "Condition", "DeletionPolicy", "UpdateReplacePolicy")
# Properties that hold IAM policy documents (one document, or Policies: a list of {PolicyDocument}).
POLICY_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "AWS::IAM::Role": ("AssumeRolePolicyDocument", "Policies"),
    "AWS::IAM::User": ("Policies",),
    "AWS::IAM::Group": ("Policies",),
    "AWS::IAM::Policy": ("PolicyDocument",),
    "AWS::IAM::ManagedPolicy": ("PolicyDocument",),
    "AWS::IAM::RolePolicy": ("PolicyDocument",),
    "AWS::IAM::UserPolicy": ("PolicyDocument",),
    "AWS::IAM::GroupPolicy": ("PolicyDocument",),
    "AWS::S3::BucketPolicy": ("PolicyDocument",),
    "AWS::SQS::QueuePolicy": ("PolicyDocument",),
    "AWS::SNS::TopicPolicy": ("PolicyDocument",),
    "AWS::KMS::Key": ("KeyPolicy",),
    "AWS::ECR::Repository": ("RepositoryPolicyText",),
    "AWS::SecretsManager::ResourcePolicy": ("ResourcePolicy",),
}
# Managed policies attached by ARN: each ARN is a grant of its own.
MANAGED_POLICY_TYPES = frozenset({"AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"})
# Resources that are one permission statement each (their properties are the statement).
PERMISSION_TYPES = frozenset({"AWS::Lambda::Permission", "AWS::Lambda::LayerVersionPermission"})
SECURITY_GROUP_RULE_TYPES = {
    "AWS::EC2::SecurityGroupIngress": "ingress",
    "AWS::EC2::SecurityGroupEgress": "egress",
}
SECURITY_GROUP_PROPERTIES = {"SecurityGroupIngress": "ingress", "SecurityGroupEgress": "egress"}
IAM = "IAM"
SECURITY_GROUP = "security group"
# A statement shown in one line: longer ones are cut (the whole template is in cdk.out).
MAX_SHOWN = 240


class ResourceChange(NamedTuple):
    logical_id: str
    type: str  # the new type; the old one for a removed resource
    change: str  # added | changed | replaced | removed
    properties: tuple[str, ...] = ()  # what changed: property names, or Type, Condition...
    may_replace: tuple[str, ...] = ()  # changed properties that may replace the resource
    replaced_by: tuple[str, ...] = ()  # changed properties (or Type) that replace it


class SecurityChange(NamedTuple):
    logical_id: str
    type: str
    kind: str  # IAM or security group
    change: str  # added | removed
    detail: str  # the statement or rule in one line


def resources(template: Template | None) -> dict[str, Mapping[str, Any]]:
    """The template's resources by logical id, the ignored types and malformed entries left out."""
    found = template.get("Resources") if isinstance(template, Mapping) else None
    if not isinstance(found, Mapping):
        return {}
    return {
        str(logical_id): resource
        for logical_id, resource in found.items()
        if isinstance(resource, Mapping) and resource.get("Type") not in IGNORED_TYPES
    }


def _properties(resource: Mapping[str, Any] | None) -> Mapping[str, Any]:
    found = resource.get("Properties") if resource else None
    return found if isinstance(found, Mapping) else {}


def _differing(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    differing = [key for key in COMPARED_KEYS if key != "Properties" and old.get(key) != new.get(key)]
    old_properties, new_properties = old.get("Properties") or {}, new.get("Properties") or {}
    if not (isinstance(old_properties, Mapping) and isinstance(new_properties, Mapping)):
        return (*differing, "Properties") if old_properties != new_properties else tuple(differing)
    differing += sorted(
        str(name)
        for name in set(old_properties) | set(new_properties)
        if old_properties.get(name) != new_properties.get(name)
    )
    return tuple(differing)


def compare(deployed: Template | None, synthesized: Template, rules: Rules) -> list[ResourceChange]:
    """Every resource that differs, sorted by logical id. `deployed` None: a stack not deployed yet."""
    old, new = resources(deployed), resources(synthesized)
    found = []
    for logical_id in sorted(set(old) | set(new)):
        before, after = old.get(logical_id), new.get(logical_id)
        if before is None and after is not None:
            found.append(ResourceChange(logical_id, str(after.get("Type")), "added"))
        elif after is None and before is not None:
            found.append(ResourceChange(logical_id, str(before.get("Type")), "removed"))
        elif before is not None and after is not None:
            differing = _differing(before, after)
            if not differing:
                continue
            kind = str(after.get("Type"))
            if before.get("Type") != after.get("Type"):
                replaced_by: tuple[str, ...] = ("Type",)
                may: tuple[str, ...] = ()
            else:
                rule = rules.get(kind, {})
                replaced_by = tuple(name for name in differing if rule.get(name) == "yes")
                may = tuple(name for name in differing if rule.get(name) == "maybe")
            change = "replaced" if replaced_by else "changed"
            found.append(ResourceChange(logical_id, kind, change, differing, may, replaced_by))
    return found


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _statements(document: Any) -> Iterator[Any]:
    """A policy document's statements; a document that is not one (an intrinsic function) as a whole."""
    statement = document.get("Statement") if isinstance(document, Mapping) else None
    if isinstance(statement, list):
        yield from statement
    elif statement is not None:
        yield statement
    elif document is not None:
        yield document


def _grants(resource: Mapping[str, Any]) -> Iterator[tuple[str, Any]]:
    """(kind, statement or rule) for every IAM statement and security-group rule the resource holds."""
    kind = resource.get("Type")
    properties = _properties(resource)
    for name in POLICY_PROPERTIES.get(str(kind), ()):
        value = properties.get(name)
        if name == "Policies" and isinstance(value, list):
            for policy in value:
                document = policy.get("PolicyDocument") if isinstance(policy, Mapping) else policy
                yield from ((IAM, statement) for statement in _statements(document))
        else:
            yield from ((IAM, statement) for statement in _statements(value))
    if kind in MANAGED_POLICY_TYPES:
        arns = properties.get("ManagedPolicyArns")
        for arn in arns if isinstance(arns, list) else [arns] if arns else []:
            yield IAM, {"ManagedPolicyArn": arn}
    if kind in PERMISSION_TYPES:
        yield IAM, dict(properties)
    if kind in SECURITY_GROUP_RULE_TYPES:
        yield SECURITY_GROUP, {"Direction": SECURITY_GROUP_RULE_TYPES[str(kind)], **properties}
    if kind == "AWS::EC2::SecurityGroup":
        for name, direction in SECURITY_GROUP_PROPERTIES.items():
            rules = properties.get(name)
            for rule in rules if isinstance(rules, list) else [rules] if rules else []:
                yield SECURITY_GROUP, {"Direction": direction, **rule} if isinstance(rule, Mapping) else rule


def security(deployed: Template | None, synthesized: Template) -> list[SecurityChange]:
    """IAM statements and security-group rules removed and added, per resource, sorted."""
    old, new = resources(deployed), resources(synthesized)
    found = []
    for logical_id in sorted(set(old) | set(new)):
        before = {(k, canonical(g)): g for k, g in _grants(old[logical_id])} if logical_id in old else {}
        after = {(k, canonical(g)): g for k, g in _grants(new[logical_id])} if logical_id in new else {}
        for change, keys, side in (
            ("removed", before.keys() - after.keys(), old),
            ("added", after.keys() - before.keys(), new),
        ):
            kind = str(side[logical_id].get("Type")) if keys else ""
            for grant_kind, text in sorted(keys):
                found.append(SecurityChange(logical_id, kind, grant_kind, change, shown(text)))
    return found


def shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"
