"""Each job's permissions policy (pipe/signin/policies.py) is enough, and every action in it is needed:
the job runs end to end (the pipe's own process) against moto server with IAM enforcement on and the
role holding exactly the documented policy, and passes; then once for each action of each statement,
with the role's policy lacking that action, and fails with the pipe's one access-denied line naming
it. Actions are taken out one at a time, not whole statements: a statement holding one action the job
never uses would pass a statement-wise test.

The runs are made to use every statement: s3-sync with DELETE_FLAG, a CloudFront distribution and
CLOUDFRONT_WAIT, and an object whose ETag cannot decide (the HEAD behind s3:GetObject). What moto
cannot check, and the statements no test here runs, are in NOT_RUN (docs/iam.md says why).
"""

import hashlib
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from pipe.signin import policies
from test.support import aws, iam
from test.support.checks import assert_one_clear_failure
from test.support.run import write_files

MIB = 1024 * 1024
SITE = {
    "index.html": "<html>home</html>",
    "assets/app.js": "console.log('v1');",
    "robots.txt": "User-agent: *",
}


class Arranged(NamedTuple):
    env: dict[str, str]
    values: dict[str, str]  # the policy's parameters


def _distribution(url: str) -> str:
    return aws.new_distribution(url)[1]


def _whoami(url: str, clone: Path) -> Arranged:
    return Arranged({"COMMAND": "whoami"}, {})


def _cloudfront_invalidate(url: str, clone: Path) -> Arranged:
    distribution = _distribution(url)
    env = {
        "COMMAND": "cloudfront-invalidate",
        "CLOUDFRONT_DISTRIBUTION_ID": distribution,
        "CLOUDFRONT_WAIT": "true",
    }
    return Arranged(env, {"DistributionId": distribution})


def _s3_sync(url: str, clone: Path) -> Arranged:
    """A bucket with a key to delete under the prefix, and one whose multipart ETag (another tool's
    part size) cannot tell whether the local file changed: the job HEADs it for the stored hash."""
    from boto3.s3.transfer import TransferConfig

    s3 = aws.client("s3", url)
    bucket = f"site-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    s3.put_object(Bucket=bucket, Key="www/stale.html", Body=b"x")
    site = write_files(clone / "build", SITE)
    data = os.urandom(11 * MIB)
    (site / "other-tool.bin").write_bytes(data)
    copy = clone.parent / "other-tool.bin"
    copy.write_bytes(data)
    md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
    five = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(
        str(copy), bucket, "www/other-tool.bin", Config=five, ExtraArgs={"Metadata": {"content-md5-hex": md5}}
    )
    distribution = _distribution(url)
    env = {
        "COMMAND": "s3-sync",
        "S3_BUCKET": f"{bucket}/www",
        "LOCAL_PATH": "build",
        "DELETE_FLAG": "true",
        "CLOUDFRONT_DISTRIBUTION_ID": distribution,
        "CLOUDFRONT_WAIT": "true",
    }
    return Arranged(env, {"BucketName": bucket, "KeyPrefix": "www/", "DistributionId": distribution})


ARRANGE: dict[str, Callable[[str, Path], Arranged]] = {
    "whoami": _whoami,
    "s3-sync": _s3_sync,
    "cloudfront-invalidate": _cloudfront_invalidate,
}
# Statements no test here runs under enforcement: the job's calls go to a stand-in of the tests' own
# (Elastic Beanstalk), to the CDK CLI, or to a real control plane (kubectl); or the job makes none.
# docs/iam.md lists them and how their actions were derived.
NOT_RUN = {"trust-policy": "no AWS call", "beanstalk": "", "cdk": ""}
# Run by test_kubectl_needs_exactly_its_policy, on the real control plane.
ON_THE_CONTROL_PLANE = {"kubectl"}


def _cases() -> list[tuple[str, str | None, str | None]]:
    cases: list[tuple[str, str | None, str | None]] = []
    for job in ARRANGE:
        cases.append((job, None, None))
        for statement in policies.POLICIES[job]:
            cases += [(job, statement.sid, action) for action in statement.actions]
    return cases


CASES = _cases()


def test_every_job_is_run_under_its_policy_or_said_not_to_be():
    assert set(ARRANGE) | set(NOT_RUN) | ON_THE_CONTROL_PLANE == set(policies.POLICIES)


def _run_enforced(run, env, job, sid, action):
    """Run the job with the role's policy lacking `action` (None: exactly the policy); it passes, or
    fails with the one line naming the action (an advisory action: passes, with a warning naming it)."""
    with iam.enforced():
        result = run(env)
    if action is None:
        assert result.returncode == 0, result.output
        return
    statement = next(s for s in policies.POLICIES[job] if s.sid == sid)
    if statement.advisory:
        assert result.returncode == 0 and action in result.output, result.output
        return
    line = assert_one_clear_failure(result, f"AccessDenied: the role may not call {action}")
    assert f"Allow {action} in its IAM policy" in line


def _policy_for(job, values, sid, action):
    policy = policies.policy_with(policies.statements([job]), values, aws.ACCOUNT, "aws", aws.REGION)
    return policy if action is None else iam.without_action(policy, sid, action)


@pytest.mark.parametrize(
    ("job", "sid", "action"),
    CASES,
    ids=[f"{job}-{'exact-policy' if action is None else 'without-' + action}" for job, _, action in CASES],
)
def test_the_job_needs_exactly_its_policy(job, sid, action, moto_server, run, pipe_env, clone_dir):
    arranged = ARRANGE[job](moto_server.url, clone_dir)
    role = iam.give_role(moto_server.url, _policy_for(job, arranged.values, sid, action))
    shared = clone_dir.parent / "shared"
    shared.mkdir(exist_ok=True)
    env = (
        pipe_env
        | arranged.env
        | {
            "AWS_OIDC_ROLE_ARN": role,
            "BITBUCKET_CLONE_DIR": str(clone_dir),
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
            "DEBUG": "false",
        }
    )
    _run_enforced(run, env, job, sid, action)


KUBECTL_CASES = [(None, None)] + [(s.sid, a) for s in policies.POLICIES["kubectl"] for a in s.actions]
CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: enforced\n"


@pytest.mark.parametrize(
    ("sid", "action"),
    KUBECTL_CASES,
    ids=["exact-policy" if a is None else f"without-{a}" for _, a in KUBECTL_CASES],
)
def test_kubectl_needs_exactly_its_policy(sid, action, eks_cluster, moto_server, run, pipe_env, clone_dir):
    """The IAM side only: inside the cluster the role is mapped by an access entry with rights to the
    namespace (Kubernetes RBAC, not IAM)."""
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant_edit()
    role = iam.give_role(moto_server.url, _policy_for("kubectl", {"ClusterName": "prod"}, sid, action))
    write_files(clone_dir, {"k8s/settings.yaml": CONFIG_MAP})
    env = pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": "prod",
        "KUBECTL_COMMAND": "apply",
        "RESOURCE_PATH": "k8s",
        "NAMESPACE": eks_cluster.namespace,
        "AWS_OIDC_ROLE_ARN": role,
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "DEBUG": "false",
    }
    _run_enforced(run, env, "kubectl", sid, action)
