"""The Kubernetes stand-in, driven by the real pinned kubectl with an `aws eks get-token` exec plugin,
by the Python kubernetes client, and by hand-made tokens for the authentication edge cases."""

import base64
import concurrent.futures
import datetime
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
import pytest
from kubernetes import client as kube_client

from test.support import aws
from test.support.kube import KubeStandIn, mint_token, register_cluster, unregister_cluster

BIN = Path(sys.executable).parent
KUBECTL = BIN / "kubectl"
AWS_CLI = BIN / "aws"
CLUSTER = "standin-demo"
DEPLOYER_ROLE = f"arn:aws:iam::{aws.ACCOUNT}:role/kube-deployer"
READER_ROLE = f"arn:aws:iam::{aws.ACCOUNT}:role/kube-reader"
STRANGER_ROLE = f"arn:aws:iam::{aws.ACCOUNT}:role/kube-stranger"
# How long kubectl may take to start watching a rollout on a loaded machine.
WATCH_LIMIT_SECONDS = 30


@pytest.fixture(scope="module")
def kube(moto_server):
    with KubeStandIn(CLUSTER, rollout_delay_seconds=0.3) as standin:
        register_cluster(CLUSTER, aws.REGION, standin)
        standin.allow(DEPLOYER_ROLE)
        standin.allow(READER_ROLE, "reader", groups=("readers",), verbs={("get", "apps", "deployments")})
        yield standin
        unregister_cluster(CLUSTER, aws.REGION)


def assume(moto_server, role_arn: str) -> dict:
    sts = aws.client("sts", moto_server.url)
    return sts.assume_role(RoleArn=role_arn, RoleSessionName="pipeline-42")["Credentials"]


class Kubectl:
    """The real kubectl with a kubeconfig built from DescribeCluster and an `aws eks get-token` exec plugin."""

    def __init__(self, directory: Path, moto_url: str, credentials: dict, token_cluster: str = CLUSTER):
        directory.mkdir(parents=True, exist_ok=True)
        self.home = directory / "home"
        self.home.mkdir(exist_ok=True)
        eks = boto3.client(
            "eks",
            endpoint_url=moto_url,
            region_name=aws.REGION,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
        plugin_env = {
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
            "AWS_DEFAULT_REGION": aws.REGION,
        }
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": CLUSTER,
                    "cluster": {
                        "server": cluster["endpoint"],
                        "certificate-authority-data": cluster["certificateAuthority"]["data"],
                    },
                }
            ],
            "users": [
                {
                    "name": "pipe",
                    "user": {
                        "exec": {
                            "apiVersion": "client.authentication.k8s.io/v1beta1",
                            "command": str(AWS_CLI),
                            "args": ["eks", "get-token", "--cluster-name", token_cluster, "--output", "json"],
                            "env": [{"name": name, "value": value} for name, value in plugin_env.items()],
                            "interactiveMode": "Never",
                        }
                    },
                }
            ],
            "contexts": [
                {"name": CLUSTER, "context": {"cluster": CLUSTER, "user": "pipe", "namespace": "default"}}
            ],
            "current-context": CLUSTER,
        }
        self.kubeconfig = directory / "kubeconfig"
        self.kubeconfig.write_text(json.dumps(config))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "KUBECONFIG": str(self.kubeconfig),
            "AWS_CONFIG_FILE": str(self.home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "no-aws-credentials"),
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(KUBECTL), *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
        )

    def ok(self, *args: str) -> str:
        result = self(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def deployer_credentials(moto_server):
    return assume(moto_server, DEPLOYER_ROLE)


@pytest.fixture(scope="module")
def kubectl(kube, moto_server, deployer_credentials, tmp_path_factory) -> Kubectl:
    return Kubectl(tmp_path_factory.mktemp("deployer"), moto_server.url, deployer_credentials)


def write_app(directory: Path, name: str, *, image: str = "nginx:1.27", greeting: str = "hello") -> Path:
    """A Deployment, a Service and a ConfigMap, as files in a directory (what `apply -f DIR` reads)."""
    directory.mkdir(parents=True, exist_ok=True)
    labels = {"app": name}
    documents = {
        "configmap.json": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": f"{name}-config", "labels": labels},
            "data": {"greeting": greeting},
        },
        "deployment.json": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "containers": [
                            {
                                "name": "web",
                                "image": image,
                                "ports": [{"containerPort": 80}],
                                "env": [{"name": "GREETING", "value": greeting}],
                            }
                        ]
                    },
                },
            },
        },
        "service.json": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "labels": labels},
            "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 80}]},
        },
    }
    for file_name, document in documents.items():
        (directory / file_name).write_text(json.dumps(document))
    return directory


def deployment(kube: KubeStandIn, name: str) -> dict | None:
    return kube.object("apps", "v1", "deployments", "default", name)


def requests_since(kube: KubeStandIn, start: int) -> list[dict]:
    return kube.requests[start:]


# ---------------------------------------------------------------- kubectl: apply, get, patch, delete


def test_register_cluster_makes_describe_cluster_return_the_stand_in(kube, moto_server, deployer_credentials):
    eks = boto3.client(
        "eks",
        endpoint_url=moto_server.url,
        region_name=aws.REGION,
        aws_access_key_id=deployer_credentials["AccessKeyId"],
        aws_secret_access_key=deployer_credentials["SecretAccessKey"],
        aws_session_token=deployer_credentials["SessionToken"],
    )
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    assert cluster["endpoint"] == kube.url
    assert base64.b64decode(cluster["certificateAuthority"]["data"]).decode() == kube.ca_pem


def test_apply_directory_then_get_back(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "shop")
    start = len(kube.requests)

    output = kubectl.ok("apply", "-f", str(app))

    assert "configmap/shop-config created" in output
    assert "deployment.apps/shop created" in output
    assert "service/shop created" in output
    got = json.loads(kubectl.ok("get", "deployment", "shop", "-o", "json"))
    assert got["kind"] == "Deployment"
    assert got["metadata"]["labels"] == {"app": "shop"}
    assert got["metadata"]["generation"] == 1
    assert got["metadata"]["uid"]
    listed = json.loads(kubectl.ok("get", "configmaps,services", "-l", "app=shop", "-o", "json"))
    assert sorted(item["kind"] for item in listed["items"]) == ["ConfigMap", "Service"]
    table = kubectl.ok("get", "deployments,services", "-l", "app=shop")
    assert "deployment.apps/shop" in table
    assert "service/shop" in table
    posts = [entry for entry in requests_since(kube, start) if entry["method"] == "POST"]
    assert {entry["query"].get("fieldManager") for entry in posts} == {"kubectl-client-side-apply"}
    assert all(entry["user"] == "deployer" for entry in requests_since(kube, start))


def test_apply_again_with_a_change_patches(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "cart")
    kubectl.ok("apply", "-f", str(app))
    write_app(app, "cart", image="nginx:1.28", greeting="hi")
    start = len(kube.requests)

    output = kubectl.ok("apply", "-f", str(app))

    assert "deployment.apps/cart configured" in output
    assert "configmap/cart-config configured" in output
    assert "service/cart unchanged" in output
    patches = [entry for entry in requests_since(kube, start) if entry["method"] == "PATCH"]
    assert {entry["content_type"] for entry in patches} == {"application/strategic-merge-patch+json"}
    stored = deployment(kube, "cart")
    container = stored["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "nginx:1.28"
    assert container["env"] == [{"name": "GREETING", "value": "hi"}]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert stored["metadata"]["generation"] == 2
    assert kube.object("", "v1", "configmaps", "default", "cart-config")["data"] == {"greeting": "hi"}


def test_kubectl_patch_json_and_merge(kube, kubectl, tmp_path):
    kubectl.ok("apply", "-f", str(write_app(tmp_path / "app", "patchy")))
    start = len(kube.requests)

    kubectl.ok(
        "patch",
        "deployment",
        "patchy",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/replicas","value":1}]',
    )
    kubectl.ok(
        "patch",
        "configmap",
        "patchy-config",
        "--type=merge",
        "-p",
        '{"data":{"greeting":null,"added":"yes"}}',
    )

    content_types = {
        entry["content_type"] for entry in requests_since(kube, start) if entry["method"] == "PATCH"
    }
    assert content_types == {"application/json-patch+json", "application/merge-patch+json"}
    assert deployment(kube, "patchy")["spec"]["replicas"] == 1
    assert kube.object("", "v1", "configmaps", "default", "patchy-config")["data"] == {"added": "yes"}


def test_server_side_apply(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "ssa")
    start = len(kube.requests)

    output = kubectl.ok("apply", "--server-side", "-f", str(app))

    assert "deployment.apps/ssa serverside-applied" in output
    patches = [entry for entry in requests_since(kube, start) if entry["method"] == "PATCH"]
    assert {entry["content_type"] for entry in patches} == {"application/apply-patch+yaml"}
    assert {entry["query"]["fieldManager"] for entry in patches} == {"kubectl"}
    write_app(app, "ssa", image="nginx:1.29")
    kubectl.ok("apply", "--server-side", "-f", str(app))
    stored = deployment(kube, "ssa")
    assert stored["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.29"
    assert stored["metadata"]["generation"] == 2
    assert any(entry["operation"] == "Apply" for entry in stored["metadata"]["managedFields"])


def test_dry_run_server_stores_nothing(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "dry")

    output = kubectl.ok("apply", "--dry-run=server", "-f", str(app))
    ssa_output = kubectl.ok("apply", "--server-side", "--dry-run=server", "-f", str(app))

    assert "deployment.apps/dry created (server dry run)" in output
    assert "deployment.apps/dry serverside-applied (server dry run)" in ssa_output
    assert deployment(kube, "dry") is None
    assert kube.object("", "v1", "services", "default", "dry") is None
    assert kube.object("", "v1", "configmaps", "default", "dry-config") is None


def test_dry_run_server_still_validates(kubectl, tmp_path):
    app = write_app(tmp_path / "app", "broken")
    document = json.loads((app / "deployment.json").read_text())
    document["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    (app / "deployment.json").write_text(json.dumps(document))

    result = kubectl("apply", "--dry-run=server", "-f", str(app / "deployment.json"))

    assert result.returncode != 0
    assert "`selector` does not match template `labels`" in result.stderr


def test_field_validation_strict_rejects_unknown_fields_and_false_drops_them(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "typo")
    document = json.loads((app / "deployment.json").read_text())
    document["spec"]["replica"] = 3
    path = app / "deployment.json"
    path.write_text(json.dumps(document))

    strict = kubectl("apply", "-f", str(path))
    relaxed = kubectl("apply", "--validate=false", "-f", str(path))

    assert strict.returncode != 0
    assert 'unknown field "spec.replica"' in strict.stderr
    assert relaxed.returncode == 0, relaxed.stderr
    assert "replica" not in deployment(kube, "typo")["spec"]


def test_rollout_status_waits_for_the_controller(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "slow")
    watches_before = len([entry for entry in kube.requests if entry["query"].get("watch") == "true"])
    gate = threading.Event()
    kube.controller.ready_gate = gate  # the rollout ends when the test says, not after a delay
    try:
        kubectl.ok("apply", "-f", str(app))
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            waiting = pool.submit(kubectl, "rollout", "status", "deployment/slow", "--timeout=30s")
            # Opened once kubectl watches the rollout: the stand-in's record of the watch is the event.
            deadline = time.monotonic() + WATCH_LIMIT_SECONDS
            while time.monotonic() < deadline and not waiting.done():
                if (
                    len([entry for entry in kube.requests if entry["query"].get("watch") == "true"])
                    > watches_before
                ):
                    break
                time.sleep(0.05)
            gate.set()
            result = waiting.result()
    finally:
        kube.controller.ready_gate = None
        gate.set()

    assert result.returncode == 0, result.stderr
    assert (
        'Waiting for deployment "slow" rollout to finish: 0 of 2 updated replicas are available'
        in result.stdout
    )
    # Rolled out, not timed out (--timeout=30s): the watch told kubectl when the rollout ended.
    assert 'deployment "slow" successfully rolled out' in result.stdout
    status = deployment(kube, "slow")["status"]
    assert status["availableReplicas"] == status["updatedReplicas"] == 2
    watches = [entry for entry in kube.requests if entry["query"].get("watch") == "true"]
    assert watches[-1]["query"]["sendInitialEvents"] == "true"


def test_rollout_longer_than_the_token_lifetime_renews_the_token(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "long")
    seen_before = len(kube.tokens_seen)
    kube.token_lifetime_seconds = 2.0
    kube.max_watch_seconds = 1.0  # watches end early, as a real server ends them after a while
    kube.rollout_delay_seconds = 4.5
    try:
        kubectl.ok("apply", "-f", str(app))
        result = kubectl("rollout", "status", "deployment/long", "--timeout=30s")
    finally:
        kube.token_lifetime_seconds = 900.0
        kube.max_watch_seconds = None
        kube.rollout_delay_seconds = 0.3

    assert result.returncode == 0, result.stderr
    assert 'deployment "long" successfully rolled out' in result.stdout
    seen = kube.tokens_seen[seen_before:]
    assert any(not item["accepted"] and "expired" in item["reason"] for item in seen)
    signed = sorted(
        datetime.datetime.strptime(item["signed_at"], "%Y%m%dT%H%M%SZ") for item in seen if item["accepted"]
    )
    # After a 401 the exec plugin made a new token, which was accepted.
    assert signed[-1] - signed[0] >= datetime.timedelta(seconds=2)


def test_rollout_restart_then_status(kube, kubectl, tmp_path):
    kubectl.ok("apply", "-f", str(write_app(tmp_path / "app", "again")))
    kubectl.ok("rollout", "status", "deployment/again", "--timeout=30s")

    output = kubectl.ok("rollout", "restart", "deployment/again")
    status = kubectl.ok("rollout", "status", "deployment/again", "--timeout=30s")

    assert "deployment.apps/again restarted" in output
    assert 'deployment "again" successfully rolled out' in status
    stored = deployment(kube, "again")
    assert "kubectl.kubernetes.io/restartedAt" in stored["spec"]["template"]["metadata"]["annotations"]
    assert stored["metadata"]["generation"] == 2
    pods = json.loads(kubectl.ok("get", "pods", "-l", "app=again", "-o", "json"))["items"]
    assert len(pods) == 2
    assert {pod["status"]["phase"] for pod in pods} == {"Running"}


def test_rollout_history_and_undo(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "undo")
    kubectl.ok("apply", "-f", str(app))
    kubectl.ok("rollout", "status", "deployment/undo", "--timeout=30s")
    kubectl.ok("apply", "-f", str(write_app(app, "undo", image="nginx:1.28")))
    kubectl.ok("rollout", "status", "deployment/undo", "--timeout=30s")

    history = kubectl.ok("rollout", "history", "deployment/undo")
    undone = kubectl.ok("rollout", "undo", "deployment/undo")
    kubectl.ok("rollout", "status", "deployment/undo", "--timeout=30s")

    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["1", "2"]
    assert "deployment.apps/undo rolled back" in undone
    assert deployment(kube, "undo")["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    replica_sets = json.loads(kubectl.ok("get", "replicasets", "-l", "app=undo", "-o", "json"))["items"]
    assert sorted(item["spec"]["replicas"] for item in replica_sets) == [0, 2]


def test_statefulset_daemonset_and_job_finish(kubectl, tmp_path):
    template = {
        "metadata": {"labels": {"app": "store"}},
        "spec": {"containers": [{"name": "store", "image": "redis:7"}]},
    }
    documents = [
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {"name": "store"},
            "spec": {
                "serviceName": "store",
                "replicas": 2,
                "selector": {"matchLabels": {"app": "store"}},
                "template": template,
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "store"}}, "template": template},
        },
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "migrate"},
            "spec": {"template": {"spec": {"containers": [{"name": "migrate", "image": "migrate:1"}]}}},
        },
    ]
    path = tmp_path / "workloads.json"
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": documents}))

    kubectl.ok("apply", "-f", str(path))

    assert "partitioned roll out complete" in kubectl.ok(
        "rollout", "status", "statefulset/store", "--timeout=30s"
    )
    assert 'daemon set "agent" successfully rolled out' in kubectl.ok(
        "rollout", "status", "daemonset/agent", "--timeout=30s"
    )
    assert "job.batch/migrate condition met" in kubectl.ok(
        "wait", "--for=condition=complete", "job/migrate", "--timeout=30s"
    )


def test_never_ready_image_times_out(kube, kubectl, tmp_path):
    kube.never_ready_images.add("registry.example/broken:1")
    app = write_app(tmp_path / "app", "stuck", image="registry.example/broken:1")
    kubectl.ok("apply", "-f", str(app))
    started = time.monotonic()

    result = kubectl("rollout", "status", "deployment/stuck", "--timeout=3s")

    assert result.returncode != 0
    assert "timed out waiting for the condition" in result.stderr
    assert (
        'Waiting for deployment "stuck" rollout to finish: 0 of 2 updated replicas are available'
        in result.stdout
    )
    # kubectl waited its timeout out (a loaded machine only makes this longer; the run has its own limit).
    assert time.monotonic() - started > 2.5


def test_never_ready_image_exceeds_the_progress_deadline(kube, kubectl, tmp_path):
    kube.never_ready_images.add("registry.example/broken:2")
    app = write_app(tmp_path / "app", "late", image="registry.example/broken:2")
    document = json.loads((app / "deployment.json").read_text())
    document["spec"]["progressDeadlineSeconds"] = 1
    (app / "deployment.json").write_text(json.dumps(document))
    kubectl.ok("apply", "-f", str(app))

    result = kubectl("rollout", "status", "deployment/late", "--timeout=30s")

    assert result.returncode != 0
    assert 'deployment "late" exceeded its progress deadline' in result.stderr
    conditions = {item["type"]: item for item in deployment(kube, "late")["status"]["conditions"]}
    assert conditions["Progressing"]["reason"] == "ProgressDeadlineExceeded"


def test_delete(kube, kubectl, tmp_path):
    app = write_app(tmp_path / "app", "gone")
    kubectl.ok("apply", "-f", str(app))
    kubectl.ok("rollout", "status", "deployment/gone", "--timeout=30s")

    output = kubectl.ok("delete", "-f", str(app))

    assert 'deployment.apps "gone" deleted' in output
    assert deployment(kube, "gone") is None
    assert kube.object("", "v1", "configmaps", "default", "gone-config") is None
    assert json.loads(kubectl.ok("get", "pods", "-l", "app=gone", "-o", "json"))["items"] == []
    missing = kubectl("get", "deployment", "gone")
    assert missing.returncode != 0
    assert 'deployments.apps "gone" not found' in missing.stderr


# ---------------------------------------------------------------- authentication and authorization


def test_unmapped_role_gets_401(kube, moto_server, tmp_path):
    stranger = Kubectl(tmp_path, moto_server.url, assume(moto_server, STRANGER_ROLE))

    result = stranger("get", "pods")

    assert result.returncode != 0
    # What kubectl says when discovery gets a 401, as with a real EKS cluster.
    assert "You must be logged in to the server" in result.stderr
    assert any(
        not seen["accepted"]
        and "no access entry" in seen["reason"]
        and seen["access_key_id"].startswith("ASIA")
        for seen in kube.tokens_seen
    )


def test_revoked_role_gets_401(kube, moto_server, tmp_path):
    role = f"arn:aws:iam::{aws.ACCOUNT}:role/kube-temporary"
    kube.allow(role, "temporary")
    temporary = Kubectl(tmp_path, moto_server.url, assume(moto_server, role))
    assert temporary("get", "configmaps").returncode == 0

    kube.revoke(role)

    assert "You must be logged in to the server" in temporary("get", "configmaps").stderr


def test_role_allowed_only_to_get_gets_403(kube, kubectl, moto_server, tmp_path):
    kubectl.ok("apply", "-f", str(write_app(tmp_path / "app", "readable")))
    reader = Kubectl(tmp_path / "reader", moto_server.url, assume(moto_server, READER_ROLE))

    got = reader("get", "deployment", "readable", "-o", "json")
    listed = reader("get", "pods")
    applied = reader("apply", "-f", str(write_app(tmp_path / "reader-app", "readable", image="nginx:1.30")))

    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["metadata"]["name"] == "readable"
    assert listed.returncode != 0
    assert (
        'pods is forbidden: User "reader" cannot list resource "pods" in API group "" in the namespace "default"'
        in listed.stderr
    )
    assert applied.returncode != 0
    assert (
        'deployments.apps "readable" is forbidden: User "reader" cannot patch resource "deployments" '
        'in API group "apps" in the namespace "default"'
    ) in applied.stderr
    assert deployment(kube, "readable")["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"


def test_wrong_cluster_name_is_rejected(kube, moto_server, deployer_credentials, tmp_path):
    other = Kubectl(tmp_path, moto_server.url, deployer_credentials, token_cluster="some-other-cluster")

    result = other("get", "pods")

    assert result.returncode != 0
    assert "You must be logged in to the server" in result.stderr
    assert any(
        "signature does not match" in seen["reason"] for seen in kube.tokens_seen if not seen["accepted"]
    )


def call(kube: KubeStandIn, path: str, token: str) -> int:
    request = urllib.request.Request(kube.url + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
    context = ssl.create_default_context(cadata=kube.ca_pem)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310 (https to the stand-in)
            return response.status
    except urllib.error.HTTPError as error:
        body = json.loads(error.read())
        assert body["kind"] == "Status"
        assert body["reason"] == ("Unauthorized" if error.code == 401 else body["reason"])
        return error.code


def _reason(kube: KubeStandIn) -> str:
    return kube.tokens_seen[-1]["reason"]


def test_token_older_than_its_lifetime_is_rejected(kube, moto_server, deployer_credentials):
    five_seconds_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    token = mint_token(deployer_credentials, CLUSTER, moto_server.url, signed_at=five_seconds_ago)
    sixteen_minutes_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    stale = mint_token(deployer_credentials, CLUSTER, moto_server.url, signed_at=sixteen_minutes_ago)

    assert call(kube, "/api/v1/namespaces/default/pods", token) == 200
    assert call(kube, "/api/v1/namespaces/default/pods", stale) == 401
    assert "expired" in _reason(kube)
    kube.token_lifetime_seconds = 2.0
    try:
        assert call(kube, "/api/v1/namespaces/default/pods", token) == 401
        assert "expired" in _reason(kube)
    finally:
        kube.token_lifetime_seconds = 900.0


def test_bad_tokens_are_rejected(kube, moto_server, deployer_credentials):
    good = mint_token(deployer_credentials, CLUSTER, moto_server.url)
    url = base64.urlsafe_b64decode(good[len("k8s-aws-v1.") :] + "==").decode()

    def token_for(changed_url: str) -> str:
        return "k8s-aws-v1." + base64.urlsafe_b64encode(changed_url.encode()).decode().rstrip("=")

    signature = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Signature"][0]
    tampered = token_for(url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:]))
    unknown_key = token_for(url.replace(deployer_credentials["AccessKeyId"], "ASIAUNKNOWNKEY000000"))
    long_lived = mint_token(deployer_credentials, CLUSTER, moto_server.url, expires_in=900)
    other_cluster = mint_token(deployer_credentials, "another-cluster", moto_server.url)

    real_sts = mint_token(deployer_credentials, CLUSTER, "https://sts.eu-west-1.amazonaws.com")
    elsewhere = mint_token(deployer_credentials, CLUSTER, "https://sts.example.net")

    assert call(kube, "/api/v1/namespaces/default/configmaps", good) == 200
    assert call(kube, "/api/v1/namespaces/default/configmaps", real_sts) == 200
    cases = {
        elsewhere: "unexpected hostname",
        tampered: "signature does not match",
        unknown_key: "unknown access key",
        long_lived: "X-Amz-Expires",
        other_cluster: "signature does not match",
        "k8s-aws-v1.!!!": "base64",
        "eyJhbGciOiJSUzI1NiJ9.e30.sig": "k8s-aws-v1.",
    }
    for token, reason in cases.items():
        assert call(kube, "/api/v1/namespaces/default/configmaps", token) == 401, reason
        assert reason in _reason(kube)
    assert all(set(seen) == {"access_key_id", "signed_at", "accepted", "reason"} for seen in kube.tokens_seen)


def test_self_subject_review_and_access_review_with_the_python_client(
    kube, moto_server, deployer_credentials, tmp_path
):
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(kube.ca_pem)

    def api_client(credentials: dict) -> kube_client.ApiClient:
        configuration = kube_client.Configuration()
        configuration.host = kube.url
        configuration.ssl_ca_cert = str(ca_file)
        configuration.api_key = {
            "authorization": "Bearer " + mint_token(credentials, CLUSTER, moto_server.url)
        }
        return kube_client.ApiClient(configuration)

    def can(api: kube_client.ApiClient, verb: str) -> bool:
        review = kube_client.V1SelfSubjectAccessReview(
            spec=kube_client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=kube_client.V1ResourceAttributes(
                    verb=verb, group="apps", resource="deployments", namespace="default"
                )
            )
        )
        return kube_client.AuthorizationV1Api(api).create_self_subject_access_review(review).status.allowed

    with api_client(deployer_credentials) as deployer:
        review = kube_client.AuthenticationV1Api(deployer).create_self_subject_review(
            kube_client.V1SelfSubjectReview()
        )
        assert review.status.user_info.username == "deployer"
        assert "system:masters" in review.status.user_info.groups
        assert review.status.user_info.extra["canonicalArn"] == [DEPLOYER_ROLE]
        assert can(deployer, "create")
    with api_client(assume(moto_server, READER_ROLE)) as reader:
        assert can(reader, "get")
        assert not can(reader, "create")


def test_kubectl_auth_whoami_sends_protobuf_and_gets_the_user(kubectl):
    output = kubectl.ok("auth", "whoami", "-o", "json")

    assert json.loads(output)["status"]["userInfo"]["username"] == "deployer"
    assert kubectl.ok("auth", "can-i", "create", "deployments").strip() == "yes"


# ---------------------------------------------------------------- beyond apply: create, scale, watch


def test_imperative_create_and_scale(kube, kubectl, tmp_path):
    # kubectl's typed clients send protobuf bodies for these.
    assert "namespace/team-a created" in kubectl.ok("create", "namespace", "team-a")
    kubectl.ok("-n", "team-a", "create", "configmap", "settings", "--from-literal=colour=blue")
    kubectl.ok("-n", "team-a", "create", "secret", "generic", "password", "--from-literal=value=s3cret")
    app = write_app(tmp_path / "app", "scaled")
    kubectl.ok("-n", "team-a", "apply", "-f", str(app))

    assert "deployment.apps/scaled scaled" in kubectl.ok(
        "-n", "team-a", "scale", "deployment/scaled", "--replicas=3"
    )
    kubectl.ok("-n", "team-a", "rollout", "status", "deployment/scaled", "--timeout=30s")

    assert kube.object("", "v1", "configmaps", "team-a", "settings")["data"] == {"colour": "blue"}
    secret = kube.object("", "v1", "secrets", "team-a", "password")
    assert base64.b64decode(secret["data"]["value"]) == b"s3cret"
    assert kube.object("apps", "v1", "deployments", "team-a", "scaled")["status"]["availableReplicas"] == 3
    kubectl.ok("delete", "namespace", "team-a")
    assert kube.object("", "v1", "namespaces", None, "team-a") is None
    assert kube.object("", "v1", "configmaps", "team-a", "settings") is None


def test_watch_from_a_resource_version_with_the_python_client(
    kube, moto_server, deployer_credentials, tmp_path
):
    from kubernetes import watch

    ca_file = tmp_path / "ca.pem"
    ca_file.write_text(kube.ca_pem)
    configuration = kube_client.Configuration()
    configuration.host = kube.url
    configuration.ssl_ca_cert = str(ca_file)
    configuration.api_key = {
        "authorization": "Bearer " + mint_token(deployer_credentials, CLUSTER, moto_server.url)
    }
    with kube_client.ApiClient(configuration) as api:
        core = kube_client.CoreV1Api(api)
        version = core.list_namespaced_config_map("default").metadata.resource_version
        core.create_namespaced_config_map(
            "default",
            kube_client.V1ConfigMap(metadata=kube_client.V1ObjectMeta(name="watched"), data={"a": "1"}),
        )
        core.patch_namespaced_config_map("watched", "default", {"data": {"a": "2"}})
        core.delete_namespaced_config_map("watched", "default")
        events = []
        for event in watch.Watch().stream(
            core.list_namespaced_config_map,
            "default",
            resource_version=version,
            field_selector="metadata.name=watched",
            timeout_seconds=5,
        ):
            events.append((event["type"], event["object"].data))
            if event["type"] == "DELETED":
                break

    assert events == [("ADDED", {"a": "1"}), ("MODIFIED", {"a": "2"}), ("DELETED", {"a": "2"})]


# ---------------------------------------------------------------- the patch code on its own


def test_strategic_merge_patch_directives():
    from test.support.kube import patch

    live = {
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "image": "a:1",
                    "env": [{"name": "X", "value": "1"}, {"name": "Y", "value": "2"}],
                },
                {"name": "b", "image": "b:1", "ports": [{"containerPort": 80}, {"containerPort": 81}]},
            ],
            "volumes": [{"name": "v", "configMap": {"name": "c"}}],
            "tolerations": [{"key": "k"}],
        },
        "metadata": {"finalizers": ["f1"]},
    }
    change = {
        "metadata": {"finalizers": ["f2"]},
        "spec": {
            "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
            "containers": [
                {"name": "a", "env": [{"$patch": "delete", "name": "X"}]},
                {"name": "b", "ports": [{"$patch": "delete", "containerPort": 80}]},
            ],
            "volumes": [
                {
                    "$retainKeys": ["name", "secret"],
                    "configMap": None,
                    "name": "v",
                    "secret": {"secretName": "s"},
                }
            ],
            "tolerations": [{"key": "other"}],
        },
    }

    result = patch.strategic_merge_patch(live, change)

    assert [container["name"] for container in result["spec"]["containers"]] == ["b", "a"]
    assert result["spec"]["containers"][1]["env"] == [{"name": "Y", "value": "2"}]
    assert result["spec"]["containers"][0]["ports"] == [{"containerPort": 81}]
    assert result["spec"]["volumes"] == [{"name": "v", "secret": {"secretName": "s"}}]
    assert result["spec"]["tolerations"] == [{"key": "other"}]  # no merge key: replaced
    assert result["metadata"]["finalizers"] == ["f1", "f2"]  # a set of primitives: merged


def test_json_patch_merge_patch_and_apply():
    from test.support.kube import patch

    document = {"a": {"b": [1, 2]}, "c": 1}
    assert patch.json_patch(
        document,
        [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "remove", "path": "/c"},
            {"op": "copy", "from": "/a/b", "path": "/d"},
            {"op": "test", "path": "/d/2", "value": 3},
        ],
    ) == {"a": {"b": [1, 2, 3]}, "d": [1, 2, 3]}
    with pytest.raises(patch.PatchError):
        patch.json_patch(document, [{"op": "test", "path": "/c", "value": 2}])
    assert patch.merge_patch(document, {"a": None, "e": {"f": 1}}) == {"c": 1, "e": {"f": 1}}

    live = {
        "spec": {
            "replicas": 2,
            "paused": False,
            "template": {"spec": {"containers": [{"name": "a", "image": "1"}]}},
        }
    }
    first = {"spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "a", "image": "1"}]}}}}
    second = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "2"}]}}}}
    applied = patch.apply_configuration(live, first, second)
    assert "replicas" not in applied["spec"]  # applied before by this manager, no longer: removed
    assert applied["spec"]["paused"] is False  # never applied by this manager: kept
    assert applied["spec"]["template"]["spec"]["containers"] == [{"name": "a", "image": "2"}]
