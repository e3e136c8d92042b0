"""The cdk diff's plan: the stacks the assembly holds, the deployed templates (moto's CloudFormation,
through the pipe's own role or the CDK lookup role) and the report made of the comparison."""

import json
import threading

import pytest
from moto.cloudformation.exceptions import CloudFormationError
from moto.cloudformation.responses import CloudFormationResponse

from pipe.aws import clients
from pipe.common.errors import PipeError
from pipe.jobs.cdk import changes, plan
from pipe.signin.identity import Credentials, Identity
from test.support import aws

LOOKUP_ROLE = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-lookup-role-${AWS::AccountId}-${AWS::Region}"
BUCKET = {"Site": {"Type": "AWS::S3::Bucket", "Properties": {"Tags": [{"Key": "message", "Value": "first"}]}}}


def assembly(root, stacks: dict, dependencies: dict | None = None):
    """A cloud assembly with a manifest and a template per stack ({display name: resources})."""
    root.mkdir(parents=True, exist_ok=True)
    artifacts = {}
    for name, resources in stacks.items():
        (root / f"{name}.template.json").write_text(json.dumps({"Resources": resources}))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": "aws://unknown-account/unknown-region",
            "properties": {"templateFile": f"{name}.template.json", "lookupRole": {"arn": LOOKUP_ROLE}},
            "dependencies": (dependencies or {}).get(name, []),
            "displayName": name,
        }
    (root / "manifest.json").write_text(json.dumps({"version": "40.0.0", "artifacts": artifacts}))
    return root


def test_the_stacks_compared_follow_cdk_stacks_dependencies_and_exclusively(tmp_path):
    root = assembly(tmp_path / "cdk.out", {"Web": {}, "Storage": {}, "Other": {}}, {"Web": ["Storage"]})
    names = lambda found: sorted(stack.name for stack in found)  # noqa: E731
    assert names(plan.compared_stacks(root, [], [])) == ["Other", "Storage", "Web"]
    assert names(plan.compared_stacks(root, ["Web"], [])) == ["Storage", "Web"]
    assert names(plan.compared_stacks(root, ["Web"], ["--exclusively"])) == ["Web"]
    [web] = plan.compared_stacks(root, ["Web"], ["-e"])
    assert (
        web.region is None and web.lookup_role == LOOKUP_ROLE and web.template == root / "Web.template.json"
    )


def test_a_template_outside_the_assembly_is_refused(tmp_path):
    root = assembly(tmp_path / "cdk.out", {"Web": {}})
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["artifacts"]["Web"]["properties"]["templateFile"] = "../../secret.json"
    (root / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(PipeError, match="leads outside"):
        plan.compared_stacks(root, [], [])


@pytest.fixture
def identity(moto_server, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.url)
    monkeypatch.setattr(clients, "_shared_botocore_session", None)
    return Identity(Credentials("AKIAPIPEOWNEXAMPLE", "pipe-own-secret-key"), aws.REGION, "test", "plan-test")


def deploy(moto_server, name: str, resources: dict) -> None:
    cloudformation = aws.client("cloudformation", moto_server.url)
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}))


def test_a_deployed_stack_is_compared_and_a_new_one_is_all_added(tmp_path, moto_server, identity):
    deploy(moto_server, "PlanDeployed", BUCKET)
    changed = {"Site": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "renamed"}}}
    root = assembly(tmp_path / "cdk.out", {"PlanDeployed": changed, "PlanNew": BUCKET})
    deployed, new = (
        plan.compare(identity, stack, {"AWS::S3::Bucket": {"BucketName": "yes"}})
        for stack in plan.compared_stacks(root, [], [])
    )
    assert deployed.deployed and [(c.change, c.replaced_by) for c in deployed.resources] == [
        ("replaced", ("BucketName",))
    ]
    assert not new.deployed and [c.change for c in new.resources] == ["added"]


class Refused(CloudFormationError):
    code = "AccessDenied"


@pytest.fixture
def refused_to_the_pipes_own_keys():
    """GetTemplate is AccessDenied to the pipe's own keys (a role that may only assume the CDK's roles)."""
    original = CloudFormationResponse.get_template
    seen = []
    lock = threading.Lock()

    def get_template(self):
        own = "AKIAPIPEOWNEXAMPLE" in self.headers.get("Authorization", "")
        with lock:
            seen.append(own)
        if own:
            raise Refused("not authorized to perform: cloudformation:GetTemplate")
        return original(self)

    CloudFormationResponse.get_template = get_template
    try:
        yield seen
    finally:
        CloudFormationResponse.get_template = original


def test_access_denied_reads_the_template_through_the_lookup_role(
    tmp_path, moto_server, identity, refused_to_the_pipes_own_keys
):
    deploy(moto_server, "PlanLookup", BUCKET)
    root = assembly(tmp_path / "cdk.out", {"PlanLookup": BUCKET})
    identity._account = aws.ACCOUNT
    [stack] = plan.compared_stacks(root, [], [])
    compared = plan.compare(identity, stack, {})
    assert compared.deployed and compared.resources == []
    assert refused_to_the_pipes_own_keys == [True, False]
    [assumed] = [role for role in aws.sts_backend().assumed_roles if role.session_name == "plan-test"]
    assert (
        assumed.role_arn
        == f"arn:aws:iam::{aws.ACCOUNT}:role/cdk-hnb659fds-lookup-role-{aws.ACCOUNT}-{aws.REGION}"
    )


def test_an_unreadable_deployed_template_is_one_clear_error(
    tmp_path, moto_server, identity, refused_to_the_pipes_own_keys
):
    root = assembly(tmp_path / "cdk.out", {"PlanNoRole": BUCKET})
    [stack] = plan.compared_stacks(root, [], [])
    with pytest.raises(
        PipeError, match=r"the deployed template of PlanNoRole could not be read .*GetTemplate"
    ):
        plan.compare(identity, stack._replace(lookup_role=None), {})


def compared(resources, security=()):
    stack = plan.Stack("Web", "Web", None, None, None)
    return plan.Compared(stack, True, list(resources), list(security))


GRANT = changes.SecurityChange("Grant", "AWS::IAM::Policy", changes.IAM, "added", '{"Action":"s3:*"}')


@pytest.mark.parametrize(("allow", "outcome"), [(False, "FAILED"), (True, "PASSED")])
def test_security_changes_fail_the_plan_unless_allowed(allow, outcome):
    made = plan.report([compared([], [GRANT])], "aws://1/r", allow, True)
    assert made.outcome == outcome and made.phase == "plan" and made.job == "cdk"
    [item] = made.items
    assert item.severity == "HIGH" and item.change == "added" and "IAM statement added" in item.name
    assert len(made.fields) <= 6


def test_the_plan_counts_and_ranks_resource_changes():
    resources = [
        changes.ResourceChange("A", "AWS::SQS::Queue", "added"),
        changes.ResourceChange("B", "AWS::S3::Bucket", "replaced", ("BucketName",), (), ("BucketName",)),
        changes.ResourceChange("C", "AWS::S3::Bucket", "changed", ("Tags",)),
        changes.ResourceChange(
            "D", "AWS::RDS::DBInstance", "changed", ("EngineVersion",), ("EngineVersion",)
        ),
        changes.ResourceChange("E", "AWS::SNS::Topic", "removed"),
    ]
    made = plan.report(
        [compared(resources), plan.Compared(plan.Stack("Db", "Db", None, None, None), True, [], [])],
        "aws://1/r",
        False,
        False,
    )
    assert made.outcome == "PASSED"
    assert [(i.change, i.severity, i.detail) for i in made.items] == [
        ("added", "LOW", ""),
        ("replaced", "HIGH", "replaced: BucketName changed"),
        ("changed", "LOW", "changed: Tags"),
        ("changed", "MEDIUM", "may be replaced: EngineVersion changed"),
        ("removed", "HIGH", ""),
        ("unchanged", "LOW", "no differences"),
    ]
    assert (
        "2 stack(s) compared with aws://1/r: 1 resource(s) to add, 2 to change, 1 to replace, 1 to remove."
        in made.summary
    )
    assert "replacement rules were not found" in made.summary
