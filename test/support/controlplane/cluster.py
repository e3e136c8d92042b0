"""A real Kubernetes control plane for the tests: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler and kwok (the nodes), built by build.sh, with EKS-shaped authentication.

    with ControlPlane("prod", bin_dir, tmp) as cluster:   # https://127.0.0.1:<port>
        cluster.allow(role_arn)                           # access entry: role -> user "deployer"
        cluster.grant_cluster_admin("deployer")           # or grant_edit("deployer", "team-a")
        cluster.object("apps", "v1", "deployments", "team-a", "web")

The pipe's token reaches kube-apiserver, which asks the TokenReview webhook (webhook.py); RBAC
decides, 401 and 403 are the API server's own. The tests' admin client uses a client certificate
in system:masters, as the cluster creator does on EKS.
"""

import json
import time
from pathlib import Path

import urllib3
import yaml

from . import pki
from .processes import Process, StartFailed, free_port
from .webhook import TokenWebhook

START_TIMEOUT_SECONDS = 120.0
NODE_NAME = "kwok-node-0"
# kwok plays this Node (its status, leases and pods); everything else is the real control plane.
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
# The controllers a deployment needs: rollouts, pods' service accounts, deletion, namespaces, and
# the aggregation that fills the `edit`/`admin` ClusterRoles (the stand-ins for EKS access policies).
CONTROLLERS = (
    "deployment-controller,replicaset-controller,statefulset-controller,daemonset-controller,"
    "job-controller,garbage-collector-controller,namespace-controller,serviceaccount-controller,"
    "serviceaccount-token-controller,root-ca-certificate-publisher-controller,"
    "clusterrole-aggregation-controller"
)


class ControlPlane:
    def __init__(self, cluster_name: str, bin_dir: Path, workdir: Path):
        self.cluster_name = cluster_name
        self.bin = Path(bin_dir)
        self.workdir = Path(workdir)
        self.webhook = TokenWebhook(cluster_name)
        self.processes: list[Process] = []
        self.figures: dict[str, float] = {}
        self.port = 0
        self.credentials = None
        self._http: urllib3.PoolManager | None = None

    # --- life cycle -------------------------------------------------------------------------------

    def __enter__(self) -> "ControlPlane":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def start(self) -> None:
        began = time.monotonic()
        self.files, self.credentials = pki.write(self.workdir / "pki", self.cluster_name)
        self.webhook.start()
        etcd = self._start_etcd()
        self.port = free_port()
        self._write_webhook_config()
        apiserver = self._spawn("kube-apiserver", self._apiserver_argv(etcd))
        self._http = urllib3.PoolManager(
            ca_certs=str(self.files.ca),
            cert_file=str(self.files.path("admin.crt")),
            key_file=str(self.files.path("admin.key")),
            timeout=urllib3.Timeout(connect=2, read=30),
            retries=False,
        )
        self.figures["apiserver_ready_seconds"] = apiserver.wait_until(
            lambda: self.request("GET", "/readyz").status == 200, START_TIMEOUT_SECONDS, "/readyz"
        )
        for client in ("admin", "controller-manager", "scheduler", "kwok"):
            pki.kubeconfig(self.files, self.url, client)
        self._spawn("kube-controller-manager", self._controller_manager_argv())
        self._spawn("kube-scheduler", self._scheduler_argv())
        self._spawn("kwok", self._kwok_argv())
        self.create(
            "/api/v1/nodes",
            {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": NODE_NAME,
                    "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {
                        "kubernetes.io/hostname": NODE_NAME,
                        "kubernetes.io/os": "linux",
                        "type": "kwok",
                    },
                },
                "status": {
                    "allocatable": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                    "capacity": {"cpu": "32", "memory": "256Gi", "pods": "110"},
                },
            },
        )
        self._wait_for("the node to be Ready (kwok)", self._node_ready)
        self._wait_for("the default service account", self._default_service_account)
        self.figures["ready_seconds"] = time.monotonic() - began

    def stop(self) -> None:
        # The reverse order: nodes and controllers first, etcd last.
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        self.webhook.stop()
        if self._http is not None:
            self._http.clear()

    def memory_megabytes(self) -> dict[str, float]:
        return {process.name: process.rss_megabytes() for process in self.processes}

    # --- what the tests use -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def minor_version(self) -> str:
        """ "1.36", as EKS DescribeCluster reports the cluster's version."""
        answer = json.loads(self.request("GET", "/version").data)
        return f"{answer['major']}.{answer['minor']}"

    @property
    def ca_pem(self) -> str:
        return self.credentials.ca_pem

    @property
    def tokens_seen(self) -> list[dict]:
        return self.webhook.tokens_seen

    def allow(self, role_arn: str, username: str = "deployer", groups=()) -> None:
        self.webhook.allow(role_arn, username, groups)

    def revoke(self, role_arn: str) -> None:
        self.webhook.revoke(role_arn)

    def request(self, method: str, path: str, body=None, content_type: str = "application/json"):
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        assert self._http is not None
        return self._http.request(method, self.url + path, body=data, headers=headers)

    def create(self, collection: str, body: dict) -> dict:
        response = self.request("POST", collection, body)
        if response.status not in (200, 201):
            raise AssertionError(f"POST {collection}: {response.status} {response.data[:500]!r}")
        return json.loads(response.data)

    def object(self, group: str, version: str, resource: str, namespace: str | None, name: str):
        """The stored object as the API server returns it, or None when it does not exist."""
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        where = f"/namespaces/{namespace}" if namespace else ""
        response = self.request("GET", f"{prefix}{where}/{resource}/{name}")
        if response.status == 404:
            return None
        assert response.status == 200, (response.status, response.data[:500])
        return json.loads(response.data)

    # --- the processes ----------------------------------------------------------------------------

    def _spawn(self, name: str, argv: list[str]) -> Process:
        process = Process(name, [str(self.bin / name), *argv], self.workdir).start()
        self.processes.append(process)
        return process

    def _start_etcd(self) -> str:
        client, peer = free_port(), free_port()
        url = f"http://127.0.0.1:{client}"
        etcd = self._spawn(
            "etcd",
            [
                "--name=bench",
                f"--data-dir={self.workdir / 'etcd'}",
                f"--listen-client-urls={url}",
                f"--advertise-client-urls={url}",
                f"--listen-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
                f"--initial-cluster=bench=http://127.0.0.1:{peer}",
                # A test cluster: losing the last writes on a crash is fine, waiting for fsync is not.
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
        )
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=1, read=2))
        self.figures["etcd_ready_seconds"] = etcd.wait_until(
            lambda: http.request("GET", f"{url}/health").status == 200, START_TIMEOUT_SECONDS, "/health"
        )
        return url

    def _write_webhook_config(self) -> None:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "eks-authenticator", "cluster": {"server": self.webhook.url}}],
            "users": [{"name": "kube-apiserver", "user": {}}],
            "contexts": [
                {"name": "webhook", "context": {"cluster": "eks-authenticator", "user": "kube-apiserver"}}
            ],
            "current-context": "webhook",
        }
        self.files.path("token-webhook.kubeconfig").write_text(yaml.safe_dump(config))

    def _apiserver_argv(self, etcd_url: str) -> list[str]:
        files = self.files
        return [
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            f"--cert-dir={self.workdir / 'apiserver-certs'}",
            f"--tls-cert-file={files.path('apiserver.crt')}",
            f"--tls-private-key-file={files.path('apiserver.key')}",
            f"--client-ca-file={files.ca}",
            f"--service-account-key-file={files.path('service-account.pub')}",
            f"--service-account-signing-key-file={files.path('service-account.key')}",
            "--service-account-issuer=https://kubernetes.default.svc",
            f"--service-cluster-ip-range={pki.SERVICE_IP}/16",
            "--authorization-mode=RBAC",
            # This admission plugin taints a new Node not-ready until the node lifecycle controller,
            # fed by kubelet heartbeats, lifts it; kwok's Node is Ready from the start instead.
            "--disable-admission-plugins=TaintNodesByCondition",
            # EKS's authenticator: the bench's TokenReview webhook, asked about every request
            # (no cache), so a token that expires is refused from then on.
            f"--authentication-token-webhook-config-file={files.path('token-webhook.kubeconfig')}",
            "--authentication-token-webhook-version=v1",
            "--authentication-token-webhook-cache-ttl=0s",
            # The API server listens on loopback, which may not be a Service endpoint: no endpoints.
            "--endpoint-reconciler-type=none",
            "--profiling=false",
        ]

    def _controller_manager_argv(self) -> list[str]:
        files = self.files
        return [
            f"--kubeconfig={files.path('controller-manager.kubeconfig')}",
            f"--controllers={CONTROLLERS}",
            "--leader-elect=false",
            "--secure-port=0",
            f"--root-ca-file={files.ca}",
            f"--service-account-private-key-file={files.path('service-account.key')}",
            # Each controller as its own service account, bound by the API server's bootstrap roles.
            "--use-service-account-credentials=true",
        ]

    def _scheduler_argv(self) -> list[str]:
        return [
            f"--kubeconfig={self.files.path('scheduler.kubeconfig')}",
            "--leader-elect=false",
            "--secure-port=0",
        ]

    def _kwok_argv(self) -> list[str]:
        return [
            f"--kubeconfig={self.files.path('kwok.kubeconfig')}",
            "--config=" + ",".join(str(path) for path in sorted((self.bin / "kwok-stages").glob("*.yaml"))),
            f"--manage-single-node={NODE_NAME}",
            "--cidr=10.0.0.1/24",
            "--node-ip=10.0.0.1",
            f"--server-address=127.0.0.1:{free_port()}",
        ]

    # --- readiness --------------------------------------------------------------------------------

    def _wait_for(self, what: str, ready) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not ready():
            for process in self.processes:
                if not process.alive():
                    raise StartFailed(f"{process.name} exited while waiting for {what}:\n{process.tail()}")
            if time.monotonic() > deadline:
                raise StartFailed(f"no {what} within {START_TIMEOUT_SECONDS:g} s")
            time.sleep(0.1)

    def _node_ready(self) -> bool:
        node = self.object("", "v1", "nodes", None, NODE_NAME) or {}
        conditions = (node.get("status") or {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    def _default_service_account(self) -> bool:
        return self.object("", "v1", "serviceaccounts", "default", "default") is not None
