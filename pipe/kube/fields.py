"""A change to one Kubernetes object in words a reviewer reads: images and replicas with their values,
any other field as its path (`spec.template.spec.containers[web].env[LEVEL].value`), and a Secret's
data by key only. Values other than images and replica counts are never named: a field's value may be
anything, a Secret's always is secret."""

import json
from collections.abc import Mapping
from typing import Any

# Field paths named per changed object; the rest is counted.
MAX_PATHS = 12
# kubectl's copy of the manifest as last applied: a mirror of the fields (a Secret's data included).
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Metadata the server keeps for itself: it changes with every write, not with the manifest.
_SERVER_METADATA = ("resourceVersion", "generation", "managedFields", "creationTimestamp", "uid", "selfLink")
# Kinds whose data is secret: never valued, and a change to them is HIGH for the reviewer.
SECRET_KINDS = ("Secret",)
_RECORD_ONLY = ("metadata.namespace", "metadata.annotations")
# Where a workload's pod spec is, per kind.
_POD_SPECS = {
    "Pod": ("spec",),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_TEMPLATE_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "ReplicationController")


def describe(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """What differs from `before` to `after` (one object), in words: images and replicas with their
    values, any other field as its path; a Secret's data by key only. [] when nothing differs."""
    details = []
    old_images, new_images = images(before), images(after)
    for container in sorted(old_images.keys() | new_images.keys()):
        old, new = old_images.get(container, "none"), new_images.get(container, "none")
        if old != new:
            details.append(f"image {container}: {old} → {new}")
    old_replicas = (before.get("spec") or {}).get("replicas")
    new_replicas = (after.get("spec") or {}).get("replicas")
    if old_replicas != new_replicas:
        details.append(f"replicas {old_replicas} → {new_replicas}")
    paths = [
        path
        for path in _paths(_comparable(before), _comparable(after), "")
        if not _is_image_or_replicas(path)
    ]
    if before.get("kind") in SECRET_KINDS:
        paths = [
            f"{path} (value hidden)" if path.startswith(("data", "stringData")) else path for path in paths
        ]
    shown = paths[:MAX_PATHS]
    if len(paths) > MAX_PATHS:
        shown.append(f"… and {len(paths) - MAX_PATHS} more fields")
    return details + shown


def removed_fields(before: Mapping[str, Any], manifest: Mapping[str, Any], changed: bool) -> list[str]:
    """Fields a client-side apply would remove: in kubectl's last-applied record of `before`, no longer
    in the manifest (a server-side dry run keeps them, as kubectl-client-side-apply owns them). Mappings
    are compared key by key; a list is replaced whole by the apply and shows as changed already."""
    try:
        applied = json.loads(_last_applied(before) or "{}")
    except ValueError:
        return []
    if not isinstance(applied, dict):
        return []
    # kubectl writes the namespace into its record; the annotations hold the record itself.
    paths = [path for path in _absent(applied, dict(manifest), "") if path not in _RECORD_ONLY]
    hidden = before.get("kind") in SECRET_KINDS
    words = [
        f"{path} (removed{', value hidden' if hidden and path.startswith(('data', 'stringData')) else ''})"
        for path in paths
    ]
    return words[: MAX_PATHS if not changed else max(0, MAX_PATHS // 2)]


def _absent(applied: Mapping[str, Any], manifest: Mapping[str, Any], at: str) -> list[str]:
    found = []
    for key, value in applied.items():
        path = f"{at}.{key}" if at else str(key)
        if key not in manifest:
            found.append(path)
        elif isinstance(value, dict) and isinstance(manifest[key], dict):
            found += _absent(value, manifest[key], path)
    return found


def _is_image_or_replicas(path: str) -> bool:
    return path == "spec.replicas" or (path.endswith("].image") and "ontainers[" in path)


def _last_applied(obj: Mapping[str, Any]) -> Any:
    return ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    """`obj` without what the server writes for itself (status, resource version, managed fields) and
    without kubectl's last-applied copy: what a manifest can change."""
    kept = {key: value for key, value in obj.items() if key != "status"}
    metadata = {
        key: value for key, value in (obj.get("metadata") or {}).items() if key not in _SERVER_METADATA
    }
    annotations = {
        key: value for key, value in (metadata.get("annotations") or {}).items() if key != LAST_APPLIED
    }
    metadata.pop("annotations", None)
    if annotations:
        metadata["annotations"] = annotations
    kept["metadata"] = metadata
    return kept


def _paths(before: Any, after: Any, at: str) -> list[str]:
    """Paths (`spec.template.spec.containers[web].env[LEVEL].value`) where `before` and `after` differ.
    Lists of named items are matched by name, other lists by position."""
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            path
            for key in sorted(before.keys() | after.keys(), key=str)
            for path in _paths(before.get(key), after.get(key), f"{at}.{key}" if at else str(key))
        ]
    if isinstance(before, list) and isinstance(after, list):
        old, new = _named(before), _named(after)
        if old is not None and new is not None:
            return [
                path
                for name in sorted(old.keys() | new.keys())
                for path in _paths(old.get(name), new.get(name), f"{at}[{name}]")
            ]
        if len(before) != len(after):
            return [at]
        return [
            path
            for index, pair in enumerate(zip(before, after, strict=True))
            for path in _paths(*pair, f"{at}[{index}]")
        ]
    return [at or "(the object)"]


def _named(items: list[Any]) -> dict[str, Any] | None:
    names = [item.get("name") if isinstance(item, dict) else None for item in items]
    if all(isinstance(name, str) for name in names) and len(set(names)) == len(names):
        return dict(zip(names, items, strict=True))  # type: ignore[arg-type]
    return None


def images(obj: Mapping[str, Any]) -> dict[str, str]:
    """Container name -> image of a workload's pod spec ({} for anything else)."""
    kind = str(obj.get("kind"))
    path = _POD_SPECS.get(kind) or (("spec", "template", "spec") if kind in _TEMPLATE_KINDS else None)
    spec: Any = obj
    for step in path or ("-",):
        spec = spec.get(step) if isinstance(spec, dict) else None
    if not isinstance(spec, dict):
        return {}
    found = {}
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            if isinstance(container, dict) and container.get("name") is not None:
                found[str(container["name"])] = str(container.get("image"))
    return found
