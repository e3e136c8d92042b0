"""Hand-written OpenAPI v3 schemas for the served kinds: field names as in Kubernetes 1.36, strategic-merge
metadata (x-kubernetes-patch-merge-key / -strategy) on the lists kubectl merges by key, and
x-kubernetes-group-version-kind on each top-level kind. Objects described loosely carry
x-kubernetes-preserve-unknown-fields so that strict field validation does not reject real fields."""

from typing import Any

from .resources import KINDS, LIST_MERGE_KEYS

CORE = "io.k8s.api.core.v1"
APPS = "io.k8s.api.apps.v1"
BATCH = "io.k8s.api.batch.v1"
NET = "io.k8s.api.networking.v1"
META = "io.k8s.apimachinery.pkg.apis.meta.v1"
INTSTR = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"


def ref(name: str) -> dict:
    return {"allOf": [{"$ref": f"#/components/schemas/{name}"}]}


def string() -> dict:
    return {"type": "string", "default": ""}


def integer() -> dict:
    return {"type": "integer", "format": "int32"}


def int64() -> dict:
    return {"type": "integer", "format": "int64"}


def boolean() -> dict:
    return {"type": "boolean"}


def string_map() -> dict:
    return {"type": "object", "additionalProperties": {"type": "string", "default": ""}}


def strings() -> dict:
    return {"type": "array", "items": {"type": "string", "default": ""}, "x-kubernetes-list-type": "atomic"}


def loose(description: str = "") -> dict:
    return {"type": "object", "description": description, "x-kubernetes-preserve-unknown-fields": True}


def time() -> dict:
    return ref(f"{META}.Time")


def array(items: dict, field: str, *, merge: bool = True, merge_key: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "array", "items": items}
    known = LIST_MERGE_KEYS.get(field) if merge else None
    if merge_key is not None:
        known = (merge_key, "merge")
    if known is not None:
        key, strategy = known
        if key is not None:
            schema["x-kubernetes-patch-merge-key"] = key
            schema["x-kubernetes-list-type"] = "map"
            schema["x-kubernetes-list-map-keys"] = [key]
        else:
            schema["x-kubernetes-list-type"] = "set"
        schema["x-kubernetes-patch-strategy"] = strategy
    else:
        schema["x-kubernetes-list-type"] = "atomic"
    return schema


def obj(properties: dict, required: tuple[str, ...] = (), **extensions) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    schema.update({key.replace("_", "-"): value for key, value in extensions.items()})
    return schema


def top(kind: str, group: str, version: str, properties: dict, required: tuple[str, ...] = ()) -> dict:
    schema = obj(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {**ref(f"{META}.ObjectMeta"), "default": {}},
            **properties,
        },
        required,
    )
    schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
    return schema


def list_of(kind: str, group: str, version: str, item: str) -> dict:
    schema = obj(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {**ref(f"{META}.ListMeta"), "default": {}},
            "items": {"type": "array", "items": {**ref(item), "default": {}}},
        },
        ("items",),
    )
    schema["x-kubernetes-group-version-kind"] = [{"group": group, "kind": kind, "version": version}]
    return schema


def _meta_schemas() -> dict:
    return {
        f"{META}.Time": {"type": "string", "format": "date-time"},
        f"{META}.MicroTime": {"type": "string", "format": "date-time"},
        INTSTR: {"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": True},
        QUANTITY: {"type": "string", "format": "quantity", "x-kubernetes-int-or-string": True},
        f"{META}.ObjectMeta": obj(
            {
                "name": {"type": "string"},
                "generateName": {"type": "string"},
                "namespace": {"type": "string"},
                "selfLink": {"type": "string"},
                "uid": {"type": "string"},
                "resourceVersion": {"type": "string"},
                "generation": int64(),
                "creationTimestamp": time(),
                "deletionTimestamp": time(),
                "deletionGracePeriodSeconds": int64(),
                "labels": string_map(),
                "annotations": string_map(),
                "ownerReferences": array({**ref(f"{META}.OwnerReference"), "default": {}}, "ownerReferences"),
                "finalizers": array({"type": "string", "default": ""}, "finalizers"),
                "managedFields": {
                    "type": "array",
                    "items": {**ref(f"{META}.ManagedFieldsEntry"), "default": {}},
                    "x-kubernetes-list-type": "atomic",
                },
            }
        ),
        f"{META}.ListMeta": obj(
            {
                "selfLink": {"type": "string"},
                "resourceVersion": {"type": "string"},
                "continue": {"type": "string"},
                "remainingItemCount": int64(),
            }
        ),
        f"{META}.OwnerReference": obj(
            {
                "apiVersion": string(),
                "kind": string(),
                "name": string(),
                "uid": string(),
                "controller": boolean(),
                "blockOwnerDeletion": boolean(),
            },
            ("apiVersion", "kind", "name", "uid"),
            x_kubernetes_map_type="atomic",
        ),
        f"{META}.ManagedFieldsEntry": loose("managed fields"),
        f"{META}.LabelSelector": obj(
            {
                "matchLabels": string_map(),
                "matchExpressions": {
                    "type": "array",
                    "items": {**ref(f"{META}.LabelSelectorRequirement"), "default": {}},
                    "x-kubernetes-list-type": "atomic",
                },
            },
            x_kubernetes_map_type="atomic",
        ),
        f"{META}.LabelSelectorRequirement": obj(
            {"key": string(), "operator": string(), "values": strings()}, ("key", "operator")
        ),
        f"{META}.Status": obj(
            {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {**ref(f"{META}.ListMeta"), "default": {}},
                "status": {"type": "string"},
                "message": {"type": "string"},
                "reason": {"type": "string"},
                "details": loose(),
                "code": integer(),
            }
        ),
        f"{META}.DeleteOptions": loose("DeleteOptions"),
        f"{META}.Patch": {
            "type": "object",
            "description": "Patch is provided to give a concrete name and type",
        },
    }


def _container() -> dict:
    return obj(
        {
            "name": string(),
            "image": {"type": "string"},
            "command": strings(),
            "args": strings(),
            "workingDir": {"type": "string"},
            "ports": array(
                {**ref(f"{CORE}.ContainerPort"), "default": {}}, "ports", merge_key="containerPort"
            ),
            "envFrom": {"type": "array", "items": loose("EnvFromSource"), "x-kubernetes-list-type": "atomic"},
            "env": array({**ref(f"{CORE}.EnvVar"), "default": {}}, "env"),
            "resources": {**ref(f"{CORE}.ResourceRequirements"), "default": {}},
            "resizePolicy": array(loose("ContainerResizePolicy"), "resizePolicy"),
            "restartPolicy": {"type": "string"},
            "restartPolicyRules": {"type": "array", "items": loose(), "x-kubernetes-list-type": "atomic"},
            "volumeMounts": array({**ref(f"{CORE}.VolumeMount"), "default": {}}, "volumeMounts"),
            "volumeDevices": array(loose("VolumeDevice"), "volumeDevices"),
            "livenessProbe": loose("Probe"),
            "readinessProbe": loose("Probe"),
            "startupProbe": loose("Probe"),
            "lifecycle": loose("Lifecycle"),
            "terminationMessagePath": {"type": "string"},
            "terminationMessagePolicy": {"type": "string"},
            "imagePullPolicy": {"type": "string"},
            "securityContext": loose("SecurityContext"),
            "stdin": boolean(),
            "stdinOnce": boolean(),
            "tty": boolean(),
        },
        ("name",),
    )


def _pod_spec() -> dict:
    containers = {**ref(f"{CORE}.Container"), "default": {}}
    return obj(
        {
            "volumes": array(loose("Volume"), "volumes"),
            "initContainers": array(containers, "initContainers"),
            "containers": array(containers, "containers"),
            "ephemeralContainers": array(loose("EphemeralContainer"), "ephemeralContainers"),
            "restartPolicy": {"type": "string"},
            "terminationGracePeriodSeconds": int64(),
            "activeDeadlineSeconds": int64(),
            "dnsPolicy": {"type": "string"},
            "nodeSelector": {**string_map(), "x-kubernetes-map-type": "atomic"},
            "serviceAccountName": {"type": "string"},
            "serviceAccount": {"type": "string"},
            "automountServiceAccountToken": boolean(),
            "nodeName": {"type": "string"},
            "hostNetwork": boolean(),
            "hostPID": boolean(),
            "hostIPC": boolean(),
            "shareProcessNamespace": boolean(),
            "securityContext": loose("PodSecurityContext"),
            "imagePullSecrets": array(loose("LocalObjectReference"), "imagePullSecrets"),
            "hostname": {"type": "string"},
            "hostnameOverride": {"type": "string"},
            "subdomain": {"type": "string"},
            "affinity": loose("Affinity"),
            "schedulerName": {"type": "string"},
            "tolerations": {
                "type": "array",
                "items": loose("Toleration"),
                "x-kubernetes-list-type": "atomic",
            },
            "hostAliases": array(loose("HostAlias"), "hostAliases"),
            "priorityClassName": {"type": "string"},
            "priority": integer(),
            "dnsConfig": loose("PodDNSConfig"),
            "readinessGates": {"type": "array", "items": loose(), "x-kubernetes-list-type": "atomic"},
            "runtimeClassName": {"type": "string"},
            "enableServiceLinks": boolean(),
            "preemptionPolicy": {"type": "string"},
            "overhead": {"type": "object", "additionalProperties": ref(QUANTITY)},
            "topologySpreadConstraints": array(
                loose("TopologySpreadConstraint"), "topologySpreadConstraints"
            ),
            "setHostnameAsFQDN": boolean(),
            "os": loose("PodOS"),
            "hostUsers": boolean(),
            "schedulingGates": array(loose("PodSchedulingGate"), "schedulingGates"),
            "resourceClaims": array(loose("PodResourceClaim"), "resourceClaims"),
            "resources": {**ref(f"{CORE}.ResourceRequirements")},
        },
        ("containers",),
    )


def _loose_kind(kind: str, properties: dict) -> dict:
    """A core kind described only at the top (its spec and status accept anything)."""
    return {
        f"{CORE}.{kind}": top(kind, "", "v1", properties),
        f"{CORE}.{kind}List": list_of(f"{kind}List", "", "v1", f"{CORE}.{kind}"),
    }


def _core_schemas() -> dict:
    return {
        f"{CORE}.Container": _container(),
        f"{CORE}.ContainerPort": obj(
            {
                "name": {"type": "string"},
                "hostPort": integer(),
                "containerPort": {**integer(), "default": 0},
                "protocol": {"type": "string", "default": "TCP"},
                "hostIP": {"type": "string"},
            },
            ("containerPort",),
        ),
        f"{CORE}.EnvVar": obj(
            {"name": string(), "value": {"type": "string"}, "valueFrom": loose("EnvVarSource")}, ("name",)
        ),
        f"{CORE}.VolumeMount": obj(
            {
                "name": string(),
                "readOnly": boolean(),
                "recursiveReadOnly": {"type": "string"},
                "mountPath": string(),
                "subPath": {"type": "string"},
                "mountPropagation": {"type": "string"},
                "subPathExpr": {"type": "string"},
            },
            ("name", "mountPath"),
        ),
        f"{CORE}.ResourceRequirements": obj(
            {
                "limits": {"type": "object", "additionalProperties": ref(QUANTITY)},
                "requests": {"type": "object", "additionalProperties": ref(QUANTITY)},
                "claims": array(loose("ResourceClaim"), "claims", merge_key="name"),
            }
        ),
        f"{CORE}.PodSpec": _pod_spec(),
        f"{CORE}.PodTemplateSpec": obj(
            {
                "metadata": {**ref(f"{META}.ObjectMeta"), "default": {}},
                "spec": {**ref(f"{CORE}.PodSpec"), "default": {}},
            }
        ),
        f"{CORE}.Pod": top(
            "Pod",
            "",
            "v1",
            {"spec": {**ref(f"{CORE}.PodSpec"), "default": {}}, "status": loose("PodStatus")},
        ),
        f"{CORE}.PodList": list_of("PodList", "", "v1", f"{CORE}.Pod"),
        f"{CORE}.ConfigMap": top(
            "ConfigMap",
            "",
            "v1",
            {
                "data": string_map(),
                "binaryData": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "byte"},
                },
                "immutable": boolean(),
            },
        ),
        f"{CORE}.ConfigMapList": list_of("ConfigMapList", "", "v1", f"{CORE}.ConfigMap"),
        f"{CORE}.Secret": top(
            "Secret",
            "",
            "v1",
            {
                "data": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                "stringData": string_map(),
                "type": {"type": "string"},
                "immutable": boolean(),
            },
        ),
        f"{CORE}.SecretList": list_of("SecretList", "", "v1", f"{CORE}.Secret"),
        f"{CORE}.ServicePort": obj(
            {
                "name": {"type": "string"},
                "protocol": {"type": "string", "default": "TCP"},
                "appProtocol": {"type": "string"},
                "port": {**integer(), "default": 0},
                "targetPort": ref(INTSTR),
                "nodePort": integer(),
            },
            ("port",),
        ),
        f"{CORE}.ServiceSpec": obj(
            {
                "ports": {
                    **array({**ref(f"{CORE}.ServicePort"), "default": {}}, "ports", merge_key="port"),
                    "x-kubernetes-list-map-keys": ["port", "protocol"],
                },
                "selector": {**string_map(), "x-kubernetes-map-type": "atomic"},
                "clusterIP": {"type": "string"},
                "clusterIPs": strings(),
                "type": {"type": "string"},
                "externalIPs": strings(),
                "sessionAffinity": {"type": "string"},
                "loadBalancerIP": {"type": "string"},
                "loadBalancerSourceRanges": strings(),
                "externalName": {"type": "string"},
                "externalTrafficPolicy": {"type": "string"},
                "healthCheckNodePort": integer(),
                "publishNotReadyAddresses": boolean(),
                "sessionAffinityConfig": loose("SessionAffinityConfig"),
                "ipFamilies": strings(),
                "ipFamilyPolicy": {"type": "string"},
                "allocateLoadBalancerNodePorts": boolean(),
                "loadBalancerClass": {"type": "string"},
                "internalTrafficPolicy": {"type": "string"},
                "trafficDistribution": {"type": "string"},
            }
        ),
        f"{CORE}.Service": top(
            "Service",
            "",
            "v1",
            {"spec": {**ref(f"{CORE}.ServiceSpec"), "default": {}}, "status": loose("ServiceStatus")},
        ),
        f"{CORE}.ServiceList": list_of("ServiceList", "", "v1", f"{CORE}.Service"),
        f"{CORE}.ServiceAccount": top(
            "ServiceAccount",
            "",
            "v1",
            {
                "secrets": array(loose("ObjectReference"), "secrets", merge_key="name"),
                "imagePullSecrets": {"type": "array", "items": loose(), "x-kubernetes-list-type": "atomic"},
                "automountServiceAccountToken": boolean(),
            },
        ),
        f"{CORE}.ServiceAccountList": list_of("ServiceAccountList", "", "v1", f"{CORE}.ServiceAccount"),
        f"{CORE}.Namespace": top(
            "Namespace",
            "",
            "v1",
            {"spec": obj({"finalizers": strings()}), "status": loose("NamespaceStatus")},
        ),
        f"{CORE}.NamespaceList": list_of("NamespaceList", "", "v1", f"{CORE}.Namespace"),
        f"{CORE}.Event": {
            **loose("Event"),
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "Event", "version": "v1"}],
        },
        f"{CORE}.EventList": list_of("EventList", "", "v1", f"{CORE}.Event"),
        **_loose_kind(
            "Endpoints", {"subsets": {"type": "array", "items": loose(), "x-kubernetes-list-type": "atomic"}}
        ),
        **_loose_kind("PersistentVolumeClaim", {"spec": loose("spec"), "status": loose("status")}),
        **_loose_kind("PersistentVolume", {"spec": loose("spec"), "status": loose("status")}),
        **_loose_kind("ReplicationController", {"spec": loose("spec"), "status": loose("status")}),
    }


def _apps_schemas() -> dict:
    template = {**ref(f"{CORE}.PodTemplateSpec"), "default": {}}
    selector = ref(f"{META}.LabelSelector")
    rolling = loose("rolling update parameters")
    status = loose("status")
    return {
        f"{APPS}.DeploymentSpec": obj(
            {
                "replicas": integer(),
                "selector": selector,
                "template": template,
                "strategy": {
                    **obj({"type": {"type": "string"}, "rollingUpdate": rolling}),
                    "x-kubernetes-patch-strategy": "retainKeys",
                    "default": {},
                },
                "minReadySeconds": integer(),
                "revisionHistoryLimit": integer(),
                "paused": boolean(),
                "progressDeadlineSeconds": integer(),
            },
            ("selector", "template"),
        ),
        f"{APPS}.Deployment": top(
            "Deployment",
            "apps",
            "v1",
            {"spec": {**ref(f"{APPS}.DeploymentSpec"), "default": {}}, "status": status},
        ),
        f"{APPS}.DeploymentList": list_of("DeploymentList", "apps", "v1", f"{APPS}.Deployment"),
        f"{APPS}.StatefulSetSpec": obj(
            {
                "replicas": integer(),
                "selector": selector,
                "template": template,
                "volumeClaimTemplates": {
                    "type": "array",
                    "items": loose("PersistentVolumeClaim"),
                    "x-kubernetes-list-type": "atomic",
                },
                "serviceName": {"type": "string"},
                "podManagementPolicy": {"type": "string"},
                "updateStrategy": {
                    **obj({"type": {"type": "string"}, "rollingUpdate": rolling}),
                    "x-kubernetes-patch-strategy": "retainKeys",
                    "default": {},
                },
                "revisionHistoryLimit": integer(),
                "minReadySeconds": integer(),
                "persistentVolumeClaimRetentionPolicy": loose(),
                "ordinals": loose(),
            },
            ("selector", "template"),
        ),
        f"{APPS}.StatefulSet": top(
            "StatefulSet",
            "apps",
            "v1",
            {"spec": {**ref(f"{APPS}.StatefulSetSpec"), "default": {}}, "status": status},
        ),
        f"{APPS}.StatefulSetList": list_of("StatefulSetList", "apps", "v1", f"{APPS}.StatefulSet"),
        f"{APPS}.DaemonSetSpec": obj(
            {
                "selector": selector,
                "template": template,
                "updateStrategy": {
                    **obj({"type": {"type": "string"}, "rollingUpdate": rolling}),
                    "default": {},
                },
                "minReadySeconds": integer(),
                "revisionHistoryLimit": integer(),
            },
            ("selector", "template"),
        ),
        f"{APPS}.DaemonSet": top(
            "DaemonSet",
            "apps",
            "v1",
            {"spec": {**ref(f"{APPS}.DaemonSetSpec"), "default": {}}, "status": status},
        ),
        f"{APPS}.DaemonSetList": list_of("DaemonSetList", "apps", "v1", f"{APPS}.DaemonSet"),
        f"{APPS}.ReplicaSetSpec": obj(
            {"replicas": integer(), "minReadySeconds": integer(), "selector": selector, "template": template},
            ("selector",),
        ),
        f"{APPS}.ReplicaSet": top(
            "ReplicaSet",
            "apps",
            "v1",
            {"spec": {**ref(f"{APPS}.ReplicaSetSpec"), "default": {}}, "status": status},
        ),
        f"{APPS}.ReplicaSetList": list_of("ReplicaSetList", "apps", "v1", f"{APPS}.ReplicaSet"),
        f"{APPS}.ControllerRevision": top(
            "ControllerRevision", "apps", "v1", {"data": loose(), "revision": int64()}, ("revision",)
        ),
        f"{APPS}.ControllerRevisionList": list_of(
            "ControllerRevisionList", "apps", "v1", f"{APPS}.ControllerRevision"
        ),
    }


def _batch_schemas() -> dict:
    template = {**ref(f"{CORE}.PodTemplateSpec"), "default": {}}
    job_spec = obj(
        {
            "parallelism": integer(),
            "completions": integer(),
            "activeDeadlineSeconds": int64(),
            "podFailurePolicy": loose(),
            "successPolicy": loose(),
            "backoffLimit": integer(),
            "backoffLimitPerIndex": integer(),
            "maxFailedIndexes": integer(),
            "selector": ref(f"{META}.LabelSelector"),
            "manualSelector": boolean(),
            "template": template,
            "ttlSecondsAfterFinished": integer(),
            "completionMode": {"type": "string"},
            "suspend": boolean(),
            "podReplacementPolicy": {"type": "string"},
            "managedBy": {"type": "string"},
        },
        ("template",),
    )
    return {
        f"{BATCH}.JobSpec": job_spec,
        f"{BATCH}.Job": top(
            "Job", "batch", "v1", {"spec": {**ref(f"{BATCH}.JobSpec"), "default": {}}, "status": loose()}
        ),
        f"{BATCH}.JobList": list_of("JobList", "batch", "v1", f"{BATCH}.Job"),
        f"{BATCH}.CronJobSpec": obj(
            {
                "schedule": string(),
                "timeZone": {"type": "string"},
                "startingDeadlineSeconds": int64(),
                "concurrencyPolicy": {"type": "string"},
                "suspend": boolean(),
                "jobTemplate": {
                    **obj(
                        {
                            "metadata": {**ref(f"{META}.ObjectMeta"), "default": {}},
                            "spec": {**ref(f"{BATCH}.JobSpec"), "default": {}},
                        }
                    ),
                    "default": {},
                },
                "successfulJobsHistoryLimit": integer(),
                "failedJobsHistoryLimit": integer(),
            },
            ("schedule", "jobTemplate"),
        ),
        f"{BATCH}.CronJob": top(
            "CronJob",
            "batch",
            "v1",
            {"spec": {**ref(f"{BATCH}.CronJobSpec"), "default": {}}, "status": loose()},
        ),
        f"{BATCH}.CronJobList": list_of("CronJobList", "batch", "v1", f"{BATCH}.CronJob"),
    }


def _networking_schemas() -> dict:
    backend = loose("IngressBackend")
    return {
        f"{NET}.IngressSpec": obj(
            {
                "ingressClassName": {"type": "string"},
                "defaultBackend": backend,
                "tls": {"type": "array", "items": loose("IngressTLS"), "x-kubernetes-list-type": "atomic"},
                "rules": {
                    "type": "array",
                    "items": obj(
                        {
                            "host": {"type": "string"},
                            "http": obj(
                                {
                                    "paths": {
                                        "type": "array",
                                        "items": obj(
                                            {
                                                "path": {"type": "string"},
                                                "pathType": string(),
                                                "backend": backend,
                                            },
                                            ("pathType", "backend"),
                                        ),
                                        "x-kubernetes-list-type": "atomic",
                                    }
                                },
                                ("paths",),
                            ),
                        }
                    ),
                    "x-kubernetes-list-type": "atomic",
                },
            }
        ),
        f"{NET}.Ingress": top(
            "Ingress",
            "networking.k8s.io",
            "v1",
            {"spec": {**ref(f"{NET}.IngressSpec"), "default": {}}, "status": loose()},
        ),
        f"{NET}.IngressList": list_of("IngressList", "networking.k8s.io", "v1", f"{NET}.Ingress"),
    }


def _review_schemas() -> dict:
    authn = "io.k8s.api.authentication.v1"
    authz = "io.k8s.api.authorization.v1"
    return {
        f"{authn}.SelfSubjectReview": top(
            "SelfSubjectReview", "authentication.k8s.io", "v1", {"status": loose("userInfo")}
        ),
        f"{authz}.SelfSubjectAccessReview": top(
            "SelfSubjectAccessReview",
            "authorization.k8s.io",
            "v1",
            {
                "spec": obj({"resourceAttributes": loose(), "nonResourceAttributes": loose()}),
                "status": loose(),
            },
            ("spec",),
        ),
        f"{authz}.SelfSubjectRulesReview": top(
            "SelfSubjectRulesReview",
            "authorization.k8s.io",
            "v1",
            {"spec": obj({"namespace": {"type": "string"}}), "status": loose()},
            ("spec",),
        ),
    }


def all_schemas() -> dict:
    schemas: dict = {}
    for part in (
        _meta_schemas,
        _core_schemas,
        _apps_schemas,
        _batch_schemas,
        _networking_schemas,
        _review_schemas,
    ):
        schemas.update(part())
    missing = [kind.schema_name for kind in KINDS if kind.schema_name not in schemas]
    if missing:
        raise AssertionError(f"no schema for {missing}")
    return schemas
