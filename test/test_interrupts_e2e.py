"""A deploy killed half way (the step's container killed: every process at once), then run again:
the rerun converges, with nothing lost and nothing made twice. s3-sync's own is in
test/jobs/test_s3_sync.py (test_a_killed_sync_converges_when_run_again)."""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from test.support import aws, leaks
from test.support.kube import KubeStandIn, register_cluster, unregister_cluster
from test.support.kube.resources import by_path

CLUSTER = "interrupted"
MANIFESTS = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.27"}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-settings}
data: {GREETING: hello}
"""
# Long enough that the pipe is surely inside its rollout wait when it is killed.
ROLLOUT_SECONDS = 6
STARTUP_LIMIT_SECONDS = 60


def _watching_rollout(cluster) -> bool:
    return any(
        entry["query"].get("watch") in ("true", "1") and entry["path"].endswith("/deployments")
        for entry in list(cluster.requests)
    )


def test_kubectl_apply_killed_during_its_rollout_wait_converges_when_run_again(run, pipe_env, clone_dir):
    (clone_dir / "k8s").mkdir()
    (clone_dir / "k8s" / "app.yaml").write_text(MANIFESTS)
    env = pipe_env | {
        "COMMAND": "kubectl",
        "CLUSTER_NAME": CLUSTER,
        "KUBECTL_COMMAND": "apply",
        "RESOURCE_PATH": "k8s",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "LABELS": "team=payments",
        "WAIT_TIMEOUT": "60",
    }
    with KubeStandIn(CLUSTER, rollout_delay_seconds=ROLLOUT_SECONDS) as cluster:
        register_cluster(CLUSTER, aws.REGION, cluster)
        cluster.allow(aws.ROLE_ARN)
        try:
            private_before = set(Path(tempfile.gettempdir()).glob("aws-oidc-deploy-*"))
            issued_before = leaks.issued_marker()
            # Its own session: the kill takes kubectl with it, as a killed container would.
            process = subprocess.Popen(
                [sys.executable, "-m", "pipe"],
                env=env,
                cwd=clone_dir,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            deadline = time.monotonic() + STARTUP_LIMIT_SECONDS
            while not _watching_rollout(cluster) and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            # No clean-up ran: what the killed pipe left in its private directory must hold no secret.
            left = set(Path(tempfile.gettempdir()).glob("aws-oidc-deploy-*")) - private_before
            secrets = leaks.environment_secrets(env) + leaks.issued_since(issued_before)
            files = [path for directory in left for path in directory.rglob("*") if path.is_file()]
            leaks.check(
                b"", files, secrets, debug=False, context="the killed kubectl job's private directory"
            )
            killed_mid_wait = cluster.object("apps", "v1", "deployments", "default", "web")
            assert killed_mid_wait is not None, "the pipe was killed before it applied anything"
            assert not (killed_mid_wait.get("status") or {}).get("readyReplicas"), "killed after the rollout"

            cluster.rollout_delay_seconds = 0.5
            result = run(env)
            deployment = cluster.object("apps", "v1", "deployments", "default", "web")
            replica_sets, _ = cluster.store.list(by_path("apps", "v1", "replicasets"), "default")
            config_maps, _ = cluster.store.list(by_path("", "v1", "configmaps"), "default")
        finally:
            unregister_cluster(CLUSTER, aws.REGION)
    assert result.returncode == 0, result.output
    assert "1 rollout(s) finished" in result.last_line
    assert deployment["status"]["readyReplicas"] == 3
    assert deployment["metadata"]["labels"]["team"] == "payments"
    # The rerun changed nothing the first run had applied: same generation, one ReplicaSet, one ConfigMap.
    assert deployment["metadata"]["generation"] == killed_mid_wait["metadata"]["generation"]
    assert len([rs for rs in replica_sets if rs["metadata"]["name"].startswith("web-")]) == 1
    assert [cm["metadata"]["name"] for cm in config_maps if cm["metadata"]["name"] == "web-settings"] == [
        "web-settings"
    ]
