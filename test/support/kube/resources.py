"""The kinds the stand-in serves: group, version, plural, Kind, scope, verbs."""

from dataclasses import dataclass, field

CRUD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class Kind:
    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRUD_VERBS
    subresources: tuple[str, ...] = ()
    # Go package of the schema in OpenAPI, e.g. "io.k8s.api.apps.v1"
    schema_package: str = ""
    stored: bool = True  # False: create-only review kinds, answered and forgotten
    singular: str = field(default="")

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def schema_name(self) -> str:
        return f"{self.schema_package}.{self.kind}"

    @property
    def group_resource(self) -> str:
        """deployments.apps, configmaps: how Kubernetes names the resource in error messages."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def base_path(self, namespace: str | None) -> str:
        prefix = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace is not None:
            return f"{prefix}/namespaces/{namespace}/{self.resource}"
        return f"{prefix}/{self.resource}"


def _core(resource, kind, **options):
    return Kind("", "v1", resource, kind, schema_package="io.k8s.api.core.v1", **options)


def _apps(resource, kind, **options):
    return Kind("apps", "v1", resource, kind, schema_package="io.k8s.api.apps.v1", **options)


KINDS: tuple[Kind, ...] = (
    _core("namespaces", "Namespace", namespaced=False, short_names=("ns",), subresources=("status",)),
    _core("configmaps", "ConfigMap", short_names=("cm",)),
    _core("secrets", "Secret"),
    _core("services", "Service", short_names=("svc",), categories=("all",), subresources=("status",)),
    _core("serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _core("pods", "Pod", short_names=("po",), categories=("all",), subresources=("status",)),
    _core("events", "Event", short_names=("ev",)),
    # Served mostly because `kubectl apply --prune` lists its default allowlist.
    _core("endpoints", "Endpoints", short_names=("ep",), singular="endpoints"),
    _core("persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",), subresources=("status",)),
    _core(
        "persistentvolumes",
        "PersistentVolume",
        namespaced=False,
        short_names=("pv",),
        subresources=("status",),
    ),
    _core(
        "replicationcontrollers",
        "ReplicationController",
        short_names=("rc",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _apps(
        "deployments",
        "Deployment",
        short_names=("deploy",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _apps(
        "statefulsets",
        "StatefulSet",
        short_names=("sts",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _apps("daemonsets", "DaemonSet", short_names=("ds",), categories=("all",), subresources=("status",)),
    _apps(
        "replicasets",
        "ReplicaSet",
        short_names=("rs",),
        categories=("all",),
        subresources=("status", "scale"),
    ),
    _apps("controllerrevisions", "ControllerRevision"),
    Kind(
        "batch",
        "v1",
        "jobs",
        "Job",
        categories=("all",),
        subresources=("status",),
        schema_package="io.k8s.api.batch.v1",
    ),
    Kind(
        "batch",
        "v1",
        "cronjobs",
        "CronJob",
        short_names=("cj",),
        categories=("all",),
        subresources=("status",),
        schema_package="io.k8s.api.batch.v1",
    ),
    Kind(
        "networking.k8s.io",
        "v1",
        "ingresses",
        "Ingress",
        short_names=("ing",),
        subresources=("status",),
        schema_package="io.k8s.api.networking.v1",
    ),
    Kind(
        "authentication.k8s.io",
        "v1",
        "selfsubjectreviews",
        "SelfSubjectReview",
        namespaced=False,
        verbs=("create",),
        schema_package="io.k8s.api.authentication.v1",
        stored=False,
    ),
    Kind(
        "authorization.k8s.io",
        "v1",
        "selfsubjectaccessreviews",
        "SelfSubjectAccessReview",
        namespaced=False,
        verbs=("create",),
        schema_package="io.k8s.api.authorization.v1",
        stored=False,
    ),
    Kind(
        "authorization.k8s.io",
        "v1",
        "selfsubjectrulesreviews",
        "SelfSubjectRulesReview",
        namespaced=False,
        verbs=("create",),
        schema_package="io.k8s.api.authorization.v1",
        stored=False,
    ),
)

# Preferred order of groups in discovery (as a real server lists them).
GROUP_ORDER = ("", "apps", "authentication.k8s.io", "authorization.k8s.io", "batch", "networking.k8s.io")


def by_path(group: str, version: str, resource: str) -> Kind | None:
    for kind in KINDS:
        if (kind.group, kind.version, kind.resource) == (group, version, resource):
            return kind
    return None


def by_kind(api_version: str, kind_name: str) -> Kind | None:
    for kind in KINDS:
        if kind.api_version == api_version and kind.kind == kind_name:
            return kind
    return None


def group_versions() -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for group in GROUP_ORDER:
        for kind in KINDS:
            if kind.group == group and (kind.group, kind.version) not in seen:
                seen.append((kind.group, kind.version))
    return seen


def kinds_in(group: str, version: str) -> list[Kind]:
    return [kind for kind in KINDS if kind.group == group and kind.version == version]


# Strategic-merge metadata for lists, by field name (and, for `ports`, by where it sits).
# Used by the patch code and written into the OpenAPI documents kubectl reads.
# name -> (merge key or None for a set of primitives, strategy)
LIST_MERGE_KEYS: dict[str, tuple[str | None, str]] = {
    "containers": ("name", "merge"),
    "initContainers": ("name", "merge"),
    "ephemeralContainers": ("name", "merge"),
    "env": ("name", "merge"),
    "volumes": ("name", "merge,retainKeys"),
    "volumeMounts": ("mountPath", "merge"),
    "volumeDevices": ("devicePath", "merge"),
    "imagePullSecrets": ("name", "merge"),
    "hostAliases": ("ip", "merge"),
    "ownerReferences": ("uid", "merge"),
    "finalizers": (None, "merge"),
    "conditions": ("type", "merge"),
    "topologySpreadConstraints": ("topologyKey", "merge"),
    "resourceClaims": ("name", "merge"),
    "schedulingGates": ("name", "merge"),
    "resizePolicy": ("resourceName", "merge"),
    "ports": ("port", "merge"),  # ServicePort; container ports use containerPort (see merge_key_for)
}
# Maps whose strategy is retainKeys (the union "type" fields of these are replaced, not merged).
RETAIN_KEYS_FIELDS = {"strategy", "updateStrategy"}


def merge_key_for(path: tuple[str, ...], name: str) -> tuple[str | None, str] | None:
    """Strategic-merge (mergeKey, strategy) of the list `name` under `path`, or None for an atomic list."""
    if name == "ports" and path and path[-1] in ("containers", "initContainers", "ephemeralContainers"):
        return ("containerPort", "merge")
    if name == "conditions" and "status" not in path:
        return None
    return LIST_MERGE_KEYS.get(name)
