"""moto's IAM enforcement, turned on for one pipe run at a time, and the role made with a given policy.

moto checks every request's signature and the caller's identity policies once
`settings.INITIAL_NO_AUTH_ACTION_COUNT` requests have been served: `enforced()` sets that number to
the requests served so far, so that the test's own set-up before it is free and everything the pipe
sends during it is checked, and puts it back afterwards (the moto server is shared by the session).

moto evaluates S3 calls against the bucket's or object's ARN, but its other services by action only,
with resource `*`, which a scoped statement does not match. `enforced()` gives moto the resource of
the calls the jobs make, as AWS's Service Authorization Reference names them (EKS DescribeCluster:
the cluster; CloudFront invalidations: the distribution; SSM GetParameter: the parameter), and checks
DeleteObjects per key (s3:DeleteObject on each object, as S3 does; moto checks it on the bucket's
ARN). An sts:AssumeRole is checked against the role's trust policy as IAM evaluates it
(test/support/iam_trust.py).
"""

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from test.support import aws

POLICY_NAME = "aws-oidc-deploy-jobs"
# Admits any web identity: the trust side is test_signin's, not these tests'.
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Federated": "*"}, "Action": "sts:AssumeRoleWithWebIdentity"}
    ],
}


def give_role(endpoint_url: str, policy: dict[str, Any] | None, role_name: str = "deploy") -> str:
    """The role (made if missing) holds exactly `policy` as its one inline policy (none: no policy)."""
    iam = aws.client("iam", endpoint_url, "us-east-1")
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=role_name, AssumeRolePolicyDocument=json.dumps(_TRUST))
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role_name, PolicyName=name)
    for attached in iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role_name, PolicyArn=attached["PolicyArn"])
    if policy is not None and policy["Statement"]:
        iam.put_role_policy(RoleName=role_name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))
    return f"arn:aws:iam::{aws.ACCOUNT}:role/{role_name}"


def without_action(policy: dict[str, Any], sid: str, action: str) -> dict[str, Any]:
    """`policy` with `action` taken out of statement `sid` (the statement goes when it held only that)."""
    statements = []
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        if statement["Sid"] == sid:
            assert action in actions, (sid, action)
            actions = [a for a in actions if a != action]
            if not actions:
                continue
            statement = statement | {"Action": actions if len(actions) > 1 else actions[0]}
        statements.append(statement)
    return policy | {"Statement": statements}


def _cloudfront_resource(self: Any) -> str:
    found = re.search(r"/distribution/([^/?]+)", self.path)
    return f"arn:aws:cloudfront::{self.current_account}:distribution/{found.group(1)}" if found else "*"


def _eks_resource(self: Any) -> str:
    found = re.search(r"/clusters/([^/?]+)", self.path)
    return f"arn:aws:eks:{self.region}:{self.current_account}:cluster/{found.group(1)}" if found else "*"


def _ssm_resource(self: Any) -> str:
    """A parameter's ARN for GetParameter (and GetParameters of one name), as IAM checks it: the name
    follows `parameter`, with a `/` between them when the name has none of its own."""
    try:
        body = json.loads(self.body or "{}")
    except ValueError:
        return "*"
    names = [body["Name"]] if "Name" in body else body.get("Names") or []
    if len(names) != 1 or not isinstance(names[0], str):
        return "*"
    name = names[0] if names[0].startswith("/") else f"/{names[0]}"
    return f"arn:aws:ssm:{self.region}:{self.current_account}:parameter{name}"


def _as_the_service_says_it(normal: Any, shape: str) -> Any:
    """moto's denial is a query-protocol XML body (ErrorResponse/Errors/Error), which a REST-XML
    (CloudFront) or REST-JSON (EKS) client cannot read a code from: answer as the service does."""
    from moto.core.exceptions import _RESTError

    def authorize(self: Any, resource: str = "*") -> None:
        try:
            normal(self, resource)
        except _RESTError as denial:
            if shape == "json":
                answer = denial.to_json()
                answer.code = denial.code
                raise answer from None
            from xml.sax.saxutils import escape

            denial.description = (
                "<?xml version='1.0' encoding='UTF-8'?><ErrorResponse><Error><Type>Sender</Type>"
                f"<Code>{escape(denial.error_type)}</Code><Message>{escape(denial.message)}</Message>"
                "</Error></ErrorResponse>"
            )
            raise

    return authorize


@contextlib.contextmanager
def _resources() -> Iterator[None]:
    from moto.cloudfront.responses import CloudFrontResponse
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.eks.responses import EKSResponse
    from moto.iam.access_control import IAMRequestBase
    from moto.s3.responses import S3Response
    from moto.ssm.responses import SimpleSystemManagerResponse
    from moto.sts.responses import TokenResponse

    from test.support import iam_trust

    authorize = S3Response._authenticate_and_authorize_s3_action
    normal = ActionAuthenticatorMixin._authenticate_and_authorize_normal_action

    def web_identity_is_unsigned(self: Any, resource: str = "*") -> None:
        # AssumeRoleWithWebIdentity is sent unsigned: the token is the credential (AWS asks for no
        # identity permission); moto would look for a signature.
        if "AssumeRoleWithWebIdentity" not in self.querystring.get("Action", []):
            normal(self, resource)

    def per_key(self: Any, bucket_name: str | None = None, key_name: str | None = None) -> None:
        body = self.body.encode() if isinstance(self.body, str) else (self.body or b"")
        if key_name is None and self.data.get("Action") == "DeleteObject" and b"<Delete" in body:
            for key in re.findall(rb"<Key>(.*?)</Key>", body, re.S):
                authorize(self, bucket_name=bucket_name, key_name=key.decode())
            return
        authorize(self, bucket_name=bucket_name, key_name=key_name)

    checked = ActionAuthenticatorMixin._authenticate_and_authorize_action
    own_key = f"Credential={aws.TEST_KEYS['aws_access_key_id']}/"

    def not_the_benchs_own(self: Any, iam_request_cls: type, resource: str = "*") -> None:
        # The stand-ins' own calls (the Elastic Beanstalk stand-in reading a bundle from S3) are the
        # test bench's, signed with its keys: only the pipe's are checked.
        if own_key not in self.headers.get("Authorization", ""):
            checked(self, iam_request_cls, resource)

    patches = [
        (ActionAuthenticatorMixin, "_authenticate_and_authorize_action", not_the_benchs_own),
        (CloudFrontResponse, "_determine_resource", _cloudfront_resource),
        (EKSResponse, "_determine_resource", _eks_resource),
        (S3Response, "_authenticate_and_authorize_s3_action", per_key),
        (TokenResponse, "_authenticate_and_authorize_normal_action", web_identity_is_unsigned),
        (
            CloudFrontResponse,
            "_authenticate_and_authorize_normal_action",
            _as_the_service_says_it(normal, "xml"),
        ),
        (EKSResponse, "_authenticate_and_authorize_normal_action", _as_the_service_says_it(normal, "json")),
        (SimpleSystemManagerResponse, "_determine_resource", _ssm_resource),
        (
            SimpleSystemManagerResponse,
            "_authenticate_and_authorize_normal_action",
            _as_the_service_says_it(normal, "json"),
        ),
        # moto's trust check refuses an account principal (the CDK bootstrap roles'): test/support/iam_trust.py.
        (IAMRequestBase, "_check_role_trust_relationship", iam_trust.check_role_trust_relationship),
        # moto recomputes the signature of a CloudFront GET wrongly (SignatureDoesNotMatch for a request
        # botocore signed): the signature is the SDK's business, not what these tests prove.
        (IAMRequestBase, "check_signature", lambda self: None),
    ]
    # What each class held itself (a method it only inherits is deleted again, not copied down).
    missing = object()
    saved = [(owner, name, owner.__dict__.get(name, missing)) for owner, name, _ in patches]
    for owner, name, value in patches:
        setattr(owner, name, value)
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            if original is missing:
                delattr(owner, name)
            else:
                setattr(owner, name, original)


@contextlib.contextmanager
def enforced() -> Iterator[None]:
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    saved = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT = ActionAuthenticatorMixin.request_count
    try:
        with _resources():
            yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = saved


def _beanstalk_resources(state: Any, action: str, params: dict[str, str], caller: Any) -> list[str]:
    """The resources IAM checks for an Elastic Beanstalk call, each of which the role must be allowed:
    the resource types of the Service Authorization Reference's AWS Elastic Beanstalk table (list_
    elasticbeanstalk), where CreateApplicationVersion requires both `application*` and
    `applicationversion*`."""
    base = f"arn:aws:elasticbeanstalk:{caller.region}:{caller.account}"
    environment = params.get("EnvironmentName")
    application = params.get("ApplicationName") or (
        state.environments[environment].application if environment in state.environments else ""
    )
    if action == "CreateStorageLocation":
        return ["*"]
    if action == "DescribePlatformVersion":
        return [params.get("PlatformArn", "*")]
    if action == "DescribeApplications":
        return [f"{base}:application/{params.get('ApplicationNames.member.1', '*')}"]
    if action in ("CreateApplicationVersion", "DescribeApplicationVersions"):
        label = params.get("VersionLabel") or params.get("VersionLabels.member.1", "*")
        version = f"{base}:applicationversion/{application}/{label}"
        if action == "CreateApplicationVersion":
            return [f"{base}:application/{application}", version]
        return [version]
    if environment or params.get("EnvironmentNames.member.1"):
        return [f"{base}:environment/{application}/{environment or params['EnvironmentNames.member.1']}"]
    return [f"{base}:application/{application}"]


def _refusal(
    caller: Any, headers: dict[str, str], action: str, resource: str, context: dict[str, str] | None = None
) -> str | None:
    """Why the caller's role's policies refuse `action` on `resource` (moto's own evaluator, with the
    request's condition keys in `context`), or None when they allow it."""
    from moto.iam.access_control import AssumedRoleAccessKey, IAMPolicy, PermissionResult

    token = {"X-Amz-Security-Token": headers.get("x-amz-security-token", "")}
    key = AssumedRoleAccessKey(caller.account, "aws", caller.access_key_id, token)
    results = [
        IAMPolicy(policy).is_action_permitted(action, resource, incoming_condition_values=context)
        for policy in key.collect_policies()
    ]
    if PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results:
        return None
    return f"User: {caller.assumed_role_arn} is not authorized to perform: {action} on resource: {resource}"


def beanstalk_policies(standin: Any) -> None:
    """The Elastic Beanstalk stand-in checks each call against the caller's role's policies, as
    moto checks its own services (moto has no Elastic Beanstalk API to check)."""

    def authorize(action: str, params: dict[str, str], caller: Any, headers: dict[str, str]) -> str | None:
        for resource in _beanstalk_resources(standin.state, action, params, caller):
            refused = _refusal(caller, headers, f"elasticbeanstalk:{action}", resource)
            if refused is not None:
                return refused
        return None

    standin.authorize = authorize


def _ecs_checks(state: Any, action: str, params: dict[str, Any], caller: Any) -> list[tuple[str, str, dict]]:
    """What IAM checks for an ECS call: (action, resource, condition keys) each, as the Service
    Authorization Reference for Amazon ECS (list_ecs) names them; RegisterTaskDefinition is checked
    on the new revision's ARN (`task-definition*`), and also checks
    ecs:TagResource on the new revision when it carries tags (ecs:CreateAction) and iam:PassRole on
    each role the task definition names (iam:PassedToService)."""
    base = f"arn:aws:ecs:{caller.region}:{caller.account}"
    cluster = str(params.get("cluster") or "default").rsplit("/", 1)[-1]
    if action == "DescribeClusters":
        return [
            (f"ecs:{action}", f"{base}:cluster/{str(c).rsplit('/', 1)[-1]}", {})
            for c in params.get("clusters") or ["default"]
        ]
    if action == "DescribeServices":
        return [
            (f"ecs:{action}", f"{base}:service/{cluster}/{str(s).rsplit('/', 1)[-1]}", {})
            for s in params.get("services") or []
        ]
    if action == "UpdateService":
        return [
            (
                f"ecs:{action}",
                f"{base}:service/{cluster}/{str(params.get('service', '')).rsplit('/', 1)[-1]}",
                {},
            )
        ]
    if action == "ListTasks":
        return [(f"ecs:{action}", "*", {"ecs:cluster": f"{base}:cluster/{cluster}"})]
    if action == "DescribeTasks":
        return [
            (f"ecs:{action}", f"{base}:task/{cluster}/{str(t).rsplit('/', 1)[-1]}", {})
            for t in params.get("tasks") or []
        ]
    if action == "RegisterTaskDefinition":
        # `task-definition*`: the new revision's ARN (task-definition/${Family}:${Revision}).
        family = str(params.get("family", ""))
        created_arn = f"{base}:task-definition/{family}:{len(state.families.get(family, [])) + 1}"
        checks = [(f"ecs:{action}", created_arn, {})]
        if params.get("tags"):
            created = {"ecs:CreateAction": "RegisterTaskDefinition"}
            checks.append(("ecs:TagResource", created_arn, created))
        passed = {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
        checks += [
            ("iam:PassRole", str(params[r]), passed)
            for r in ("taskRoleArn", "executionRoleArn")
            if params.get(r)
        ]
        return checks
    # DescribeTaskDefinition, ListTaskDefinitions: no resource type listed, so `*`.
    return [(f"ecs:{action}", "*", {})]


def ecs_policies(standin: Any) -> None:
    """The ECS stand-in checks each call against the caller's role's policies (moto's evaluator, with
    each call's resource ARNs and condition keys): the pipe's ECS calls never reach moto."""

    def authorize(action: str, params: dict[str, Any], caller: Any, headers: dict[str, str]) -> str | None:
        for wanted, resource, context in _ecs_checks(standin.state, action, params, caller):
            refused = _refusal(caller, headers, wanted, resource, context or None)
            if refused is not None:
                return refused
        return None

    standin.authorize = authorize
