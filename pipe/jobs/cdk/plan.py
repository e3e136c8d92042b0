"""The plan of a `cdk diff`, per stack: resources added, changed, replaced and removed, and the IAM
statements and security-group rules it adds or removes, as a report (pipe.report).

Where the data comes from: the CDK CLI 2.1148 has no machine-readable diff (no --json; its text is
coloured, wrapped and changes between versions), so the pipe does what the CLI's own template diff
does, from machine-readable sources only. After `cdk diff` has synthesized the app, the cloud assembly
(cdk.out: manifest.json and each stack's template, read with the pipe's size and depth limits) gives
the stacks and the templates to deploy; CloudFormation's GetTemplate (stage Original, the template as
deployed) gives what is there, each call within the pipe's AWS call budget. The comparison is
pipe.jobs.cdk.changes; replacement follows the CloudFormation rules the CLI ships
(pipe.jobs.cdk.replacement), not a change set: a change set would need the deploy role and S3 uploads,
and the CLI's `--change-set` output is the same coloured text.

The pipe reads the deployed templates with its own credentials; a role that may only assume the CDK's
bootstrap roles gets AccessDenied, and the pipe then assumes the stack's lookup role from the manifest
(read-only, made by `cdk bootstrap` for the CLI's own template diff), as the CLI does.

Limits: the stacks of the top-level assembly only (stacks inside a Stage are not compared); values a
template computes at deploy time (parameters, lookups, Fn::ImportValue) compare as written; a stack
whose deployed template cannot be read makes the plan FAILED (the guard rail fails closed).
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pipe.aws import errors
from pipe.common import bounded_read, log, private_dir
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.cdk import changes, stacks
from pipe.report import Field, Item, Outcome, Report

ALLOW_VARIABLE = "CDK_ALLOW_SECURITY_CHANGES"
_STACK_TYPE = "aws:cloudformation:stack"
_EXCLUSIVELY = ("--exclusively", "-e")
_UNKNOWN = ("unknown-account", "unknown-region")
_SESSION = "aws-oidc-deploy-cdk-diff"
# CloudFormation takes templates up to 1 MB from S3; room for pretty-printing.
TEMPLATE_BYTES = bounded_read.MANIFEST_FILE_BYTES


class Stack(NamedTuple):
    display: str  # as CDK_STACKS patterns match it
    name: str  # the CloudFormation stack's name
    template: Path
    region: str | None  # None: the signed-in region
    lookup_role: str | None  # the manifest's ARN, with ${AWS::...} placeholders


class _Keys(NamedTuple):  # pipe.aws.clients.Keys: the lookup role's temporary keys
    access_key_id: str
    secret_access_key: str
    session_token: str | None


class Compared(NamedTuple):
    stack: Stack
    deployed: bool
    resources: list[changes.ResourceChange]
    security: list[changes.SecurityChange]


def _artifacts(assembly: Path) -> Mapping[str, Any]:
    path = assembly / stacks.MANIFEST
    try:
        manifest = bounded_read.load_json(
            bounded_read.read_bytes(path, bounded_read.MANIFEST_FILE_BYTES, "the cloud assembly's manifest"),
            "the cloud assembly's manifest",
        )
    except (OSError, ValueError) as error:
        raise PipeError(f"The cloud assembly's manifest {path} could not be read: {error}.") from None
    artifacts = manifest.get("artifacts") if isinstance(manifest, dict) else None
    return artifacts if isinstance(artifacts, dict) else {}


def compared_stacks(assembly: Path, patterns: list[str], arguments: list[str]) -> list[Stack]:
    """The stacks `cdk diff` compared: every stack, or those CDK_STACKS names and, unless
    --exclusively, the stacks they depend on (pipe.jobs.cdk.stacks)."""
    found = []
    for artifact_id, artifact in _artifacts(assembly).items():
        if not isinstance(artifact, dict) or artifact.get("type") != _STACK_TYPE:
            continue
        found_properties = artifact.get("properties")
        properties: dict[str, Any] = found_properties if isinstance(found_properties, dict) else {}
        region = str(artifact.get("environment", "")).rpartition("/")[2]
        role = properties.get("lookupRole")
        found.append(
            Stack(
                display=str(artifact.get("displayName") or artifact_id),
                name=str(properties.get("stackName") or artifact_id),
                # Written by the app: read only from inside the assembly.
                template=private_dir.inside_clone(
                    assembly / str(properties.get("templateFile") or f"{artifact_id}.template.json"),
                    assembly,
                    "A stack's template in the cloud assembly",
                ),
                region=None if region in _UNKNOWN or not region else region,
                lookup_role=str(role["arn"]) if isinstance(role, dict) and role.get("arn") else None,
            )
        )
    if not patterns:
        return found
    named, added = stacks.added_by_dependencies(patterns, stacks.read_dependencies(assembly))
    taken = set(named) if any(argument in _EXCLUSIVELY for argument in arguments) else {*named, *added}
    return [stack for stack in found if stack.display in taken]


def read_template(path: Path) -> Mapping[str, Any]:
    what = f"the synthesized template {path.name}"
    try:
        document = bounded_read.load_json(bounded_read.read_bytes(path, TEMPLATE_BYTES, what), what)
    except (OSError, ValueError) as error:
        raise PipeError(f"{what} could not be read: {error}.") from None
    return document if isinstance(document, dict) else {}


def deployed_template(cloudformation: Any, name: str) -> Mapping[str, Any] | None:
    """The template as deployed; None for a stack that is not there. botocore decodes a JSON body."""
    from botocore.exceptions import ClientError

    try:
        answer = cloudformation.get_template(StackName=name, TemplateStage="Original")
    except ClientError as error:
        if errors.code(error) == "ValidationError" and "does not exist" in errors.message(error):
            return None
        raise
    body = answer.get("TemplateBody")
    if isinstance(body, str):
        # Not JSON (a YAML template deployed by something else): its short forms (!Ref) are not YAML
        # a safe loader reads, so it is compared as having no resources, said in the report.
        try:
            body = bounded_read.load_json(body, f"the deployed template of {name}")
        except ValueError:
            raise PipeError(f"the deployed template of {name} is not JSON") from None
    return body if isinstance(body, dict) else {}


def _role_arn(template: str, identity: Any, region: str) -> str:
    partition = (identity.assumed_role_arn or "arn:aws:").split(":")[1] or "aws"
    return (
        template.replace("${AWS::Partition}", partition)
        .replace("${AWS::AccountId}", identity.account)
        .replace("${AWS::Region}", region)
    )


def _lookup_client(identity: Any, stack: Stack, region: str) -> Any:
    """CloudFormation through the stack's lookup role, the CLI's read-only role for diffs."""
    arn = _role_arn(stack.lookup_role or "", identity, region)
    answer = identity.client("sts").assume_role(
        RoleArn=arn, RoleSessionName=identity.session_name or _SESSION, DurationSeconds=900
    )["Credentials"]
    log.register_secret(answer["SecretAccessKey"])
    log.register_secret(answer["SessionToken"])
    logger.info("Reading the deployed template of %s through the CDK lookup role %s.", stack.name, arn)
    keys = _Keys(answer["AccessKeyId"], answer["SecretAccessKey"], answer["SessionToken"])
    return identity.client("cloudformation", region=region, keys=keys)


def _deployed(identity: Any, stack: Stack) -> Mapping[str, Any] | None:
    from botocore.exceptions import ClientError

    region = stack.region or identity.region
    own = identity.client("cloudformation", region=region)
    try:
        return deployed_template(own, stack.name)
    except ClientError as error:
        if not (errors.is_access_denied(error) and stack.lookup_role):
            raise
    return deployed_template(_lookup_client(identity, stack, region), stack.name)


def compare(identity: Any, stack: Stack, rules: changes.Rules) -> Compared:
    from botocore.exceptions import BotoCoreError, ClientError

    synthesized = read_template(stack.template)
    try:
        deployed = _deployed(identity, stack)
    except (BotoCoreError, ClientError) as error:
        raise PipeError(
            f"the deployed template of {stack.name} could not be read ({errors.sentence(error)}) Allow "
            "cloudformation:GetTemplate to the pipe's role, or sts:AssumeRole on the CDK lookup role"
        ) from None
    return Compared(
        stack,
        deployed is not None,
        changes.compare(deployed, synthesized, rules),
        changes.security(deployed, synthesized),
    )


def _resource_item(stack: str, change: changes.ResourceChange) -> Item:
    if change.change == "replaced":
        detail, severity = f"replaced: {', '.join(change.replaced_by)} changed", "HIGH"
    elif change.may_replace:
        detail, severity = f"may be replaced: {', '.join(change.may_replace)} changed", "MEDIUM"
    elif change.properties:
        detail, severity = f"changed: {', '.join(change.properties)}", "LOW"
    else:
        detail, severity = "", "HIGH" if change.change == "removed" else "LOW"
    return Item(change.change, f"{stack} {change.logical_id} ({change.type})", detail, severity=severity)  # type: ignore[arg-type]


def _security_item(stack: str, change: changes.SecurityChange) -> Item:
    what = "IAM statement" if change.kind == changes.IAM else "security-group rule"
    name = f"{stack} {change.logical_id} ({change.type}): {what} {change.change}"
    return Item(change.change, name, change.detail, severity="HIGH")  # type: ignore[arg-type]


def report(compared: list[Compared], environment: str, allow: bool, rules_known: bool) -> Report:
    counts = {kind: 0 for kind in ("added", "changed", "replaced", "removed")}
    items: list[Item] = []
    security = 0
    for each in compared:
        stack = each.stack.name
        for change in each.resources:
            counts[change.change] += 1
        security += len(each.security)
        items += [_security_item(stack, change) for change in each.security]
        items += [_resource_item(stack, change) for change in each.resources]
        if not each.resources and not each.security:
            items.append(Item("unchanged", stack, "no differences"))
    refused = bool(security) and not allow
    verdict = (
        f" Refused: {security} IAM or security-group change(s); review them, then set {ALLOW_VARIABLE} to true."
        if refused
        else f" {security} IAM or security-group change(s), allowed by {ALLOW_VARIABLE}."
        if security
        else ""
    )
    summary = (
        f"{len(compared)} stack(s) compared with {environment}: {counts['added']} resource(s) to add, "
        f"{counts['changed']} to change, {counts['replaced']} to replace, {counts['removed']} to remove."
        + verdict
        + (
            ""
            if rules_known
            else " (The CDK CLI's replacement rules were not found: replacements not shown.)"
        )
    )
    fields = [Field("Stacks", len(compared), "NUMBER")]
    fields += [Field(kind.capitalize(), count, "NUMBER") for kind, count in counts.items()]
    fields.append(Field("IAM and security-group changes", security, "NUMBER"))
    document = {
        "environment": environment,
        ALLOW_VARIABLE: allow,
        "stacks": {
            each.stack.name: {
                "deployed": each.deployed,
                "resources": [change._asdict() for change in each.resources],
                "security": [change._asdict() for change in each.security],
            }
            for each in compared
        },
    }
    outcome: Outcome = "FAILED" if refused else "PASSED"
    return Report("cdk", "plan", outcome, "CDK diff", summary, fields, items, document)


def failed(environment: str, reason: str) -> Report:
    summary = f"The diff against {environment} is incomplete: {reason}."
    return Report(
        "cdk", "plan", "FAILED", "CDK diff", summary, document={"environment": environment, "error": reason}
    )
