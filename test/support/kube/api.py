"""What the API server does with objects: defaulting, validation, create/update/patch/delete, lists and
tables. Watches are streamed by server.py from the store's event history."""

import copy
import datetime
import json
import random
import string
import threading
import uuid
from typing import Any

import yaml

from . import errors, openapi, patch
from .resources import Kind, by_path
from .selectors import field_matcher, label_matcher
from .store import Conflict, Store

NAMESPACES = by_path("", "v1", "namespaces")
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
WORKLOADS = ("deployments", "statefulsets", "daemonsets", "replicasets")
# Kinds whose metadata.generation counts spec changes (ConfigMaps, Secrets, Services have none).
GENERATION_RESOURCES = (*WORKLOADS, "jobs", "cronjobs", "ingresses", "pods")


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _age(timestamp: str | None) -> str:
    if not timestamp:
        return "<unknown>"
    created = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)
    seconds = int((datetime.datetime.now(datetime.UTC) - created).total_seconds())
    if seconds < 120:
        return f"{max(seconds, 0)}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


class Api:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._applied: dict[tuple, Any] = {}  # (group, resource, namespace, name, manager) -> last applied
        self._lock = threading.RLock()  # one writer at a time: read-modify-write stays consistent
        self._cluster_ips = 1
        for name in SYSTEM_NAMESPACES:
            self.store.put(NAMESPACES, self._new_namespace(name))

    def _new_namespace(self, name: str) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": name,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": now(),
                "labels": {"kubernetes.io/metadata.name": name},
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"},
        }

    # ------------------------------------------------------------ reads

    def get(self, kind: Kind, namespace: str | None, name: str) -> dict:
        found = self.store.get(kind, namespace, name)
        if found is None:
            raise errors.not_found(kind, name)
        return found

    def list_objects(self, kind: Kind, namespace: str | None, query: dict) -> dict:
        items, version = self.store.list(kind, namespace)
        items = self.filter_items(items, query)
        return {
            "kind": f"{kind.kind}List",
            "apiVersion": kind.api_version,
            "metadata": {"resourceVersion": str(version)},
            "items": items,
        }

    @staticmethod
    def filter_items(items: list[dict], query: dict) -> list[dict]:
        labels = label_matcher(query.get("labelSelector"))
        fields = field_matcher(query.get("fieldSelector"))
        return [item for item in items if labels(item["metadata"].get("labels")) and fields(item)]

    # ------------------------------------------------------------ writes

    def create(
        self,
        kind: Kind,
        namespace: str | None,
        body: Any,
        query: dict,
        operation: str = "Update",
        manager: str | None = None,
    ) -> tuple[int, dict, list[str]]:
        with self._lock:
            obj = self._check_body(kind, namespace, body)
            metadata = obj["metadata"]
            if not metadata.get("name"):
                if metadata.get("generateName"):
                    suffix = "".join(random.choices(string.ascii_lowercase + string.digits, k=5))
                    metadata["name"] = metadata["generateName"] + suffix
                else:
                    raise errors.invalid(
                        kind, "", [("metadata.name", "Required value: name or generateName is required")]
                    )
            name = metadata["name"]
            if kind.namespaced:
                self._require_namespace(metadata["namespace"])
            warnings = self._field_validation(kind, obj, query)
            if self.store.get(kind, metadata.get("namespace"), name) is not None:
                raise errors.already_exists(kind, name)
            for key in (
                "uid",
                "resourceVersion",
                "generation",
                "creationTimestamp",
                "deletionTimestamp",
                "selfLink",
            ):
                metadata.pop(key, None)
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = now()
            if kind.resource in GENERATION_RESOURCES:
                metadata["generation"] = 1
            self._default(kind, obj)
            if "status" in kind.subresources:
                obj["status"] = self._initial_status(kind, obj)
            self._validate(kind, obj, None)
            self._manage(obj, kind, manager or query.get("fieldManager") or "unknown", operation)
            if self._dry_run(query):
                return 201, obj, warnings
            return 201, self.store.put(kind, obj), warnings

    def update(
        self, kind: Kind, namespace: str | None, name: str, body: Any, query: dict, subresource: str | None
    ) -> tuple[int, dict, list[str]]:
        with self._lock:
            obj = self._check_body(kind, namespace, body)
            if obj["metadata"].get("name") != name:
                raise errors.bad_request("the name of the object does not match the name on the URL")
            existing = self.get(kind, namespace, name)
            wanted_version = obj["metadata"].get("resourceVersion")
            if wanted_version and wanted_version != existing["metadata"]["resourceVersion"]:
                raise errors.conflict(kind, name)
            warnings = self._field_validation(kind, obj, query)
            return self._replace(kind, existing, obj, query, subresource, "Update", warnings)

    def patch(
        self,
        kind: Kind,
        namespace: str | None,
        name: str,
        content_type: str,
        raw: bytes,
        query: dict,
        subresource: str | None,
    ) -> tuple[int, dict, list[str]]:
        media = content_type.split(";")[0].strip()
        with self._lock:
            existing = self.store.get(kind, namespace, name)
            try:
                if media == "application/apply-patch+yaml":
                    document = yaml.safe_load(raw.decode() or "{}")
                else:
                    document = json.loads(raw or b"null")
            except (ValueError, yaml.YAMLError) as error:
                raise errors.bad_request(f"error decoding patch: {error}") from None
            if media == "application/apply-patch+yaml":
                return self._server_side_apply(kind, namespace, name, existing, document, query, subresource)
            if existing is None:
                raise errors.not_found(kind, name)
            base = copy.deepcopy(existing)
            try:
                if media == "application/strategic-merge-patch+json":
                    patched = patch.strategic_merge_patch(base, document)
                elif media == "application/merge-patch+json":
                    patched = patch.merge_patch(base, document)
                elif media == "application/json-patch+json":
                    patched = patch.json_patch(base, document)
                else:
                    raise errors.ApiError(
                        415,
                        "UnsupportedMediaType",
                        f"the body of the request was in an unknown format - accepted media types include: {', '.join(openapi.PATCH_TYPES)}",
                    )
            except patch.PatchError as error:
                raise errors.ApiError(422, "Invalid", str(error)) from None
            if not isinstance(patched, dict):
                raise errors.bad_request("the patch did not result in an object")
            patched.setdefault("metadata", {})
            wanted_version = (
                (document.get("metadata") or {}).get("resourceVersion")
                if isinstance(document, dict)
                else None
            )
            if wanted_version and wanted_version != existing["metadata"]["resourceVersion"]:
                raise errors.conflict(kind, name)
            patched["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
            obj = self._check_body(kind, namespace, patched)
            warnings = self._field_validation(kind, obj, query)
            return self._replace(kind, existing, obj, query, subresource, "Update", warnings)

    def _server_side_apply(self, kind, namespace, name, existing, document, query, subresource):
        manager = query.get("fieldManager")
        if not manager:
            raise errors.ApiError(
                422,
                "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch',
            )
        if not isinstance(document, dict):
            raise errors.bad_request("apply patch must be an object")
        applied = self._check_body(kind, namespace, document)
        if applied["metadata"].get("name") != name:
            raise errors.bad_request("the name of the object does not match the name on the URL")
        warnings = self._field_validation(kind, applied, query)
        key = (kind.group, kind.resource, applied["metadata"].get("namespace"), name, manager)
        if existing is None:
            if subresource:
                raise errors.not_found(kind, name)
            _, created, _ = self.create(
                kind,
                namespace,
                applied,
                {**query, "fieldValidation": "Ignore"},
                operation="Apply",
                manager=manager,
            )
            if not self._dry_run(query):
                self._applied[key] = applied
            return 201, created, warnings
        last = self._applied.get(key)
        try:
            merged = patch.apply_configuration(existing, last, applied)
        except patch.PatchError as error:
            raise errors.ApiError(422, "Invalid", str(error)) from None
        merged["metadata"]["resourceVersion"] = existing["metadata"]["resourceVersion"]
        code, result, _ = self._replace(
            kind, existing, merged, query, subresource, "Apply", [], manager=manager
        )
        if not self._dry_run(query):
            self._applied[key] = applied
        return code, result, warnings

    def _replace(self, kind, existing, obj, query, subresource, operation, warnings, manager=None):
        name = existing["metadata"]["name"]
        metadata = obj["metadata"]
        for key in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
            if key in existing["metadata"]:
                metadata[key] = existing["metadata"][key]
            else:
                metadata.pop(key, None)
        if subresource == "status":
            updated = copy.deepcopy(existing)
            updated["status"] = obj.get("status", {})
            obj = updated
        elif subresource is not None:
            raise errors.not_found(kind, f"{name}/{subresource}")
        else:
            if "status" in kind.subresources:
                obj["status"] = copy.deepcopy(existing.get("status", {}))
            self._default(kind, obj)
            self._validate(kind, obj, existing)
            if kind.resource in GENERATION_RESOURCES and self._spec_of(obj) != self._spec_of(existing):
                metadata["generation"] = existing["metadata"].get("generation", 1) + 1
        if _without_managed_fields(obj) == _without_managed_fields(existing):
            return 200, existing, warnings  # a no-op: no new resourceVersion, no watch event
        self._manage(obj, kind, manager or query.get("fieldManager") or "unknown", operation)
        if self._dry_run(query):
            return 200, obj, warnings
        try:
            stored = self.store.put(kind, obj, expect_version=existing["metadata"]["resourceVersion"])
        except Conflict:
            raise errors.conflict(kind, name) from None
        return 200, stored, warnings

    def delete(
        self, kind: Kind, namespace: str | None, name: str, query: dict, options: dict
    ) -> tuple[int, dict]:
        with self._lock:
            existing = self.get(kind, namespace, name)
            preconditions = options.get("preconditions") or {}
            if preconditions.get("uid") and preconditions["uid"] != existing["metadata"]["uid"]:
                raise errors.conflict(kind, name)
            details = {
                "name": name,
                "group": kind.group,
                "kind": kind.resource,
                "uid": existing["metadata"]["uid"],
            }
            if self._dry_run(query) or "All" in options.get("dryRun", []):
                return 200, errors.success_body(details)
            self._remove(kind, existing)
            if kind.resource == "pods":
                return 200, existing
            return 200, errors.success_body(details)

    def delete_collection(self, kind: Kind, namespace: str | None, query: dict) -> dict:
        with self._lock:
            items, _ = self.store.list(kind, namespace)
            for item in self.filter_items(items, query):
                if not self._dry_run(query):
                    self._remove(kind, item)
            return errors.success_body()

    def _remove(self, kind: Kind, existing: dict) -> None:
        metadata = existing["metadata"]
        self.store.delete(kind, metadata.get("namespace"), metadata["name"])
        for key in [
            key
            for key in self._applied
            if key[:4] == (kind.group, kind.resource, metadata.get("namespace"), metadata["name"])
        ]:
            del self._applied[key]
        if kind.resource == "namespaces":
            from .resources import KINDS

            for other in KINDS:
                if other.namespaced and other.stored:
                    items, _ = self.store.list(other, metadata["name"])
                    for item in items:
                        self._remove(other, item)
        uid = metadata.get("uid")
        if kind.resource in (*WORKLOADS, "jobs"):
            # Garbage collection: what the toy controller made for this object goes too.
            from .resources import KINDS

            for other in KINDS:
                if other.namespaced and other.stored:
                    items, _ = self.store.list(other, metadata.get("namespace"))
                    for item in items:
                        owners = item["metadata"].get("ownerReferences") or []
                        if any(owner.get("uid") == uid for owner in owners):
                            self._remove(other, item)

    # ------------------------------------------------------------ the scale subresource (kubectl scale)

    def scale(self, kind: Kind, namespace: str | None, name: str) -> dict:
        obj = self.get(kind, namespace, name)
        metadata = obj["metadata"]
        selector = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                key: metadata[key]
                for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if key in metadata
            },
            "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
            "status": {
                "replicas": (obj.get("status") or {}).get("replicas", 0),
                "selector": ",".join(f"{key}={value}" for key, value in sorted(selector.items())),
            },
        }

    def patch_scale(self, kind, namespace, name, content_type, raw, query) -> tuple[int, dict]:
        media = content_type.split(";")[0].strip()
        try:
            document = json.loads(raw or b"null")
        except ValueError as error:
            raise errors.bad_request(f"error decoding patch: {error}") from None
        with self._lock:
            current = self.scale(kind, namespace, name)
            try:
                if media == "application/json-patch+json":
                    wanted = patch.json_patch(current, document)
                else:
                    wanted = patch.merge_patch(current, document)
            except patch.PatchError as error:
                raise errors.ApiError(422, "Invalid", str(error)) from None
            return self.update_scale(kind, namespace, name, wanted, query)

    def update_scale(self, kind, namespace, name, document, query) -> tuple[int, dict]:
        replicas = ((document or {}).get("spec") or {}).get("replicas")
        if not isinstance(replicas, int) or replicas < 0:
            raise errors.invalid(kind, name, [("spec.replicas", f"Invalid value: {replicas}: must be >= 0")])
        with self._lock:
            obj = self.get(kind, namespace, name)
            obj["spec"]["replicas"] = replicas
            self._replace(kind, self.get(kind, namespace, name), obj, query, None, "Update", [])
            return 200, self.scale(kind, namespace, name)

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _dry_run(query: dict) -> bool:
        return query.get("dryRun") == "All"

    @staticmethod
    def _spec_of(obj: dict) -> dict:
        return {key: value for key, value in obj.items() if key not in ("metadata", "status")}

    def _require_namespace(self, namespace: str) -> None:
        if self.store.get(NAMESPACES, None, namespace) is None:
            raise errors.not_found(NAMESPACES, namespace)

    def _check_body(self, kind: Kind, namespace: str | None, body: Any) -> dict:
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        obj = copy.deepcopy(body)
        # Like a real server, the endpoint supplies a missing apiVersion or kind.
        api_version = obj.setdefault("apiVersion", kind.api_version) or kind.api_version
        kind_name = obj.setdefault("kind", kind.kind) or kind.kind
        obj["apiVersion"], obj["kind"] = api_version, kind_name
        if api_version != kind.api_version or kind_name != kind.kind:
            raise errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version ({kind.api_version})"
                if api_version != kind.api_version
                else f"the kind in the data ({kind_name}) does not match the expected kind ({kind.kind})"
            )
        metadata = obj.setdefault("metadata", {})
        if not isinstance(metadata, dict):
            raise errors.bad_request("metadata must be an object")
        if kind.namespaced:
            if metadata.get("namespace") and namespace and metadata["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            metadata["namespace"] = namespace or metadata.get("namespace") or "default"
        else:
            metadata.pop("namespace", None)
        return obj

    def _field_validation(self, kind: Kind, obj: dict, query: dict) -> list[str]:
        directive = query.get("fieldValidation", "Warn")
        if directive not in ("Strict", "Warn", "Ignore"):
            raise errors.bad_request(f"fieldValidation parameter unsupported: {directive}")
        # Unknown fields are dropped whatever the directive, as a real server's typed decoding drops them.
        unknown = openapi.unknown_fields(kind, obj, prune=True)
        if directive == "Ignore" or not unknown:
            return []
        messages = [f'unknown field "{field}"' for field in unknown]
        if directive == "Strict":
            text = messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"
            raise errors.bad_request(
                f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: strict decoding error: {text}'
            )
        return messages

    def _manage(self, obj: dict, kind: Kind, manager: str, operation: str) -> None:
        entries = [
            entry
            for entry in obj["metadata"].get("managedFields") or []
            if not (entry.get("manager") == manager and entry.get("operation") == operation)
        ]
        entries.append(
            {
                "manager": manager,
                "operation": operation,
                "apiVersion": kind.api_version,
                "time": now(),
                "fieldsType": "FieldsV1",
                "fieldsV1": {},
            }
        )
        obj["metadata"]["managedFields"] = entries

    def _initial_status(self, kind: Kind, obj: dict) -> dict:
        if kind.resource == "namespaces":
            return {"phase": "Active"}
        if kind.resource == "services":
            return {"loadBalancer": {}}
        if kind.resource == "pods":
            return {"phase": "Pending", "qosClass": "BestEffort"}
        return {}

    # ------------------------------------------------------------ defaulting and validation

    def _default(self, kind: Kind, obj: dict) -> None:
        spec = obj.get("spec")
        if kind.resource == "namespaces":
            obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = obj["metadata"]["name"]
            obj.setdefault("spec", {"finalizers": ["kubernetes"]})
        if not isinstance(spec, dict):
            if kind.resource == "secrets":
                obj.setdefault("type", "Opaque")
                if "stringData" in obj:
                    import base64

                    data = obj.setdefault("data", {})
                    for key, value in obj.pop("stringData").items():
                        data[key] = base64.b64encode(str(value).encode()).decode()
            return
        if kind.resource in ("deployments", "statefulsets", "replicasets"):
            spec.setdefault("replicas", 1)
            spec.setdefault("revisionHistoryLimit", 10)
        if kind.resource == "deployments":
            strategy = spec.setdefault("strategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
            spec.setdefault("progressDeadlineSeconds", 600)
        if kind.resource == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            strategy = spec.setdefault("updateStrategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                strategy.setdefault("rollingUpdate", {}).setdefault("partition", 0)
        if kind.resource == "daemonsets":
            spec.setdefault("revisionHistoryLimit", 10)
            strategy = spec.setdefault("updateStrategy", {})
            strategy.setdefault("type", "RollingUpdate")
            if strategy["type"] == "RollingUpdate":
                rolling = strategy.setdefault("rollingUpdate", {})
                rolling.setdefault("maxUnavailable", 1)
                rolling.setdefault("maxSurge", 0)
        if kind.resource == "jobs":
            spec.setdefault("backoffLimit", 6)
            spec.setdefault("completions", 1)
            spec.setdefault("parallelism", 1)
            spec.setdefault("completionMode", "NonIndexed")
            spec.setdefault("suspend", False)
        template = spec.get("template")
        if isinstance(template, dict):
            self._default_pod_spec(
                template.setdefault("spec", {}), "Never" if kind.resource == "jobs" else "Always"
            )
        if kind.resource == "pods":
            self._default_pod_spec(spec, "Always")
        if kind.resource == "services":
            spec.setdefault("type", "ClusterIP")
            spec.setdefault("sessionAffinity", "None")
            if spec["type"] != "ExternalName":
                if not spec.get("clusterIP"):
                    with self._lock:
                        self._cluster_ips += 1
                        number = self._cluster_ips
                    spec["clusterIP"] = f"10.100.{number // 250}.{number % 250 + 1}"
                spec.setdefault("clusterIPs", [spec["clusterIP"]])
                spec.setdefault("ipFamilies", ["IPv4"])
                spec.setdefault("ipFamilyPolicy", "SingleStack")
                spec.setdefault("internalTrafficPolicy", "Cluster")
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")
                    if "port" in port:
                        port.setdefault("targetPort", port["port"])

    @staticmethod
    def _default_pod_spec(pod_spec: dict, restart_policy: str) -> None:
        if not isinstance(pod_spec, dict):
            return
        pod_spec.setdefault("restartPolicy", restart_policy)
        pod_spec.setdefault("terminationGracePeriodSeconds", 30)
        pod_spec.setdefault("dnsPolicy", "ClusterFirst")
        pod_spec.setdefault("securityContext", {})
        pod_spec.setdefault("schedulerName", "default-scheduler")
        for field in ("containers", "initContainers"):
            for container in pod_spec.get(field) or []:
                if not isinstance(container, dict):
                    continue
                image = str(container.get("image", ""))
                tag = image.rsplit("/", 1)[-1]
                latest = ":" not in tag or tag.endswith(":latest")
                container.setdefault(
                    "imagePullPolicy", "Always" if latest and "@" not in tag else "IfNotPresent"
                )
                container.setdefault("terminationMessagePath", "/dev/termination-log")
                container.setdefault("terminationMessagePolicy", "File")
                container.setdefault("resources", {})
                for port in container.get("ports") or []:
                    if isinstance(port, dict):
                        port.setdefault("protocol", "TCP")

    def _validate(self, kind: Kind, obj: dict, existing: dict | None) -> None:
        name = obj["metadata"]["name"]
        causes: list[tuple[str, str]] = []
        if not _dns_subdomain(name):
            causes.append(
                (
                    "metadata.name",
                    f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric '
                    "characters, '-' or '.', and must start and end with an alphanumeric character",
                )
            )
        for field in ("labels", "annotations"):
            values = obj["metadata"].get(field)
            if values is not None and not (
                isinstance(values, dict) and all(isinstance(v, str) for v in values.values())
            ):
                causes.append((f"metadata.{field}", "Invalid value: values must be strings"))
        spec = obj.get("spec")
        if kind.resource in ("deployments", "statefulsets", "daemonsets", "replicasets", "jobs"):
            if not isinstance(spec, dict):
                causes.append(("spec", "Required value"))
            else:
                causes.extend(self._validate_workload(kind, spec, existing))
        if kind.resource == "pods" and isinstance(spec, dict):
            causes.extend(_validate_pod_spec(spec, "spec"))
        if kind.resource == "services" and isinstance(spec, dict) and spec.get("type") != "ExternalName":
            ports = spec.get("ports") or []
            if not ports:
                causes.append(("spec.ports", "Required value"))
            for position, port in enumerate(ports):
                if (
                    not isinstance(port, dict)
                    or not isinstance(port.get("port"), int)
                    or not 0 < port["port"] < 65536
                ):
                    causes.append(
                        (
                            f"spec.ports[{position}].port",
                            "Invalid value: must be between 1 and 65535, inclusive",
                        )
                    )
        if (
            kind.resource == "configmaps"
            and existing is not None
            and existing.get("immutable")
            and (
                obj.get("data") != existing.get("data") or obj.get("binaryData") != existing.get("binaryData")
            )
        ):
            causes.append(("data", "Forbidden: field is immutable when `immutable` is set"))
        if causes:
            raise errors.invalid(kind, name, causes)

    def _validate_workload(self, kind: Kind, spec: dict, existing: dict | None) -> list[tuple[str, str]]:
        causes = []
        selector = spec.get("selector")
        template = spec.get("template") if isinstance(spec.get("template"), dict) else None
        if kind.resource != "jobs" and not isinstance(selector, dict):
            causes.append(("spec.selector", "Required value"))
        if template is None:
            causes.append(("spec.template", "Required value"))
            return causes
        labels = (template.get("metadata") or {}).get("labels") or {}
        if isinstance(selector, dict):
            match_labels = selector.get("matchLabels") or {}
            if not match_labels and not selector.get("matchExpressions"):
                causes.append(("spec.selector", "Invalid value: empty selector is invalid for deployment"))
            elif not label_matcher(",".join(f"{k}={v}" for k, v in match_labels.items()))(labels):
                rendered = (
                    "map[string]string{" + ", ".join(f'"{k}":"{v}"' for k, v in sorted(labels.items())) + "}"
                )
                causes.append(
                    (
                        "spec.template.metadata.labels",
                        f"Invalid value: {rendered}: `selector` does not match template `labels`",
                    )
                )
        if (
            existing is not None
            and kind.resource != "jobs"
            and (existing.get("spec") or {}).get("selector") != selector
        ):
            rendered = json.dumps(selector, sort_keys=True)
            causes.append(("spec.selector", f"Invalid value: {rendered}: field is immutable"))
        replicas = spec.get("replicas")
        if replicas is not None and (not isinstance(replicas, int) or replicas < 0):
            causes.append(("spec.replicas", f"Invalid value: {replicas}: must be greater than or equal to 0"))
        causes.extend(_validate_pod_spec(template.get("spec") or {}, "spec.template.spec"))
        return causes


def _without_managed_fields(obj: dict) -> dict:
    metadata = {key: value for key, value in obj.get("metadata", {}).items() if key != "managedFields"}
    return {**obj, "metadata": metadata}


def _dns_subdomain(name: str) -> bool:
    import re

    return (
        bool(re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", name))
        and len(name) <= 253
    )


def _validate_pod_spec(pod_spec: dict, path: str) -> list[tuple[str, str]]:
    causes = []
    containers = pod_spec.get("containers")
    if not containers:
        causes.append((f"{path}.containers", "Required value"))
        return causes
    names = set()
    for position, container in enumerate(containers):
        where = f"{path}.containers[{position}]"
        if not isinstance(container, dict):
            causes.append((where, "Invalid value: must be an object"))
            continue
        if not container.get("name"):
            causes.append((f"{where}.name", "Required value"))
        elif container["name"] in names:
            causes.append((f"{where}.name", f'Duplicate value: "{container["name"]}"'))
        names.add(container.get("name"))
        if not container.get("image"):
            causes.append((f"{where}.image", "Required value"))
        for port_position, port in enumerate(container.get("ports") or []):
            value = port.get("containerPort") if isinstance(port, dict) else None
            if not isinstance(value, int) or not 0 < value < 65536:
                causes.append(
                    (
                        f"{where}.ports[{port_position}].containerPort",
                        f"Invalid value: {value}: must be between 1 and 65535, inclusive",
                    )
                )
    return causes


# ---------------------------------------------------------------- tables (kubectl get)


def _columns(kind: Kind) -> list[tuple[str, str]]:
    columns = {
        "pods": [("Ready", "string"), ("Status", "string"), ("Restarts", "string")],
        "deployments": [("Ready", "string"), ("Up-to-date", "integer"), ("Available", "integer")],
        "statefulsets": [("Ready", "string")],
        "daemonsets": [
            ("Desired", "integer"),
            ("Current", "integer"),
            ("Ready", "integer"),
            ("Up-to-date", "integer"),
            ("Available", "integer"),
        ],
        "replicasets": [("Desired", "integer"), ("Current", "integer"), ("Ready", "integer")],
        "services": [
            ("Type", "string"),
            ("Cluster-IP", "string"),
            ("External-IP", "string"),
            ("Port(s)", "string"),
        ],
        "configmaps": [("Data", "integer")],
        "secrets": [("Type", "string"), ("Data", "integer")],
        "namespaces": [("Status", "string")],
        "serviceaccounts": [("Secrets", "integer")],
        "jobs": [("Status", "string"), ("Completions", "string")],
        "ingresses": [("Class", "string"), ("Hosts", "string")],
    }
    return [("Name", "string"), *columns.get(kind.resource, []), ("Age", "string")]


def _cells(kind: Kind, obj: dict) -> list:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    cells: list = [obj["metadata"]["name"]]
    resource = kind.resource
    if resource == "pods":
        containers = spec.get("containers") or []
        ready = sum(1 for item in status.get("containerStatuses") or [] if item.get("ready"))
        cells += [f"{ready}/{len(containers)}", status.get("phase", "Pending"), "0"]
    elif resource == "deployments":
        cells += [
            f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
            status.get("updatedReplicas", 0),
            status.get("availableReplicas", 0),
        ]
    elif resource == "statefulsets":
        cells += [f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}"]
    elif resource == "daemonsets":
        cells += [
            status.get("desiredNumberScheduled", 0),
            status.get("currentNumberScheduled", 0),
            status.get("numberReady", 0),
            status.get("updatedNumberScheduled", 0),
            status.get("numberAvailable", 0),
        ]
    elif resource == "replicasets":
        cells += [spec.get("replicas", 1), status.get("replicas", 0), status.get("readyReplicas", 0)]
    elif resource == "services":
        ports = ",".join(
            f"{port.get('port')}/{port.get('protocol', 'TCP')}" for port in spec.get("ports") or []
        )
        cells += [spec.get("type", "ClusterIP"), spec.get("clusterIP", "None"), "<none>", ports or "<none>"]
    elif resource == "configmaps":
        cells += [len(obj.get("data") or {}) + len(obj.get("binaryData") or {})]
    elif resource == "secrets":
        cells += [obj.get("type", "Opaque"), len(obj.get("data") or {})]
    elif resource == "namespaces":
        cells += [status.get("phase", "Active")]
    elif resource == "serviceaccounts":
        cells += [len(obj.get("secrets") or [])]
    elif resource == "jobs":
        done = status.get("succeeded", 0) >= spec.get("completions", 1)
        cells += [
            "Complete" if done else "Running",
            f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}",
        ]
    elif resource == "ingresses":
        hosts = ",".join(rule.get("host", "*") for rule in spec.get("rules") or []) or "*"
        cells += [spec.get("ingressClassName", "<none>"), hosts]
    cells.append(_age(obj["metadata"].get("creationTimestamp")))
    return cells


def table(
    kind: Kind, items: list[dict], resource_version: str | None, include_object: str = "Metadata"
) -> dict:
    rows = []
    for item in items:
        row: dict = {"cells": _cells(kind, item)}
        if include_object == "Object":
            row["object"] = item
        elif include_object != "None":
            row["object"] = {
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": item["metadata"],
            }
        rows.append(row)
    definitions = []
    for name, column_type in _columns(kind):
        definition = {"name": name, "type": column_type, "format": "", "description": name, "priority": 0}
        if name == "Name":
            definition["format"] = "name"
        definitions.append(definition)
    metadata = {"resourceVersion": resource_version} if resource_version else {}
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata,
        "columnDefinitions": definitions,
        "rows": rows,
    }
