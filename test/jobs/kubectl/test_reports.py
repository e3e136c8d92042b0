"""The kubectl job's plan and result reports, end to end on the real control plane: as a process (the
log a user reads, leak-scanned) and in-process (pipe.report.recorded(): paths, lines, severities)."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

import pipe.main
from pipe import report
from pipe.common.errors import PipeError
from test.support import aws, controlplane, leaks
from test.support.checks import assert_one_clear_failure

KUBECTL = str(Path(sys.executable).parent / "kubectl")
PLANTED_BEFORE = "before-Pl4nted-s3cret-value-0001"
PLANTED_AFTER = "after-Pl4nted-s3cret-value-0002"
# The deployment starts on line 3 of its file: a comment and a blank line come first.
DEPLOYMENT = """# the web front
\napiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "IMAGE"}]}
"""
# Service on line 2, Secret on line 8 (after `--- # comment`), ConfigMap on line 13.
OBJECTS = """---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
--- # the secret
# its password
apiVersion: v1
kind: Secret
metadata: {name: web-secret}
stringData: {password: "PASSWORD"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: CONFIG}
data: {A: b}
"""
PRUNE = "apply --prune --selector=team=payments"


def _write(clone_dir, image="nginx:1.27", replicas=2, password=PLANTED_BEFORE, config="old-settings"):
    directory = clone_dir / "k8s"
    directory.mkdir(exist_ok=True)
    (directory / "deployment.yaml").write_text(
        DEPLOYMENT.replace("REPLICAS", str(replicas)).replace("IMAGE", image)
    )
    (directory / "objects.yml").write_text(OBJECTS.replace("PASSWORD", password).replace("CONFIG", config))


@pytest.fixture
def env(pipe_env, clone_dir, eks_cluster):
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant_cluster_admin()
    _write(clone_dir)
    return pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": "prod",
        "KUBECTL_COMMAND": PRUNE,
        "RESOURCE_PATH": "k8s",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "NAMESPACE": eks_cluster.namespace,
        "LABELS_COUNT": "1",
        "LABELS_0": "team=payments",
        "WAIT_TIMEOUT": "60",
    }


def _as_process(env, clone_dir, monkeypatch):
    """This process as the pipe's would be: in the clone, with the run's environment (botocore reads
    AWS_ENDPOINT_URL from it, the job finds the pinned kubectl on its PATH)."""
    monkeypatch.chdir(clone_dir)
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _in_process(env, clone_dir, monkeypatch):
    """The pipe's run in this process: its last line, and what it recorded."""
    _as_process(env, clone_dir, monkeypatch)
    report.forget()
    try:
        return pipe.main.run(env), report.recorded()
    finally:
        report.forget()


def _hits(text: str) -> list[str]:
    planted = [leaks.Secret("planted before", PLANTED_BEFORE), leaks.Secret("planted after", PLANTED_AFTER)]
    return leaks.hits(text.encode(), planted)


def _everything(recorded) -> str:
    return json.dumps(
        [[r.title, r.summary, r.fields, r.items, r.document] for r in recorded],
        ensure_ascii=False,
        default=str,
    )


def test_a_plan_names_each_change_where_its_object_starts_and_masks_the_secret(
    run, env, eks_cluster, clone_dir, monkeypatch, capfd
):
    assert run(env).returncode == 0
    _write(clone_dir, image="nginx:1.28", replicas=3, password=PLANTED_AFTER, config="new-settings")
    before = eks_cluster.object("apps", "v1", "deployments", "web")["metadata"]["resourceVersion"]

    message, recorded = _in_process(env | {"DRY_RUN": "true"}, clone_dir, monkeypatch)

    assert message.endswith("1 created, 2 changed, 1 deleted, 1 unchanged.")
    (plan,) = recorded
    assert (plan.job, plan.phase, plan.outcome) == ("kubectl", "plan", "PENDING")
    items = {item.name.split(" (")[0]: item for item in plan.items}
    namespace = eks_cluster.namespace
    assert items["Deployment web"] == report.Item(
        "changed",
        f"Deployment web (namespace {namespace})",
        "image web: nginx:1.27 → nginx:1.28; replicas 2 → 3",
        "k8s/deployment.yaml",
        3,
        "MEDIUM",
    )
    assert items["Service web"][:1] + items["Service web"][3:6] == ("unchanged", "k8s/objects.yml", 2, "LOW")
    secret = items["Secret web-secret"]
    assert (secret.change, secret.detail, secret.line, secret.severity) == (
        "changed",
        "data.password (value hidden)",
        8,
        "HIGH",
    )
    assert items["ConfigMap new-settings"][:1] + items["ConfigMap new-settings"][3:5] == (
        "added",
        "k8s/objects.yml",
        13,
    )
    removed = items["ConfigMap old-settings"]
    assert (removed.change, removed.path, removed.severity) == ("removed", None, "HIGH")
    printed = capfd.readouterr()
    assert _hits(printed.out + printed.err + _everything(recorded)) == []
    assert eks_cluster.object("apps", "v1", "deployments", "web")["metadata"]["resourceVersion"] == before
    assert eks_cluster.object("", "v1", "configmaps", "new-settings") is None

    # The same plan as kubectl diff, in a process of its own with DEBUG on: the log says it all, and
    # the planted values are nowhere in it.
    result = run(env | {"KUBECTL_COMMAND": "diff --prune --selector=team=payments"})
    assert result.returncode == 0, result.output
    assert "kubectl diff plan (server-side dry run)" in result.last_line
    assert (
        f"changed Deployment web (namespace {namespace}) (image web: nginx:1.27 → nginx:1.28" in result.output
    )
    assert f"removed ConfigMap old-settings (namespace {namespace})" in result.output
    assert _hits(result.output) == []


def test_a_delete_plan_lists_what_would_go(run, env, eks_cluster, clone_dir, monkeypatch):
    assert run(env).returncode == 0
    message, (plan,) = _in_process(
        env | {"KUBECTL_COMMAND": "delete", "DRY_RUN": "true"}, clone_dir, monkeypatch
    )
    assert message.endswith("0 created, 0 changed, 4 deleted, 0 unchanged.")
    assert [(item.change, item.path, item.line, item.severity) for item in plan.items] == [
        ("removed", "k8s/deployment.yaml", 3, "HIGH"),
        ("removed", "k8s/objects.yml", 2, "HIGH"),
        ("removed", "k8s/objects.yml", 8, "HIGH"),
        ("removed", "k8s/objects.yml", 13, "HIGH"),
    ]
    assert eks_cluster.object("apps", "v1", "deployments", "web") is not None


def test_an_apply_records_its_result_with_the_images_running(env, eks_cluster, clone_dir, monkeypatch):
    message, (result,) = _in_process(env | {"KUBECTL_COMMAND": "apply"}, clone_dir, monkeypatch)
    assert "1 rollout(s) finished" in message
    assert (result.phase, result.outcome) == ("result", "PASSED")
    assert result.summary.endswith("1 rollout(s) finished. Running: nginx:1.27.")
    assert result.document["images"] == [
        {"workload": "Deployment/web", "container": "web", "image": "nginx:1.27"}
    ]
    assert result.document["rollouts"] == ["deployment/web"]
    deployment = result.items[0]
    assert (deployment.change, deployment.detail, deployment.path, deployment.line) == (
        "done",
        "running web=nginx:1.27",
        "k8s/deployment.yaml",
        3,
    )
    assert {item.change for item in result.items} == {"done"}
    assert _hits(_everything([result])) == []
    assert eks_cluster.object("apps", "v1", "deployments", "web")["status"]["readyReplicas"] == 2


def test_a_rollout_that_does_not_finish_records_a_failed_result(env, eks_cluster, clone_dir, monkeypatch):
    (clone_dir / "k8s" / "deployment.yaml").write_text(
        DEPLOYMENT.replace("REPLICAS", "1")
        .replace("IMAGE", "nginx:1.29")
        .replace("    spec: {containers", "    spec: {nodeSelector: {pool: none}, containers")
    )
    env = env | {"KUBECTL_COMMAND": "apply", "WAIT_TIMEOUT": "3"}
    _as_process(env, clone_dir, monkeypatch)
    report.forget()
    with pytest.raises(PipeError, match="did not finish within WAIT_TIMEOUT"):
        pipe.main.run(env)
    (result,) = report.recorded()
    report.forget()
    assert (result.phase, result.outcome) == ("result", "FAILED")
    assert result.summary.startswith("The rollout of deployment/web")
    assert (result.items[0].change, result.items[0].severity) == ("failed", "HIGH")
    assert result.document["rollouts"] == []


def test_a_plan_refuses_files_named_beside_resource_path(run, env):
    result = run(env | {"KUBECTL_COMMAND": "diff -f k8s"})
    assert_one_clear_failure(result, "KUBECTL_COMMAND names files for a plan (kubectl diff)")


def test_a_kustomization_plan_points_at_its_directory(env, clone_dir, monkeypatch):
    (clone_dir / "k8s" / "kustomization.yaml").write_text("resources: [deployment.yaml]\nnamePrefix: blue-\n")
    changes = {"KUBECTL_COMMAND": "diff", "KUBECTL_APPLY_ARGS": "-k"}
    message, (plan,) = _in_process(env | changes, clone_dir, monkeypatch)
    assert message.endswith("1 created, 0 changed, 0 deleted, 0 unchanged.")
    assert [(item.change, item.path, item.line) for item in plan.items] == [("added", "k8s", None)]


def test_a_plan_of_two_thousand_changed_objects(run, env, eks_cluster, clone_dir):
    count = 2000
    items = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{n}"}, "data": {"n": "0"}}
        for n in range(count)
    ]
    # Made by the cluster admin in one server-side apply (a client-side apply of 2,000 takes minutes).
    admin = eks_cluster.plane.files.path("admin.kubeconfig")
    made = subprocess.run(
        [KUBECTL, "apply", "--server-side", "-n", eks_cluster.namespace, "-f", "-"],
        input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}).encode(),
        env={"KUBECONFIG": str(admin), "HOME": str(clone_dir.parent), "KUBERC": "off"},
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    for name in ("deployment.yaml", "objects.yml"):
        (clone_dir / "k8s" / name).unlink()
    changed = [item | {"data": {"n": "1"}} for item in items]
    (clone_dir / "k8s" / "many.json").write_text(json.dumps({"kind": "List", "items": changed}))

    started = time.monotonic()
    result = run(env | {"KUBECTL_COMMAND": "diff"})
    seconds = time.monotonic() - started

    assert result.returncode == 0, result.output[-3000:]
    assert result.last_line.endswith(f"0 created, {count} changed, 0 deleted, 0 unchanged.")
    assert f"… and {count - report.LOGGED_ITEMS} more" in result.output
    controlplane.FIGURES.append(
        f"kubectl job, plan of {count} changed ConfigMaps, whole run: {seconds:.1f} s"
    )


def test_a_plan_the_cluster_refuses_is_recorded_failed(env, clone_dir, monkeypatch):
    _write(clone_dir, replicas=-1)  # the API server's validation refuses it, in a dry run too
    env = env | {"KUBECTL_COMMAND": "diff"}
    _as_process(env, clone_dir, monkeypatch)
    report.forget()
    with pytest.raises(PipeError, match="kubectl apply for the plan failed"):
        pipe.main.run(env)
    (plan,) = report.recorded()
    report.forget()
    assert (plan.phase, plan.outcome) == ("plan", "FAILED")
