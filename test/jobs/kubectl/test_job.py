"""End to end: COMMAND=kubectl as a process, the real pinned kubectl, moto's EKS, and a real
Kubernetes control plane (kube-apiserver, controllers, scheduler, etcd; kwok plays the nodes) whose
tokens are checked by the EKS-shaped TokenReview webhook (test/support/controlplane)."""

import datetime
import re

import pytest
import yaml

from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.controlplane.cutoff import ConnectionCutoff

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
        image: nginx:1.27
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
def cluster(eks_cluster):
    """The deploy role mapped to user 'deployer', with AmazonEKSClusterAdminPolicy's rights."""
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant_cluster_admin()
    return eks_cluster


def write_manifests(clone_dir, deployment=DEPLOYMENT):
    directory = clone_dir / "k8s"
    (directory / "app").mkdir(parents=True, exist_ok=True)
    (directory / "app" / "deployment.yaml").write_text(deployment)
    (directory / "service.yml").write_text(SERVICE + "---\n" + CONFIG_MAP)
    return directory


@pytest.fixture
def kube_env(pipe_env, clone_dir):
    write_manifests(clone_dir)
    return pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": "prod",
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


@pytest.fixture
def env(kube_env, eks_cluster):
    """kube_env in this test's own namespace of the shared control plane."""
    return kube_env | {"NAMESPACE": eks_cluster.namespace}


def test_apply_a_directory_labels_the_objects_and_the_controllers_roll_it_out(run, env, cluster):
    result = run(env)
    assert result.returncode == 0, result.output
    deployment = cluster.object("apps", "v1", "deployments", "web")
    labels = deployment["metadata"]["labels"]
    assert labels["app"] == "web" and labels["team"] == "payments"
    assert labels["bitbucket.org/bitbucket_commit"] == "4f2c1a9d0b8e"
    assert labels["bitbucket.org/bitbucket_repo_slug"] == "my-repo"
    assert labels["bitbucket.org/bitbucket_build_number"] == "42"
    assert labels["bitbucket.org/bitbucket_step_triggerer_uuid"] == "5b1c7d2e-0000-4000-8000-000000000001"
    for resource, name in (("services", "web"), ("configmaps", "web-settings")):
        assert cluster.object("", "v1", resource, name)["metadata"]["labels"]["team"] == "payments"
    # The real deployment and replica-set controllers made the pods; the scheduler put them on the
    # kwok node, which reported them Running and Ready.
    assert deployment["status"]["readyReplicas"] == 2 and deployment["status"]["updatedReplicas"] == 2
    pods = cluster.list("", "v1", "pods")
    assert len(pods) == 2 and {pod["spec"]["nodeName"] for pod in pods} == {"kwok-node-0"}
    assert 'deployment "web" successfully rolled out' in result.output
    assert "Kubernetes user 'deployer'" in result.output
    assert result.last_line.startswith(
        "✔ kubectl apply: 3 object(s) applied to EKS cluster prod; 1 rollout(s) finished"
    )


def test_a_rollout_that_never_gets_ready_fails_after_wait_timeout(run, env, cluster, clone_dir):
    # No node has this label: the scheduler leaves the pods Pending, the rollout never finishes.
    unschedulable = DEPLOYMENT.replace(
        "      containers:", "      nodeSelector: {pool: none}\n      containers:"
    )
    write_manifests(clone_dir, unschedulable)
    result = run(env | {"WAIT_TIMEOUT": "3"})
    line = assert_one_clear_failure(
        result, f"The rollout of deployment/web in namespace {cluster.namespace} did not finish"
    )
    assert "WAIT_TIMEOUT (3 s in all)" in line
    assert "timed out waiting for the condition" in result.output
    assert cluster.object("apps", "v1", "deployments", "web")["status"].get("readyReplicas") is None


def test_tokens_are_renewed_during_a_rollout_longer_than_their_lifetime(run, env, cluster, clone_dir):
    # Short enough that every token kubectl holds expires during the rollout; long enough for the
    # pipe to use a token it has just made on a busy machine.
    lifetime = 6
    cluster.webhook.token_lifetime_seconds = lifetime
    # kube-apiserver keeps a successful token review for 10 s (its TokenSuccessCacheTTL, no flag):
    # the rollout must outlast that well. Pods count as available 20 s after they are Ready.
    write_manifests(clone_dir, DEPLOYMENT.replace("  replicas: 2", "  replicas: 2\n  minReadySeconds: 20"))
    # Connections end after 2 s, as behind a load balancer: kubectl's watch comes back, and the API
    # server asks the webhook about its token again.
    with ConnectionCutoff(cluster.plane.port, max_seconds=2) as cutoff:
        cluster.register(endpoint=cutoff.url)
        result = run(env)
    assert result.returncode == 0, result.output
    assert cutoff.cut > 0
    expired = [seen for seen in cluster.tokens_seen if "expired" in seen["reason"]]
    # The API server asked again about a token after it had expired, and refused it.
    assert expired, cluster.tokens_seen
    signed = sorted(
        datetime.datetime.strptime(seen["signed_at"], "%Y%m%dT%H%M%SZ")
        for seen in cluster.tokens_seen
        if seen["accepted"]
    )
    # A token signed after the first one had expired was accepted: the exec plugin made a new one.
    assert signed[-1] - signed[0] > datetime.timedelta(seconds=lifetime), cluster.tokens_seen


def test_unmapped_role_gets_the_access_entry_commands(run, env, cluster):
    cluster.revoke(aws.ROLE_ARN)
    result = run(env)
    assert_one_clear_failure(result, f"EKS cluster 'prod' does not know role {aws.ROLE_ARN}")
    assert (
        f"aws eks create-access-entry --region {aws.REGION} --cluster-name prod --principal-arn {aws.ROLE_ARN}"
        in result.output
    )
    assert "aws eks associate-access-policy" in result.output
    assert [seen["reason"] for seen in cluster.tokens_seen][-1].startswith("no access entry for")
    assert cluster.object("apps", "v1", "deployments", "web") is None


def test_role_without_create_deployments_is_told_the_verb_and_resource(run, env, eks_cluster):
    eks_cluster.allow(aws.ROLE_ARN)
    every_verb = ["get", "list", "watch", "create", "patch", "update"]
    eks_cluster.grant(
        "deployer",
        [
            {"apiGroups": [""], "resources": ["services", "configmaps"], "verbs": every_verb},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]},
        ],
    )
    result = run(env)
    line = assert_one_clear_failure(result, "The cluster would refuse this apply")
    assert f"create deployments.apps in namespace {eks_cluster.namespace}" in line
    assert "services" not in line
    assert eks_cluster.object("", "v1", "services", "web") is None


def test_a_namespace_edit_policy_is_refused_cluster_scoped_kinds(run, env, eks_cluster, clone_dir):
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant_edit()  # AmazonEKSEditPolicy scoped to the test's namespace
    (clone_dir / "k8s" / "namespace.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: another-team}\n"
    )
    result = run(env)
    line = assert_one_clear_failure(result, "The cluster would refuse this apply")
    assert "create namespaces (cluster-wide)" in line
    assert "deployments" not in line
    assert eks_cluster.object("", "v1", "namespaces", "another-team", namespace=None) is None


def test_any_kubectl_command_line_runs_with_its_exit_status(run, env, cluster):
    assert run(env).returncode == 0
    result = run(env | {"KUBECTL_COMMAND": "get deployment web -o name", "RESOURCE_PATH": ""})
    assert result.returncode == 0, result.output
    assert "deployment.apps/web" in result.stdout
    missing = run(env | {"KUBECTL_COMMAND": "get deployment nothing-here", "RESOURCE_PATH": ""})
    assert missing.returncode == 1
    assert 'deployments.apps "nothing-here" not found' in missing.output


def test_dry_run_changes_nothing(run, env, cluster):
    result = run(env | {"DRY_RUN": "true"})
    assert result.returncode == 0, result.output
    assert "server-side dry run" in result.last_line
    assert "3 created, 0 changed, 0 deleted, 0 unchanged" in result.last_line
    assert cluster.object("apps", "v1", "deployments", "web") is None


def _state(cluster) -> tuple:
    """What a change to the applied objects would move: their resource versions, and the config maps."""
    deployment = cluster.object("apps", "v1", "deployments", "web")
    config_maps = sorted(item["metadata"]["name"] for item in cluster.list("", "v1", "configmaps"))
    return deployment["metadata"]["resourceVersion"], deployment["spec"]["replicas"], config_maps


# Every kind of change a KUBECTL_COMMAND can make (command_rules.DRY_RUNNABLE), on what `apply` made.
DRY_RUN_CHANGES = {
    "delete": {"KUBECTL_COMMAND": "delete"},
    "delete-named": {"KUBECTL_COMMAND": "delete deployment web", "RESOURCE_PATH": ""},
    "scale": {"KUBECTL_COMMAND": "scale deployment web --replicas=5", "RESOURCE_PATH": ""},
    "label": {"KUBECTL_COMMAND": "label deployment web tier=front", "RESOURCE_PATH": ""},
    "annotate": {"KUBECTL_COMMAND": "annotate deployment web note=x", "RESOURCE_PATH": ""},
    "patch": {
        "KUBECTL_COMMAND": """patch deployment web -p '{"spec":{"replicas":3}}'""",
        "RESOURCE_PATH": "",
    },
    "set-image": {"KUBECTL_COMMAND": "set image deployment/web web=nginx:1.28", "RESOURCE_PATH": ""},
    "create": {"KUBECTL_COMMAND": "create configmap extra --from-literal=a=b", "RESOURCE_PATH": ""},
    "apply-again": {"KUBECTL_COMMAND": "apply", "LABELS_0": "team=checkout"},
}


@pytest.mark.parametrize("change", DRY_RUN_CHANGES.values(), ids=DRY_RUN_CHANGES.keys())
def test_dry_run_of_any_change_changes_nothing_and_says_so(run, env, cluster, change):
    assert run(env).returncode == 0
    before = _state(cluster)
    result = run(env | change | {"DRY_RUN": "true"})
    assert result.returncode == 0, result.output
    assert "(server-side dry run)" in result.last_line, result.last_line
    assert _state(cluster) == before


def test_dry_run_refuses_a_change_kubectl_cannot_dry_run(run, env, cluster):
    assert run(env).returncode == 0
    before = cluster.object("apps", "v1", "deployments", "web")["spec"]["template"]["metadata"]
    result = run(
        env | {"KUBECTL_COMMAND": "rollout restart deployment/web", "RESOURCE_PATH": "", "DRY_RUN": "true"}
    )
    assert_one_clear_failure(
        result, "DRY_RUN is true, but kubectl rollout restart has no server-side dry run"
    )
    assert cluster.object("apps", "v1", "deployments", "web")["spec"]["template"]["metadata"] == before


def test_dry_run_leaves_a_command_that_only_reads_as_it_is(run, env, cluster):
    assert run(env).returncode == 0
    result = run(
        env | {"KUBECTL_COMMAND": "get deployment web -o name", "RESOURCE_PATH": "", "DRY_RUN": "true"}
    )
    assert result.returncode == 0, result.output
    assert "deployment.apps/web" in result.stdout and "dry run" not in result.last_line


def test_no_credential_reaches_the_clone_or_the_debug_output(run, env, cluster, clone_dir):
    before = sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*"))
    result = run(env | {"DEBUG": "true"})
    assert result.returncode == 0, result.output
    assert sorted(p.relative_to(clone_dir) for p in clone_dir.rglob("*")) == before
    assert "k8s-aws-v1." not in result.output
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == "bitbucket-my-repo-42"]
    assert_no_secret(
        result.output,
        env["BITBUCKET_STEP_OIDC_TOKEN"],
        issued[-1].secret_access_key,
        issued[-1].session_token,
    )


def test_unknown_cluster_lists_the_regions_clusters(run, env, cluster):
    result = run(env | {"CLUSTER_NAME": "staging"})
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
        ({"RESOURCE_PATH": "../../etc"}, "RESOURCE_PATH '../../etc' leads outside the clone directory"),
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


def test_an_api_version_the_cluster_does_not_serve_is_named(run, env, cluster, clone_dir):
    (clone_dir / "k8s" / "widget.yaml").write_text(
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n"
    )
    result = run(env)
    assert_one_clear_failure(result, "The cluster does not serve apiVersion example.com/v1")


def test_server_side_apply_leaves_kubectl_as_the_field_manager(run, env, cluster):
    result = run(env | {"KUBECTL_COMMAND": "apply --server-side --force-conflicts"})
    assert result.returncode == 0, result.output
    deployment = cluster.object("apps", "v1", "deployments", "web")
    assert deployment["metadata"]["labels"]["team"] == "payments"
    assert "1 rollout(s) finished" in result.last_line
    managers = {(entry["manager"], entry["operation"]) for entry in deployment["metadata"]["managedFields"]}
    assert ("kubectl", "Apply") in managers, managers


def test_server_side_apply_conflicts_are_the_servers(run, env, cluster):
    assert run(env | {"KUBECTL_COMMAND": "apply --server-side"}).returncode == 0
    # Another manager (an autoscaler, say) takes .spec.replicas over.
    path = f"/apis/apps/v1/namespaces/{cluster.namespace}/deployments/web?fieldManager=autoscaler&force=true"
    owned = b'{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}}'
    response = cluster.plane.request("PATCH", path, owned, content_type="application/apply-patch+yaml")
    assert response.status == 200, response.data
    result = run(env | {"KUBECTL_COMMAND": "apply --server-side"})
    assert_one_clear_failure(result, "kubectl apply failed (exit status 1).")
    assert 'conflict with "autoscaler"' in result.output and ".spec.replicas" in result.output
    assert cluster.object("apps", "v1", "deployments", "web")["spec"]["replicas"] == 3
    forced = run(env | {"KUBECTL_COMMAND": "apply --server-side --force-conflicts"})
    assert forced.returncode == 0, forced.output
    assert cluster.object("apps", "v1", "deployments", "web")["spec"]["replicas"] == 2


def test_delete_removes_what_resource_path_defines(run, env, cluster):
    assert run(env).returncode == 0
    result = run(env | {"KUBECTL_COMMAND": "delete"})
    assert result.returncode == 0, result.output
    assert cluster.object("", "v1", "configmaps", "web-settings") is None
    deployment = cluster.object("apps", "v1", "deployments", "web")
    # Background deletion: the object may still be there, only until the garbage collector is done.
    assert deployment is None or deployment["metadata"].get("deletionTimestamp")


def test_a_refused_command_names_the_verb_and_resource(run, env, eks_cluster):
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant("deployer", [{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get"]}])
    result = run(env | {"KUBECTL_COMMAND": "get configmaps", "RESOURCE_PATH": ""})
    line = assert_one_clear_failure(result, "kubectl get failed (exit status 1).")
    assert "Kubernetes refused user 'deployer' to list configmaps" in line
    assert re.search(r'User "deployer" cannot list resource "configmaps"', result.output)


def test_a_cluster_that_is_not_active_is_one_line(run, env, cluster):
    from moto.eks.models import eks_backends

    eks_backends[aws.ACCOUNT][aws.REGION].clusters["prod"].status = "UPDATING"
    result = run(env)
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
    from pipe.jobs.kubectl.settings import uses_resource_path

    assert uses_resource_path(command) is expected


def test_kustomize_is_rendered_labelled_and_applied(run, env, cluster, clone_dir):
    (clone_dir / "k8s" / "kustomization.yaml").write_text(
        "resources: [app/deployment.yaml]\nnamePrefix: blue-\n"
    )
    result = run(env | {"KUBECTL_APPLY_ARGS": "--kustomize"})
    assert result.returncode == 0, result.output
    deployment = cluster.object("apps", "v1", "deployments", "blue-web")
    assert deployment["metadata"]["labels"]["team"] == "payments"
    assert deployment["status"]["readyReplicas"] == 2
    assert cluster.object("", "v1", "services", "web") is None


def test_a_kustomization_kubectl_refuses_fails_with_its_message_framed_above_and_no_secret(
    run, env, cluster, clone_dir
):
    """kubectl quotes an unknown field back: here the step's OIDC token, which the run must mask."""
    token = env["BITBUCKET_STEP_OIDC_TOKEN"]
    kustomization = {"resources": ["app/deployment.yaml"], token: 1}  # a key this long is written `? key`
    (clone_dir / "k8s" / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, width=1 << 16))
    result = run(env | {"KUBECTL_APPLY_ARGS": "--kustomize"})
    assert_one_clear_failure(result, "✖ kubectl kustomize k8s failed (exit status 1): see its message above.")
    assert_no_secret(result.output, token)
    said = [line for line in result.output.splitlines() if "unknown field" in line]
    assert said and all(line.startswith("│ ") and "****" in line for line in said), result.output
    assert cluster.object("apps", "v1", "deployments", "web") is None


def test_with_default_labels_false_adds_only_the_users_labels(run, env, cluster):
    result = run(env | {"WITH_DEFAULT_LABELS": "false"})
    assert result.returncode == 0, result.output
    for group, version, resource, name in (
        ("apps", "v1", "deployments", "web"),
        ("", "v1", "services", "web"),
        ("", "v1", "configmaps", "web-settings"),
    ):
        stored = cluster.object(group, version, resource, name)
        assert stored is not None
        # The manifest's own labels and LABELS stay; not one bitbucket.org/ default is added.
        added = {key for key in stored["metadata"].get("labels", {}) if key.startswith("bitbucket.org/")}
        assert added == set(), (resource, stored["metadata"]["labels"])
        assert stored["metadata"]["labels"]["team"] == "payments"


def test_a_kuberc_cannot_add_options_the_allow_list_would_refuse(run, env, cluster, clone_dir):
    """kubectl reads default options from a kuberc file (KUBERC): the pipe turns it off, so that what
    kubectl is told is only what the allow-list let through."""
    (clone_dir / "kuberc.yaml").write_text(
        "apiVersion: kubectl.config.k8s.io/v1beta1\nkind: Preference\n"
        "defaults:\n- command: get\n  options:\n  - name: output\n    default: json\n"
    )
    assert run(env).returncode == 0
    changes = {
        "KUBECTL_COMMAND": "get deployment web",
        "RESOURCE_PATH": "",
        "KUBERC": str(clone_dir / "kuberc.yaml"),
    }
    result = run(env | changes)
    assert result.returncode == 0, result.output
    assert '"apiVersion"' not in result.stdout and "web" in result.stdout
