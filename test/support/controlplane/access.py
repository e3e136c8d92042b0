"""One test's share of the session's control plane: an EKS cluster record in moto pointing at it,
a namespace of its own, access entries (role -> user, in the token webhook) and RBAC bindings that
stand in for EKS access policies. Everything is undone at the end, so tests do not see each other.

    AmazonEKSClusterAdminPolicy, cluster scope   -> grant_cluster_admin(user): ClusterRoleBinding cluster-admin
    AmazonEKSEditPolicy, namespace scope         -> grant_edit(user): RoleBinding to ClusterRole edit
    anything narrower                            -> grant(user, rules): a Role of those rules
"""

import base64
import itertools
import json

from test.support import leaks

from .cluster import ControlPlane

# What a run may have sent the cluster, searched for secrets after each run (test/support/leaks.py):
# the kinds the kubectl job's tests apply, in the test's namespace.
_SCANNED = (
    ("", "v1", "configmaps"),
    ("", "v1", "secrets"),
    ("", "v1", "services"),
    ("apps", "v1", "deployments"),
)

_numbers = itertools.count(1)


class ClusterAccess:
    def __init__(
        self, plane: ControlPlane, cluster_name: str, region: str, account: str, namespace: str | None = None
    ):
        self.plane = plane
        self.cluster_name = cluster_name
        self.region = region
        self.account = account
        # Fixed names where a test needs the same paths every run (the fault proxy's rolls hang on them).
        self.namespace = namespace or f"t-{next(_numbers)}"
        self._cluster_bindings: list[str] = []

    def __enter__(self) -> "ClusterAccess":
        self.plane.webhook.reset()
        self.plane.webhook.cluster_name = self.cluster_name
        self.register()
        self.plane.create(
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self.namespace}},
        )
        leaks.RECEIVERS.append(self.received)
        return self

    def received(self):
        """What the cluster holds in this test's namespace, for the leak scan: (stamp, where, bytes)."""
        for group, version, resource in _SCANNED:
            for item in self.list(group, version, resource):
                metadata = item["metadata"]
                stamp = ("kube", resource, self.namespace, metadata["name"], metadata.get("resourceVersion"))
                where = f"kubernetes {resource}/{self.namespace}/{metadata['name']}"
                yield stamp, where, lambda item=item: json.dumps(item).encode()

    def __exit__(self, *_exc) -> None:
        from moto.eks.models import eks_backends

        leaks.RECEIVERS.remove(self.received)
        for name in self._cluster_bindings:
            self.plane.request("DELETE", f"/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/{name}")
        # The namespace controller removes what is inside; nobody needs to wait for it.
        self.plane.request("DELETE", f"/api/v1/namespaces/{self.namespace}")
        self.plane.webhook.reset()
        eks_backends[self.account][self.region].clusters.pop(self.cluster_name, None)

    def register(self, endpoint: str | None = None) -> None:
        """moto's DescribeCluster answers with the API server's URL (or `endpoint`, a proxy) and CA."""
        from moto.eks.models import eks_backends

        backend = eks_backends[self.account][self.region]
        if self.cluster_name not in backend.clusters:
            backend.create_cluster(
                name=self.cluster_name,
                role_arn=f"arn:aws:iam::{self.account}:role/eks-cluster-role",
                resources_vpc_config={"subnetIds": [], "securityGroupIds": []},
            )
        record = backend.clusters[self.cluster_name]
        record.endpoint = endpoint or self.plane.url
        record.version = self.plane.minor_version
        record.certificate_authority = {"data": base64.b64encode(self.plane.ca_pem.encode()).decode()}

    # --- EKS access entries and access policies ---------------------------------------------------

    @property
    def tokens_seen(self) -> list[dict]:
        return self.plane.webhook.tokens_seen

    @property
    def webhook(self):
        return self.plane.webhook

    def allow(self, role_arn: str, username: str = "deployer", groups=()) -> None:
        self.plane.webhook.allow(role_arn, username, groups)

    def revoke(self, role_arn: str) -> None:
        self.plane.webhook.revoke(role_arn)

    def grant_cluster_admin(self, username: str = "deployer") -> None:
        name = f"bench-{self.namespace}-{username}-admin"
        self.plane.create(
            "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
            self._binding("ClusterRoleBinding", name, None, "ClusterRole", "cluster-admin", username),
        )
        self._cluster_bindings.append(name)

    def grant_edit(self, username: str = "deployer", namespace: str | None = None) -> None:
        namespace = namespace or self.namespace
        self.plane.create(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
            self._binding("RoleBinding", f"{username}-edit", namespace, "ClusterRole", "edit", username),
        )

    def grant(self, username: str, rules: list[dict], namespace: str | None = None) -> None:
        """A Role with exactly these rules ({"apiGroups", "resources", "verbs"}) in the namespace."""
        namespace = namespace or self.namespace
        role = f"{username}-narrow"
        self.plane.create(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": {"name": role},
                "rules": rules,
            },
        )
        self.plane.create(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings",
            self._binding("RoleBinding", role, namespace, "Role", role, username),
        )

    @staticmethod
    def _binding(kind: str, name: str, namespace, role_kind: str, role: str, username: str) -> dict:
        metadata = {"name": name} | ({"namespace": namespace} if namespace else {})
        return {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": kind,
            "metadata": metadata,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": username}],
        }

    # --- reading the cluster ------------------------------------------------------------------------

    def object(
        self, group: str, version: str, resource: str, name: str, namespace: str | None = ""
    ) -> dict | None:
        """An object in this test's namespace (namespace=None: a cluster-scoped one)."""
        where = self.namespace if namespace == "" else namespace
        return self.plane.object(group, version, resource, where, name)

    def list(self, group: str, version: str, resource: str) -> list[dict]:
        prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
        response = self.plane.request("GET", f"{prefix}/namespaces/{self.namespace}/{resource}")
        assert response.status == 200, response.data[:300]
        return json.loads(response.data)["items"]
