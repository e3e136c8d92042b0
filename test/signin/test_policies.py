"""The policy table (pipe/signin/policy_table.py, rendered by pipe/signin/policies.py): every job has
an entry, docs/iam.md is written from it, and trust-policy prints it, with a CloudFormation template
cfn-lint accepts.

Then, under IAM enforcement, each job's policy is enough and every action in it is needed: the job
runs end to end (the pipe's own process) against moto server with IAM enforcement on and the role
holding exactly the documented policy, and passes; then once for each action of each statement, with
the role's policy lacking that action, and fails with the pipe's one access-denied line naming it. Actions are taken out one at a time, not whole statements: a statement holding one action the job
never uses would pass a statement-wise test.

The runs are made to use every statement: s3-sync with DELETE_FLAG, a CloudFront distribution and
CLOUDFRONT_WAIT, and an object whose ETag cannot decide (the HEAD behind s3:GetObject). What moto
cannot check, and the statements no test here runs, are in NOT_RUN (docs/iam.md says why).
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from pipe.jobs import JOBS
from pipe.signin import policies
from scripts import iam_docs
from test.support import aws, iam
from test.support.checks import assert_one_clear_failure
from test.support.run import REPO, base_environment, run_pipe, write_files
from test.support.tokens import make_token

ROLE = "arn:aws:iam::123456789012:role/deploy"


def test_every_job_has_a_policy_entry():
    """A job added to JOBS fails here until it adds `"job": (Statement(...), ...)` to POLICIES."""
    assert sorted(set(JOBS) - set(policies.POLICIES)) == []
    assert sorted(set(policies.POLICIES) - set(JOBS)) == []


def test_the_check_catches_a_job_without_an_entry(monkeypatch):
    monkeypatch.setitem(JOBS, "new-job", "pipe.jobs.new_job.job")
    assert sorted(set(JOBS) - set(policies.POLICIES)) == ["new-job"]


def test_every_parameter_a_statement_uses_is_declared_and_every_declared_one_used():
    text = json.dumps({job: [s._asdict() for s in chosen] for job, chosen in policies.POLICIES.items()})
    used = {name for name in re.findall(r"\$\{([A-Za-z:]+)\}", text) if not name.startswith("AWS::")}
    assert used == set(policies.PARAMETERS)


def test_every_statement_is_well_formed():
    sids = set()
    for chosen in policies.POLICIES.values():
        for statement in chosen:
            assert re.fullmatch(r"[A-Za-z0-9]+", statement.sid)
            assert statement.sid not in sids or statement in policies.statements(list(policies.POLICIES))
            sids.add(statement.sid)
            assert statement.actions and all(
                re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a) for a in statement.actions
            )
            assert statement.resources and statement.why


def test_docs_iam_md_is_written_from_the_table():
    text = iam_docs.DOC.read_text(encoding="utf-8")
    assert iam_docs.rendered(text) == text, "run `python -m scripts.iam_docs` and commit docs/iam.md"
    for job, chosen in policies.POLICIES.items():
        assert f"### `{job}`" in text
        for statement in chosen:
            assert statement.sid in text


def test_the_docs_check_sees_a_changed_table(monkeypatch):
    text = iam_docs.DOC.read_text(encoding="utf-8")
    changed = policies.POLICIES["kubectl"][0]._replace(actions=("eks:DescribeCluster", "eks:ListClusters"))
    monkeypatch.setitem(policies.POLICIES, "kubectl", (changed,))
    assert iam_docs.rendered(text) != text


def test_a_filled_policy_has_no_placeholder_left():
    chosen = policies.statements(list(policies.POLICIES))
    values = {name: f"value-of-{name}" for name in policies.PARAMETERS}
    document = policies.policy_with(chosen, values, "123456789012", "aws", "eu-west-1")
    assert "${" not in json.dumps(document) and "<" not in json.dumps(document)


def _trust_policy(tmp_path, **extra) -> str:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = base_environment(home) | {
        "COMMAND": "trust-policy",
        "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
        "AWS_OIDC_ROLE_ARN": ROLE,
    }
    result = run_pipe(env | extra, cwd=tmp_path)
    assert result.returncode == 0, result.output
    return result.stdout


def _json_after(output: str, heading: str) -> dict:
    start = output.index(heading)
    text = output[output.index("\n{", start) + 1 :]
    return json.loads(text[: text.index("\n}\n") + 2])


def _template(output: str) -> str:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("AWSTemplateFormatVersion"))
    end = next(i for i in range(start, len(lines)) if "✔" in lines[i])
    return "\n".join(lines[start:end]) + "\n"


def test_trust_policy_prints_the_policy_of_the_jobs_named(tmp_path):
    output = _trust_policy(
        tmp_path,
        POLICY_FOR_JOBS_COUNT="2",
        POLICY_FOR_JOBS_0="kubectl",
        POLICY_FOR_JOBS_1="cloudfront-invalidate",
    )
    document = _json_after(output, "# IAM permissions policy for kubectl, cloudfront-invalidate")
    assert [s["Sid"] for s in document["Statement"]] == ["EksDescribeCluster", "CloudFrontInvalidation"]
    assert document == policies.policy(
        policies.statements(["kubectl", "cloudfront-invalidate"]), "123456789012", "aws", None
    )
    assert document["Statement"][0]["Resource"] == "arn:aws:eks:<REGION>:123456789012:cluster/<ClusterName>"
    assert "Trust policy, permissions policy and CloudFormation template printed" in output


def test_without_policy_for_jobs_no_permissions_policy_is_printed(tmp_path):
    output = _trust_policy(tmp_path)
    assert "permissions policy for" not in output and "PolicyName:" not in output


def _cfn_lint(*paths) -> subprocess.CompletedProcess:
    executable = shutil.which("cfn-lint", path=str(REPO / ".venv" / "bin")) or shutil.which("cfn-lint")
    command = [executable] if executable else [sys.executable, "-m", "cfnlint"]
    return subprocess.run(
        [*command, *map(str, paths)], capture_output=True, text=True, timeout=120, check=False
    )


# One cfn-lint run for every template (it takes seconds to start): none, one job, every job.
# Each job's template alone (its parameters only), and every job's together.
TEMPLATE_JOBS = {
    "no-jobs": [],
    "s3-sync": ["s3-sync"],
    "every-job": list(policies.POLICIES),
    **{f"only-{job}": [job] for job in policies.POLICIES},
}


def test_the_template_passes_cfn_lint_and_holds_the_policy(tmp_path):
    import yaml

    templates = []
    for name, jobs in TEMPLATE_JOBS.items():
        listed = {f"POLICY_FOR_JOBS_{i}": job for i, job in enumerate(jobs)}
        output = _trust_policy(tmp_path, POLICY_FOR_JOBS_COUNT=str(len(jobs)), **listed)
        template = tmp_path / f"{name}.yaml"
        template.write_text(_template(output), encoding="utf-8")
        templates.append(template)
        role = yaml.safe_load(template.read_text(encoding="utf-8"))["Resources"]["DeployRole"]["Properties"]
        chosen = policies.statements(jobs)
        if chosen:
            assert role["Policies"][0]["PolicyDocument"] == policies.cloudformation_policy(chosen)
            parameters = yaml.safe_load(template.read_text(encoding="utf-8"))["Parameters"]
            assert set(policies.parameters_used(chosen)) <= set(parameters)
        else:
            assert "Policies" not in role
    # The lint can fail: a statement whose Effect is neither Allow nor Deny is refused, and named.
    broken = tmp_path / "broken.yaml"
    broken.write_text(templates[1].read_text(encoding="utf-8").replace("Effect: Allow", "Effect: Permit", 1))
    linted = _cfn_lint(*templates, broken)
    found = linted.stdout + linted.stderr
    assert linted.returncode != 0 and str(broken) in found, found
    assert not any(str(template) in found for template in templates), found


# --- Under IAM enforcement ---------------------------------------------------------------------

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
NOT_RUN = {"trust-policy": "no AWS call"}
# Run by test_kubectl_needs_exactly_its_policy and test_helm_needs_exactly_its_policy, on the real
# control plane, test_beanstalk_needs_exactly_its_policy, on the Elastic Beanstalk stand-in, and
# test_ecs_needs_exactly_its_policy, on the ECS stand-in.
RUN_BESIDE = {"kubectl", "helm", "beanstalk", "ecs", "cdk"}


def _cases() -> list[tuple[str, str | None, str | None]]:
    cases: list[tuple[str, str | None, str | None]] = []
    for job in ARRANGE:
        cases.append((job, None, None))
        for statement in policies.POLICIES[job]:
            cases += [(job, statement.sid, action) for action in statement.actions]
    return cases


CASES = _cases()


def test_every_job_is_run_under_its_policy_or_said_not_to_be():
    assert set(ARRANGE) | set(NOT_RUN) | RUN_BESIDE == set(policies.POLICIES)


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
    line = assert_one_clear_failure(result, f"may not call {action}")
    # Elastic Beanstalk's Describe calls answer an empty list to a role that may not call them: the
    # pipe's line then says what is missing and names the permission as a possible cause.
    if not action.startswith("elasticbeanstalk:Describe"):
        assert f"AccessDenied: the role may not call {action}" in line
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


HELM_CASES = [(None, None)] + [(s.sid, a) for s in policies.POLICIES["helm"] for a in s.actions]


@pytest.fixture(scope="module")
def helm_bin():
    from test.support import helm as bench

    return bench.binaries()  # built once and cached, as for test/jobs/helm/


@pytest.mark.parametrize(
    ("sid", "action"),
    HELM_CASES,
    ids=["exact-policy" if a is None else f"without-{a}" for _, a in HELM_CASES],
)
def test_helm_needs_exactly_its_policy(
    sid, action, helm_bin, eks_cluster, moto_server, run, pipe_env, clone_dir
):
    """An install of the sample chart (its hook and dependency included); the IAM side only, as for
    kubectl: inside the cluster the role is mapped by an access entry (Kubernetes RBAC, not IAM)."""
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant_cluster_admin()
    role = iam.give_role(moto_server.url, _policy_for("helm", {"ClusterName": "prod"}, sid, action))
    shutil.copytree(REPO / "test" / "jobs" / "helm" / "charts" / "web", clone_dir / "charts" / "web")
    env = pipe_env | {
        "COMMAND": "helm",
        "CLUSTER_NAME": "prod",
        "RELEASE_NAME": "web",
        "CHART": "charts/web",
        "NAMESPACE": eks_cluster.namespace,
        "WAIT_TIMEOUT": "60",
        "AWS_OIDC_ROLE_ARN": role,
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "PATH": f"{helm_bin}:{pipe_env['PATH']}",
        "DEBUG": "false",
    }
    _run_enforced(run, env, "helm", sid, action)
    if action is None:
        assert eks_cluster.object("apps", "v1", "deployments", "web")["status"]["readyReplicas"] == 2


# What a deploy to a healthy environment never calls: AbortEnvironmentUpdate (a deploy that times
# out), s3:DeleteObject (a bundle left by a refused CreateApplicationVersion), and what Elastic
# Beanstalk itself does with the role's permissions during the update (the stand-in does not).
BEANSTALK_NOT_CALLED = {
    "elasticbeanstalk:AbortEnvironmentUpdate",
    "s3:DeleteObject",
    "BeanstalkUpdateOnYourBehalf",
    "BeanstalkOwnBucket",
}
BEANSTALK_CASES = [(None, None)] + [
    (s.sid, a)
    for s in policies.POLICIES["beanstalk"]
    if s.sid not in BEANSTALK_NOT_CALLED
    for a in s.actions
    if a not in BEANSTALK_NOT_CALLED
]
# Called when the version exists already (a re-run): tested on the second run of the same build.
BEANSTALK_RERUN = {"elasticbeanstalk:DescribeApplicationVersions", "s3:GetObject"}
BEANSTALK_APP = {"application.py": "def application(environ, start):\n    return [b'v1']\n"}


@pytest.mark.parametrize(
    ("sid", "action"),
    BEANSTALK_CASES,
    ids=["exact-policy" if a is None else f"without-{a}" for _, a in BEANSTALK_CASES],
)
def test_beanstalk_needs_exactly_its_policy(sid, action, moto_server, run, pipe_env, clone_dir):
    from test.support.beanstalk import BeanstalkStandIn

    suffix = uuid.uuid4().hex[:8]
    application, environment = f"web-{suffix}", f"web-prod-{suffix}"
    # A bucket of the team's own, so that no statement but BeanstalkBundle grants on it (Elastic
    # Beanstalk's own bucket is also in BeanstalkOwnBucket); Elastic Beanstalk's own bucket when the
    # run is to find it (CreateStorageLocation).
    own_bucket = action == "elasticbeanstalk:CreateStorageLocation"
    bucket = f"elasticbeanstalk-{aws.REGION}-{aws.ACCOUNT}" if own_bucket else f"bundles-{suffix}"
    if not own_bucket:
        aws.client("s3", moto_server.url).create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION}
        )
    values = {"ApplicationName": application, "EnvironmentName": environment, "BundleBucket": bucket}
    role = iam.give_role(moto_server.url, _policy_for("beanstalk", values, None, None))
    write_files(clone_dir / "app", BEANSTALK_APP)
    shared = clone_dir.parent / "shared"
    shared.mkdir(exist_ok=True)
    with BeanstalkStandIn(moto_server.url) as eb:
        eb.state.create_environment(application, environment)
        iam.beanstalk_policies(eb)
        env = pipe_env | {
            "COMMAND": "beanstalk",
            "AWS_OIDC_ROLE_ARN": role,
            "AWS_ENDPOINT_URL_ELASTIC_BEANSTALK": eb.url,
            "APPLICATION_NAME": application,
            "ENVIRONMENT_NAME": environment,
            "SOURCE_PATH": "app",
            "WAIT_INTERVAL": "0.1",
            **({} if own_bucket else {"S3_BUCKET": bucket}),
            "BITBUCKET_CLONE_DIR": str(clone_dir),
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
            "BITBUCKET_COMMIT": "3f2a9c1d0b8e7f6a5c4d3e2f1a0b9c8d7e6f5a4b",
            "DEBUG": "false",
        }
        if action in BEANSTALK_RERUN:
            # The version exists already: the re-run checks it (and its bundle) instead of uploading.
            _run_enforced(run, env, "beanstalk", None, None)
        iam.give_role(moto_server.url, _policy_for("beanstalk", values, sid, action))
        _run_enforced(run, env, "beanstalk", sid, action)


# Called only when a deployment fails (the stopped tasks' reasons): proven on a deploy whose image
# cannot be pulled, which with the whole policy fails naming the reason, not a permission.
ECS_ON_FAILURE = {"ecs:ListTasks", "ecs:DescribeTasks"}
ECS_CASES = [(None, None, False), (None, None, True)] + [
    (s.sid, a, a in ECS_ON_FAILURE) for s in policies.POLICIES["ecs"] for a in s.actions
]
ECS_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop"


def _ecs_definition(family: str, image: str) -> dict:
    """A task definition naming both roles, so that RegisterTaskDefinition passes them (iam:PassRole)."""
    return {
        "family": family,
        "taskRoleArn": f"arn:aws:iam::{aws.ACCOUNT}:role/{family}-task",
        "executionRoleArn": f"arn:aws:iam::{aws.ACCOUNT}:role/{family}-execution",
        "containerDefinitions": [{"name": "web", "image": image, "memory": 512, "essential": True}],
    }


@pytest.mark.parametrize(
    ("sid", "action", "failing"),
    ECS_CASES,
    ids=[
        f"{'failing-deploy' if failing else 'deploy'}-{'exact-policy' if a is None else 'without-' + a}"
        for _, a, failing in ECS_CASES
    ],
)
def test_ecs_needs_exactly_its_policy(sid, action, failing, moto_server, run, pipe_env, clone_dir):
    """A deploy of a new image with tags on the new revision: every call but the stopped tasks'.
    The ECS stand-in checks each call against the role's policies with moto's evaluator, on the
    resource ARNs and condition keys the Service Authorization Reference names (test/support/iam.py)."""
    from test.support.ecs import PULL_FAILS, EcsStandIn

    suffix = uuid.uuid4().hex[:8]
    cluster, service, family = f"prod-{suffix}", f"shop-{suffix}", f"shop-{suffix}"
    values = {
        "EcsCluster": cluster,
        "EcsService": service,
        "EcsTaskFamily": family,
        "EcsTaskRole": f"{family}-task",
        "EcsExecutionRole": f"{family}-execution",
    }
    role = iam.give_role(moto_server.url, _policy_for("ecs", values, sid, action))
    shared = clone_dir.parent / "shared"
    shared.mkdir(exist_ok=True)
    with EcsStandIn() as ecs:
        ecs.state.create_service(cluster, service, _ecs_definition(family, f"{ECS_IMAGE}:1.0"), desired=2)
        if failing:
            ecs.state.outcomes[f"{ECS_IMAGE}:1.1"] = PULL_FAILS
        iam.ecs_policies(ecs)
        env = pipe_env | {
            "COMMAND": "ecs",
            "AWS_OIDC_ROLE_ARN": role,
            "AWS_ENDPOINT_URL_ECS": ecs.url,
            "CLUSTER_NAME": cluster,
            "SERVICE_NAME": service,
            "IMAGES": f"web={ECS_IMAGE}:1.1",
            "TASK_DEFINITION_TAGS": "commit=3f2a9c1",
            "WAIT_INTERVAL": "0.1",
            "BITBUCKET_CLONE_DIR": str(clone_dir),
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
            "DEBUG": "false",
        }
        if failing and action is None:
            with iam.enforced():
                result = run(env)
            line = assert_one_clear_failure(result, "CannotPullContainerError")
            assert "AccessDenied" not in result.output, result.output
            assert ecs.actions("DescribeTasks") and not any(c.error for c in ecs.calls), line
            return
        _run_enforced(run, env, "ecs", sid, action)
        if action is None:
            assert not any(call.error for call in ecs.calls), [(c.action, c.error) for c in ecs.calls]
            assert {"ListTaskDefinitions", "RegisterTaskDefinition", "UpdateService"} <= {
                call.action for call in ecs.calls
            }


# The CDK CLI deploys through the bootstrap roles: the pipe's role may read the bootstrap version and
# assume them, nothing more. Its own region in the session's moto, bootstrapped once by the pipe
# before enforcement (set-up): the roles are the CDK's own bootstrap template's
# (aws-cdk/lib/api/bootstrap/bootstrap-template.yaml of the pinned CLI, image/cdk), with the trust
# policy (the account) and the permissions it gives them, deployed by moto's CloudFormation.
CDK_REGION = "ca-central-1"
CDK_QUALIFIER = "hnb659fds"
CDK_CASES = [(None, None)] + [(s.sid, a) for s in policies.POLICIES["cdk"] for a in s.actions]


class CdkTools(NamedTuple):
    app_modules: Path
    cli_bin: Path
    node_bin: Path


def _cdk_environment(base: dict, clone: Path, tools: CdkTools, server_url: str) -> dict:
    """What test/jobs/cdk gives the job: the pinned CLI and node on PATH, the app in infra/."""
    from urllib.parse import urlparse

    from test.support.cdk import npm_cache

    target = clone / "infra"
    shutil.copytree(npm_cache.SAMPLE_APP, target, ignore=shutil.ignore_patterns("cdk.out", "node_modules"))
    (target / "node_modules").symlink_to(tools.app_modules, target_is_directory=True)
    shared = clone.parent / "shared"
    shared.mkdir(exist_ok=True)
    return base | {
        "COMMAND": "cdk",
        "AWS_DEFAULT_REGION": CDK_REGION,
        "CDK_APP_PATH": "infra",
        "BITBUCKET_CLONE_DIR": str(clone),
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "PATH": f"{tools.cli_bin}:{tools.node_bin}:{base['PATH']}",
        # The CLI builds the template URL it gives CloudFormation from this (its setting for stand-ins).
        "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"http://localhost:{urlparse(server_url).port}",
        "DEBUG": "false",
    }


@pytest.fixture(scope="module")
def cdk_tools(moto_server, tmp_path_factory):
    """The pinned CLI and the sample app's modules (cached), and CDK_REGION bootstrapped by the pipe."""
    from test.support.cdk import moto_fixes, npm_cache

    tools = CdkTools(npm_cache.installed(npm_cache.SAMPLE_APP), npm_cache.cli_bin(), npm_cache.node_bin())
    root = tmp_path_factory.mktemp("cdk-bootstrap")
    (root / "home").mkdir()
    (root / "clone").mkdir()
    base = base_environment(root / "home") | {
        "AWS_ENDPOINT_URL": moto_server.url,
        "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
        "AWS_OIDC_ROLE_ARN": aws.ROLE_ARN,
    }
    env = _cdk_environment(base, root / "clone", tools, moto_server.url) | {"CDK_COMMAND": "bootstrap"}
    with moto_fixes.applied():
        result = run_pipe(env, cwd=root / "clone")
    assert result.returncode == 0, result.output
    return tools


@pytest.mark.parametrize(
    ("sid", "action"),
    CDK_CASES,
    ids=["exact-policy" if a is None else f"without-{a}" for _, a in CDK_CASES],
)
def test_cdk_needs_exactly_its_policy(sid, action, cdk_tools, moto_server, run, pipe_env, clone_dir):
    """A deploy of the sample app: the pipe reads the bootstrap version; the CLI assumes the
    file-publishing role to upload the template (an asset) and the deploy role to deploy it. Without
    sts:AssumeRole the CLI goes on with the pipe's role, and the pipe's line names the action and
    the roles; without ssm:GetParameter (advisory) the pipe warns and the CLI checks."""
    from moto.sts.models import sts_backends

    from test.support.cdk import moto_fixes

    stack = f"Iam{uuid.uuid4().hex[:8]}Stack"
    values = {"CdkQualifier": CDK_QUALIFIER}
    policy = policies.policy_with(policies.statements(["cdk"]), values, aws.ACCOUNT, "aws", CDK_REGION)
    role = iam.give_role(
        moto_server.url, policy if action is None else iam.without_action(policy, sid, action)
    )
    env = _cdk_environment(pipe_env, clone_dir, cdk_tools, moto_server.url) | {
        "AWS_OIDC_ROLE_ARN": role,
        "CDK_COMMAND": "deploy",
        "CDK_CONTEXT": f"stackName={stack}",
    }
    assumed = sts_backends[aws.ACCOUNT]["aws"].assumed_roles
    before = len(assumed)
    results = []
    with moto_fixes.applied():
        _run_enforced(lambda e: results.append(run(e)) or results[-1], env, "cdk", sid, action)
    bootstrap_roles = [
        f"arn:aws:iam::{aws.ACCOUNT}:role/cdk-{CDK_QUALIFIER}-{kind}-role-{aws.ACCOUNT}-{CDK_REGION}"
        for kind in ("file-publishing", "deploy")
    ]
    cloudformation = aws.client("cloudformation", moto_server.url, CDK_REGION)
    found = [s["StackStatus"] for s in cloudformation.describe_stacks()["Stacks"] if s["StackName"] == stack]
    assumed_now = {session.role_arn for session in assumed[before:]}
    if action == "sts:AssumeRole":
        [line] = [line for line in results[0].output.splitlines() if line.startswith("✖")]
        assert bootstrap_roles[0] in line, line
        assert found == [] and not assumed_now & set(bootstrap_roles)
    else:
        assert found == ["CREATE_COMPLETE"]
        assert set(bootstrap_roles) <= assumed_now, assumed_now


OTHER_ACCOUNT = "210987654321"
# (the trust policy's statements, whether IAM admits the pipe's role session to assume the role): an
# account principal admits the account's principals whose own policy allows it (the CDK bootstrap
# roles', with its Null condition on sts:ExternalId); a statement for someone else does not apply.
TRUST_CASES = {
    "account-id": ([{"AWS": aws.ACCOUNT}], True),
    "account-root-arn": ([{"AWS": f"arn:aws:iam::{aws.ACCOUNT}:root"}], True),
    "the-role-itself": ([{"AWS": [f"arn:aws:iam::{OTHER_ACCOUNT}:root", aws.ROLE_ARN]}], True),
    "another-account-too": ([{"AWS": aws.ACCOUNT}, {"AWS": OTHER_ACCOUNT}], True),
    "another-account-only": ([{"AWS": f"arn:aws:iam::{OTHER_ACCOUNT}:root"}], False),
    "a-longer-role-name": ([{"AWS": f"{aws.ROLE_ARN}-and-more"}], False),
    "a-service": ([{"Service": "cloudformation.amazonaws.com"}], False),
    "an-external-id-given": ([{"AWS": aws.ACCOUNT}], False),
}


@pytest.mark.parametrize(("principals", "admitted"), TRUST_CASES.values(), ids=TRUST_CASES.keys())
def test_moto_evaluates_a_trust_policy_as_iam_does(principals, admitted, request, moto_server):
    """The bench's own check (test/support/iam_trust.py): the pipe's role session, whose policy allows
    sts:AssumeRole on the role, assumes it only when the role's trust policy admits it."""
    import boto3

    name = f"trusting-{uuid.uuid4().hex[:8]}"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": principal,
                "Action": "sts:AssumeRole",
                "Condition": {"Null": {"sts:ExternalId": "true"}},
            }
            for principal in principals
        ],
    }
    admin = aws.client("iam", moto_server.url, "us-east-1")
    target = admin.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": target}],
    }
    role = iam.give_role(moto_server.url, allow)
    external = {"ExternalId": "deputy"} if request.node.callspec.id == "an-external-id-given" else {}
    with iam.enforced():
        unsigned = aws.client("sts", moto_server.url)
        keys = unsigned.assume_role_with_web_identity(
            RoleArn=role, RoleSessionName="pipe", WebIdentityToken=make_token()
        )["Credentials"]
        sts = boto3.client(
            "sts",
            endpoint_url=moto_server.url,
            region_name=aws.REGION,
            aws_access_key_id=keys["AccessKeyId"],
            aws_secret_access_key=keys["SecretAccessKey"],
            aws_session_token=keys["SessionToken"],
        )
        try:
            sts.assume_role(RoleArn=target, RoleSessionName="cdk", **external)
            outcome = True
        except sts.exceptions.ClientError as error:
            assert error.response["Error"]["Code"] == "AccessDenied", error.response
            outcome = False
    assert outcome is admitted


def test_enforcement_is_undone_when_the_run_is_over(moto_server):
    """The moto server is the session's: after a run under enforcement, moto is as it was."""
    from moto import settings
    from moto.iam.access_control import IAMRequestBase
    from moto.s3.responses import S3Response

    free_requests = settings.INITIAL_NO_AUTH_ACTION_COUNT
    before = (free_requests, IAMRequestBase.check_signature, dict(vars(S3Response)))
    with iam.enforced():
        now_free = settings.INITIAL_NO_AUTH_ACTION_COUNT
        assert now_free < free_requests
    assert (
        settings.INITIAL_NO_AUTH_ACTION_COUNT,
        IAMRequestBase.check_signature,
        dict(vars(S3Response)),
    ) == before
    assert aws.client("s3", moto_server.url).list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
