"""End to end: COMMAND=kubectl as a process, the real pinned kubectl, moto's EKS and the Kubernetes stand-in."""

import datetime
import re

import pytest

from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.kube import KubeStandIn, register_cluster, unregister_cluster

CLUSTER = "prod"
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: IMAGE
        ports: [{containerPort: 8080}]
"""
SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""
CONFIG_MAP = """
apiVersion: v1
kind: ConfigMap
metadata: {name: web-settings}
data: {GREETING: hello}
"""


@pytest.fixture
def cluster(moto_server):
    with KubeStandIn(CLUSTER, rollout_delay_seconds=0.5) as standin:
        register_cluster(CLUSTER, aws.REGION, standin)
        standin.allow(aws.ROLE_ARN)
        yield standin
        unregister_cluster(CLUSTER, aws.REGION)


def write_manifests(clone_dir, image="nginx:1.27"):
    directory = clone_dir / "k8s"
    (directory / "app").mkdir(parents=True, exist_ok=True)
    (directory / "app" / "deployment.yaml").write_text(DEPLOYMENT.replace("IMAGE", image))
    (directory / "service.yml").write_text(SERVICE + "---\n" + CONFIG_MAP)
    return directory


@pytest.fixture
def kube_env(pipe_env, clone_dir):
    write_manifests(clone_dir)
    return pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": CLUSTER,
        "KUBECTL_COMMAND": "apply",
        "RESOURCE_PATH": "k8s",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_COMMIT": "4f2c1a9d0b8e",
        "BITBUCKET_REPO_OWNER": "sample-workspace",
        "BITBUCKET_DEPLOYMENT_ENVIRONMENT": "production",
        "BITBUCKET_STEP_TRIGGERER_UUID": "{5b1c7d2e-0000-4000-8000-000000000001}",
        "LABELS_COUNT": "1",
        "LABELS_0": "team=payments",
        "WAIT_TIMEOUT": "60",
    }


def test_apply_a_directory_labels_the_objects_and_waits_for_the_rollout(run, kube_env, cluster):
    result = run(kube_env)
    assert result.returncode == 0, result.output
    deployment = cluster.object("apps", "v1", "deployments", "default", "web")
    assert deployment is not None
    labels = deployment["metadata"]["labels"]
    assert labels["app"] == "web" and labels["team"] == "payments"
    assert labels["bitbucket.org/bitbucket_commit"] == "4f2c1a9d0b8e"
    assert labels["bitbucket.org/bitbucket_repo_slug"] == "my-repo"
    assert labels["bitbucket.org/bitbucket_build_number"] == "42"
    assert labels["bitbucket.org/bitbucket_step_triggerer_uuid"] == "5b1c7d2e-0000-4000-8000-000000000001"
    for resource, name in (("services", "web"), ("configmaps", "web-settings")):
        stored = cluster.object("", "v1", resource, "default", name)
        assert stored is not None and stored["metadata"]["labels"]["team"] == "payments"
    assert "successfully rolled out" in result.output
    assert "Kubernetes user 'deployer'" in result.output
    assert result.last_line.startswith(
        "✔ kubectl apply: 3 object(s) applied to EKS cluster prod; 1 rollout(s) finished"
    )


def test_never_ready_deployment_fails_after_wait_timeout(run, kube_env, cluster, clone_dir):
    write_manifests(clone_dir, image="broken:never")
    cluster.never_ready_images.add("broken:never")
    result = run(kube_env | {"WAIT_TIMEOUT": "3"})
    line = assert_one_clear_failure(
        result, "The rollout of deployment/web in namespace default did not finish"
    )
    assert "WAIT_TIMEOUT (3 s in all)" in line
    assert re.search(r"timed out|exceeded", result.output)


def test_tokens_are_renewed_during_a_rollout_longer_than_their_lifetime(run, kube_env, cluster):
    lifetime = 3
    cluster.token_lifetime_seconds = lifetime
    cluster.rollout_delay_seconds = 8
    # As an API server ends watches after its request timeout: kubectl must then come back, with a
    # token newer than the first one.
    cluster.max_watch_seconds = 2
    result = run(kube_env)
    assert result.returncode == 0, result.output
    signed = sorted(
        datetime.datetime.strptime(seen["signed_at"], "%Y%m%dT%H%M%SZ")
        for seen in cluster.tokens_seen
        if seen["accepted"]
    )
    # A token signed after the first one had expired was accepted: the exec plugin made a new one.
    assert signed[-1] - signed[0] > datetime.timedelta(seconds=lifetime), cluster.tokens_seen


def test_unmapped_role_gets_the_access_entry_commands(run, kube_env, cluster):
    cluster.revoke(aws.ROLE_ARN)
    result = run(kube_env)
    assert_one_clear_failure(result, f"EKS cluster 'prod' does not know role {aws.ROLE_ARN}")
    assert (
        f"aws eks create-access-entry --region {aws.REGION} --cluster-name prod --principal-arn {aws.ROLE_ARN}"
        in result.output
    )
    assert "aws eks associate-access-policy" in result.output
    assert cluster.object("apps", "v1", "deployments", "default", "web") is None


def test_role_without_create_deployments_is_told_the_verb_and_resource(run, kube_env, cluster):
    everything_but_deployments = {
        (verb, group, resource)
        for verb in ("get", "list", "watch", "create", "patch", "update")
        for group, resource in (("", "services"), ("", "configmaps"))
    } | {("get", "apps", "deployments")}
    cluster.allow(aws.ROLE_ARN, verbs=everything_but_deployments)
    result = run(kube_env)
    line = assert_one_clear_failure(result, "The cluster would refuse this apply")
    assert "create deployments.apps in namespace default" in line
    assert cluster.object("", "v1", "services", "default", "web") is None


def test_any_kubectl_command_line_runs_with_its_exit_status(run, kube_env, cluster):
    assert run(kube_env).returncode == 0
    result = run(kube_env | {"KUBECTL_COMMAND": "get deployment web -o name", "RESOURCE_PATH": ""})
    assert result.returncode == 0, result.output
    assert "deployment.apps/web" in result.stdout
    missing = run(kube_env | {"KUBECTL_COMMAND": "get deployment nothing-here", "RESOURCE_PATH": ""})
    assert missing.returncode == 1
    assert "NotFound" in missing.output or "not found" in missing.output


def test_dry_run_changes_nothing(run, kube_env, cluster):
    result = run(kube_env | {"DRY_RUN": "true"})
    assert result.returncode == 0, result.output
    assert "server-side dry run" in result.last_line
    assert cluster.object("apps", "v1", "deployments", "default", "web") is None


def test_no_credential_reaches_the_clone_or_the_debug_output(run, kube_env, cluster, clone_dir):
    before = sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*"))
    result = run(kube_env | {"DEBUG": "true"})
    assert result.returncode == 0, result.output
    assert sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*")) == before
    assert "k8s-aws-v1." not in result.output
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == "bitbucket-my-repo-42"]
    assert_no_secret(
        result.output,
        kube_env["BITBUCKET_STEP_OIDC_TOKEN"],
        issued[-1].secret_access_key,
        issued[-1].session_token,
    )


def test_unknown_cluster_lists_the_regions_clusters(run, kube_env, cluster):
    result = run(kube_env | {"CLUSTER_NAME": "staging"})
    line = assert_one_clear_failure(result, "EKS cluster 'staging' was not found in eu-west-1.")
    assert "prod" in line


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"KUBECTL_COMMAND": "get pods; rm -rf /"},
            "KUBECTL_COMMAND must be a kubectl command line without shell syntax",
        ),
        ({"KUBECTL_COMMAND": "get pods $(id)"}, "without shell syntax"),
        ({"KUBECTL_COMMAND": "--help"}, "must start with a kubectl command"),
        ({"RESOURCE_PATH": "../../etc"}, "RESOURCE_PATH must be inside the repository"),
        ({"RESOURCE_PATH": "nowhere"}, "RESOURCE_PATH 'nowhere' does not exist"),
        ({"RESOURCE_PATH": ""}, "RESOURCE_PATH is required for KUBECTL_COMMAND apply"),
        ({"CLUSTER_NAME": "bad name"}, "CLUSTER_NAME must be an EKS cluster name"),
        ({"LABELS_0": "team"}, "LABELS must be a list of key=value items"),
        ({"KUBECTL_APPLY_ARGS": "--prune"}, "KUBECTL_APPLY_ARGS must end with -f or -k"),
        ({"WAIT_TIMEOUT": "0"}, "WAIT_TIMEOUT must be a whole number of seconds from 1 to 86400"),
        ({"NAMESPACE": "Prod_1"}, "NAMESPACE must be a Kubernetes namespace name"),
    ],
)
def test_bad_kubectl_input_gives_one_clear_line(run, kube_env, changes, expected):
    assert_one_clear_failure(run(kube_env | changes), expected)


def test_an_api_version_the_cluster_does_not_serve_is_named(run, kube_env, cluster, clone_dir):
    (clone_dir / "k8s" / "widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    )
    result = run(kube_env)
    assert_one_clear_failure(result, "The cluster does not serve apiVersion example.com/v1")


def test_apply_with_flags_still_uses_resource_path_labels_and_wait(run, kube_env, cluster):
    result = run(kube_env | {"KUBECTL_COMMAND": "apply --server-side --force-conflicts"})
    assert result.returncode == 0, result.output
    deployment = cluster.object("apps", "v1", "deployments", "default", "web")
    assert deployment["metadata"]["labels"]["team"] == "payments"
    assert "1 rollout(s) finished" in result.last_line
    applies = [r for r in cluster.requests if r["content_type"] == "application/apply-patch+yaml"]
    assert applies


def test_delete_removes_what_resource_path_defines(run, kube_env, cluster):
    assert run(kube_env).returncode == 0
    result = run(kube_env | {"KUBECTL_COMMAND": "delete"})
    assert result.returncode == 0, result.output
    assert cluster.object("apps", "v1", "deployments", "default", "web") is None
    assert cluster.object("", "v1", "configmaps", "default", "web-settings") is None


def test_a_refused_command_names_the_verb_and_resource(run, kube_env, cluster):
    cluster.allow(aws.ROLE_ARN, verbs={("get", "apps", "deployments")})
    result = run(kube_env | {"KUBECTL_COMMAND": "get configmaps", "RESOURCE_PATH": ""})
    line = assert_one_clear_failure(result, "kubectl get failed (exit status 1).")
    assert "Kubernetes refused user 'deployer' to list configmaps" in line


def test_a_cluster_that_is_not_active_is_one_line(run, kube_env, cluster):
    from moto.eks.models import eks_backends

    eks_backends[aws.ACCOUNT][aws.REGION].clusters[CLUSTER].status = "UPDATING"
    try:
        result = run(kube_env)
    finally:
        eks_backends[aws.ACCOUNT][aws.REGION].clusters[CLUSTER].status = "ACTIVE"
    assert_one_clear_failure(result, "EKS cluster 'prod' is UPDATING, not ACTIVE")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["apply"], True),
        (["apply", "--server-side"], True),
        (["apply", "-f", "x.yaml"], False),
        (["apply", "--filename=x.yaml"], False),
        (["delete"], True),
        (["delete", "deployment", "web"], False),
        (["get", "pods"], False),
    ],
)
def test_which_commands_take_resource_path(command, expected):
    from pipe.jobs.kubectl.job import uses_resource_path

    assert uses_resource_path(command) is expected


def test_kustomize_is_rendered_labelled_and_applied(run, kube_env, cluster, clone_dir):
    (clone_dir / "k8s" / "kustomization.yaml").write_text(
        "resources: [app/deployment.yaml]\nnamePrefix: blue-\n"
    )
    result = run(kube_env | {"KUBECTL_APPLY_ARGS": "--kustomize"})
    assert result.returncode == 0, result.output
    deployment = cluster.object("apps", "v1", "deployments", "default", "blue-web")
    assert deployment is not None and deployment["metadata"]["labels"]["team"] == "payments"
    assert cluster.object("", "v1", "services", "default", "web") is None


def test_with_default_labels_false_adds_only_the_users_labels(run, kube_env, cluster):
    result = run(kube_env | {"WITH_DEFAULT_LABELS": "false"})
    assert result.returncode == 0, result.output
    for group, version, resource, name in (
        ("apps", "v1", "deployments", "web"),
        ("", "v1", "services", "web"),
        ("", "v1", "configmaps", "web-settings"),
    ):
        stored = cluster.object(group, version, resource, "default", name)
        assert stored is not None
        # The manifest's own labels and LABELS stay; not one bitbucket.org/ default is added.
        added = {key for key in stored["metadata"].get("labels", {}) if key.startswith("bitbucket.org/")}
        assert added == set(), (resource, stored["metadata"]["labels"])
        assert stored["metadata"]["labels"]["team"] == "payments"
