"""Fixes to moto 5.2.5's CloudFormation that `cdk deploy` needs, applied in the test process
(the moto server runs there). Each one makes moto answer as CloudFormation does; README.md in this
directory lists them with the failure each one prevents.
"""

import contextlib
import json
from collections.abc import Iterator
from typing import Any

from moto.cloudformation import models, parsing, responses
from moto.cloudformation.exceptions import CloudFormationError
from moto.core.responses import ActionResult, EmptyResult
from moto.iam import models as iam_models
from moto.s3.models import FakeBucket


class ChangeSetNotFound(CloudFormationError):
    """CloudFormation's answer for a change set that does not exist (HTTP 404, ChangeSetNotFound)."""

    code = "ChangeSetNotFoundException"

    def __init__(self, name: str):
        super().__init__(f"ChangeSet [{name}] does not exist")


def _find_change_set(backend: Any, change_set_name: str, stack_name: str | None = None) -> Any:
    if change_set_name in backend.change_sets:  # an ARN
        return backend.change_sets[change_set_name]
    # A name is unique per stack, not per region: every CDK deploy names its change set
    # cdk-deploy-change-set, so moto's first match by name alone was another stack's.
    for change_set in backend.change_sets.values():
        if change_set.change_set_name == change_set_name and stack_name in (
            None,
            change_set.stack_name,
            change_set.stack_id,
        ):
            return change_set
    raise ChangeSetNotFound(change_set_name)


def describe_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> Any:
    return _find_change_set(self, change_set_name, stack_name)


def delete_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
    # CloudFormation deletes idempotently: the CDK CLI deletes "cdk-deploy-change-set if it exists".
    try:
        change_set = _find_change_set(self, change_set_name, stack_name)
    except ChangeSetNotFound:
        return
    del self.change_sets[change_set.change_set_id]


def _describe_response(self: Any) -> Any:
    """moto's DescribeChangeSet handler, passing on the StackName it dropped."""
    change_set = self.cloudformation_backend.describe_change_set(
        change_set_name=self._get_param("ChangeSetName"), stack_name=self._get_param("StackName")
    )
    return ActionResult(change_set)


def _delete_response(self: Any) -> Any:
    """moto's DeleteChangeSet handler, passing on the StackName it dropped."""
    self.cloudformation_backend.delete_change_set(
        change_set_name=self._get_param("ChangeSetName"), stack_name=self._get_param("StackName")
    )
    return EmptyResult()


class ResourceFailed(Exception):
    """A resource CloudFormation could not create or update, with its logical id, type and reason."""

    def __init__(self, logical_id: str, resource_type: str, reason: str):
        super().__init__(reason)
        self.logical_id, self.resource_type, self.reason = logical_id, resource_type, reason


def _fixed_create_resource(original: Any) -> Any:
    def parse_and_create_resource(
        logical_id: str, resource_json: dict, resources_map: Any, account_id: str, region_name: str
    ) -> Any:
        try:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        except CloudFormationError as error:
            raise ResourceFailed(logical_id, str(resource_json.get("Type", "")), error.message) from error

    return parse_and_create_resource


def _roll_back(stack: Any, change_set: Any, failure: ResourceFailed) -> None:
    """What CloudFormation does when a resource fails during an execution: the resource's *_FAILED
    event with its reason, then the stack rolls back (moto: "TODO: handle execution errors and
    implement rollback"; it answered ExecuteChangeSet with the resource's error instead)."""
    action = change_set.change_set_type  # CREATE or UPDATE
    stack.events.append(
        models.Event(
            stack_id=stack.stack_id,
            stack_name=stack.name,
            logical_resource_id=failure.logical_id,
            physical_resource_id="",
            resource_type=failure.resource_type,
            resource_status=f"{action}_FAILED",
            resource_status_reason=failure.reason,
            resource_properties=None,
        )
    )
    rollback = "ROLLBACK" if action == "CREATE" else "UPDATE_ROLLBACK"
    stack._add_stack_event(
        f"{rollback}_IN_PROGRESS",
        resource_status_reason=f"The following resource(s) failed to {action.lower()}: "
        f"[{failure.logical_id}]. Rollback requested by user.",
    )
    if action == "CREATE":
        # A stack rolled back from its creation keeps no resources and has no outputs. moto creates
        # resources lazily, so the failing one would be tried again on every DescribeStackResources.
        # (Resources created before the failure stay in moto's other services: nothing reads them.)
        stack.resource_map._resource_json_map = {}
        stack.output_map = parsing.OutputMap(stack.resource_map, {"Outputs": {}}, stack.stack_id)
    stack._add_stack_event(f"{rollback}_COMPLETE")
    stack.status = f"{rollback}_COMPLETE"
    change_set.execution_status = "EXECUTE_FAILED"


def _fixed_execute(original: Any) -> Any:
    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = _find_change_set(self, change_set_name, stack_name)
        try:
            original(self, change_set.change_set_id, stack_name)
        except ResourceFailed as failure:
            # The execution itself was accepted; the failure shows in the stack's events and status.
            _roll_back(self.stacks[change_set.stack_id], change_set, failure)
            return
        stack = self.stacks[change_set.stack_id]
        # What the stack now is: its template, its input parameters and the outputs they give.
        stack._parse_template()
        stack.parameters = dict(change_set.parameters)
        stack.output_map = stack._create_output_map()

    return execute_change_set


def _fixed_create(original: Any) -> Any:
    def create_change_set(self: Any, stack_name: str, change_set_name: str, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("change_set_type") == "CREATE":
            # CloudFormation keeps one stack per name: a CREATE change set for a stack still in
            # REVIEW_IN_PROGRESS (its first change set never executed) goes to that stack. moto made a
            # second stack of the same name; here the stale one makes way for it.
            for stack_id, stack in list(self.stacks.items()):
                if stack.name == stack_name and stack.status == "REVIEW_IN_PROGRESS":
                    del self.stacks[stack_id]
                    for change_set_id, change_set in list(self.change_sets.items()):
                        if change_set.stack_id == stack_id:
                            del self.change_sets[change_set_id]
        return original(self, stack_name, change_set_name, *args, **kwargs)

    return create_change_set


def previous_parameter_values(self: Any) -> dict[str, Any]:
    """A stack's parameters as they were given (defaults for those that were not), unresolved:
    what UsePreviousValue takes. moto returned SSM-resolved values, so an SSM-typed parameter
    (CDK's BootstrapVersion) was looked up by its own value on the next update."""
    declared = self.template_dict.get("Parameters") or {}
    defaults = {name: slot["Default"] for name, slot in declared.items() if "Default" in slot}
    return defaults | dict(self.parameters or {})


def _fixed_bucket_update(original: Any) -> Any:
    def update_from_cloudformation_json(
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = dict(cloudformation_json.get("Properties") or {})
        # A bucket without BucketName keeps its generated name when other properties change.
        properties.setdefault("BucketName", original_resource.name)
        return original.__func__(
            cls,
            original_resource,
            new_resource_name,
            cloudformation_json | {"Properties": properties},
            account_id,
            region_name,
        )

    return classmethod(update_from_cloudformation_json)


def _without_no_value(value: Any) -> Any:
    """`value` with the list elements `Fn::If [..., Ref: AWS::NoValue]` left out, as CloudFormation
    leaves them out; moto's CloudFormation leaves a null (the bootstrap roles' TrustedAccounts statements)."""
    if isinstance(value, list):
        return [_without_no_value(item) for item in value if item is not None]
    if isinstance(value, dict):
        return {key: _without_no_value(item) for key, item in value.items()}
    return value


def _managed_policy(backend: Any, arn: str) -> None:
    """An AWS managed policy the role names, known to the IAM backend (moto loads none unless told to
    at start, MOTO_IAM_LOAD_MANAGED_POLICIES): from moto's own copy of AWS's managed policies."""
    if arn in backend.managed_policies or ":iam::aws:policy/" not in arn:
        return
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    name = arn.rsplit("/", 1)[-1]
    data = json.loads(aws_managed_policies_data)[name]
    backend.managed_policies[arn] = iam_models.AWSManagedPolicy.from_data(
        name, backend.account_id, backend.region_name, data
    )


def _fixed_role_create(original: Any) -> Any:
    def create_from_cloudformation_json(
        cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
    ):
        """An AWS::IAM::Role as CloudFormation makes it (AWS::IAM::Role, "Policies" and
        "ManagedPolicyArns", https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html):
        moto kept each inline policy as the template's object, which its IAM evaluator cannot read
        (KeyError 'policy_document' on every call of the role under enforcement), and attached no
        managed policy (the CDK deploy role's AWSCloudFormationReadOnlyAccess: DescribeStacks)."""
        properties = _without_no_value(dict(cloudformation_json.get("Properties") or {}))
        properties["Policies"] = [
            policy | {"PolicyDocument": json.dumps(policy["PolicyDocument"])}
            if not isinstance(policy.get("PolicyDocument"), str)
            else policy
            for policy in properties.get("Policies") or []
        ]
        role = original.__func__(
            cls,
            resource_name,
            cloudformation_json | {"Properties": properties},
            account_id,
            region_name,
            **kwargs,
        )
        backend = iam_models.iam_backends[account_id][role.partition]
        for arn in properties.get("ManagedPolicyArns") or []:
            _managed_policy(backend, arn)
            backend.attach_role_policy(arn, role.name)
        return role

    return classmethod(create_from_cloudformation_json)


@contextlib.contextmanager
def applied() -> Iterator[None]:
    backend = models.CloudFormationBackend
    handler = responses.CloudFormationResponse
    fixes = [
        (backend, "describe_change_set", lambda _original: describe_change_set),
        (backend, "delete_change_set", lambda _original: delete_change_set),
        (backend, "execute_change_set", _fixed_execute),
        (backend, "create_change_set", _fixed_create),
        (models.Stack, "stack_parameters", lambda _original: property(previous_parameter_values)),
        (FakeBucket, "update_from_cloudformation_json", _fixed_bucket_update),
        (iam_models.Role, "create_from_cloudformation_json", _fixed_role_create),
        (parsing, "parse_and_create_resource", _fixed_create_resource),
        (handler, "describe_change_set", lambda _original: _describe_response),
        (handler, "delete_change_set", lambda _original: _delete_response),
    ]
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _fix in fixes]
    for owner, name, fix in fixes:
        setattr(owner, name, fix(owner.__dict__[name]))
    try:
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)
