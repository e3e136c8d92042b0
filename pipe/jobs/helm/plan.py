"""What a release would change, object by object: the chart rendered by Helm (`helm template`), then
the kubectl job's plan (pipe.kube.diff: one server-side dry run with Helm 4's field manager, one read
of the live objects), with the deployed release's objects the new render leaves out as deleted. Secret
data is never shown: a changed key is named, its value hidden."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pipe.jobs.helm import program
from pipe.kube import diff as kube_diff
from pipe.kube import manifests
from pipe.kube.cluster import Connection
from pipe.report import Change, Item

HOOK_ANNOTATION = "helm.sh/hook"


class Rendered(NamedTuple):
    objects: list[dict[str, Any]]  # what the release manages
    hooks: list[dict[str, Any]]  # what Helm runs around it (jobs, ...), never diffed


def render(args: list[str], env: Mapping[str, str], clone: Path, workdir: Path) -> Rendered:
    """`helm template` with the release's arguments, its objects split into managed ones and hooks."""
    text = program.capture(args, env, clone, workdir, "helm template")
    objects = manifests.parse(text, "the rendered chart")
    hooks = [
        obj for obj in objects if HOOK_ANNOTATION in ((obj.get("metadata") or {}).get("annotations") or {})
    ]
    return Rendered([obj for obj in objects if obj not in hooks], hooks)


def key(obj: Mapping[str, Any], namespace: str) -> tuple[str, str, str, str]:
    metadata = obj.get("metadata") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (
        group,
        str(obj.get("kind", "")),
        str(metadata.get("namespace") or namespace),
        str(metadata.get("name", "")),
    )


def describe(obj: Mapping[str, Any], namespace: str) -> str:
    _group, kind, where, name = key(obj, namespace)
    return f"{kind} {name} (namespace {where})"


def owned(obj: dict[str, Any], release: str, namespace: str) -> dict[str, Any]:
    """`obj` with the label and annotations Helm puts on every object of a release: without them the
    dry run (Helm's field manager) would remove them, and every object would look changed."""
    metadata = dict(obj.get("metadata") or {})
    metadata["labels"] = {**(metadata.get("labels") or {}), "app.kubernetes.io/managed-by": "Helm"}
    metadata["annotations"] = {
        **(metadata.get("annotations") or {}),
        "meta.helm.sh/release-name": release,
        "meta.helm.sh/release-namespace": namespace,
    }
    return {**obj, "metadata": metadata}


def diff(
    kubectl: str,
    connection: Connection,
    release: str,
    rendered: Rendered,
    previous: list[dict[str, Any]],
    namespace: str,
    clone: Path,
) -> list[Item]:
    """Items added / changed / unchanged / removed against the live objects: the kubectl job's
    server-side plan (pipe.kube.diff) with Helm's field manager, the deployed release's objects the
    render leaves out as `removing`, and the hooks listed, never diffed."""
    applied = [owned(obj, release, namespace) for obj in rendered.objects]
    kept = {key(obj, namespace) for obj in rendered.objects}
    removing = [
        obj
        for obj in previous
        if key(obj, namespace) not in kept
        and HOOK_ANNOTATION not in ((obj.get("metadata") or {}).get("annotations") or {})
    ]
    options = ["--server-side", "--force-conflicts", "--field-manager=helm"]
    changes = kube_diff.plan(applied, kubectl, connection, namespace, clone, options, removing)
    items = [
        Item(
            _CHANGES[change.change],
            f"{change.kind} {change.name} (namespace {change.namespace or namespace})",
            "; ".join(change.details)
            or (
                _summary(applied[change.source])
                if change.change == "created" and change.source is not None
                else ""
            ),
            severity="HIGH"
            if (change.secret and change.change != "unchanged") or change.change == "deleted"
            else "LOW",
        )
        for change in changes
    ]
    for hook in rendered.hooks:
        annotations = (hook.get("metadata") or {}).get("annotations") or {}
        items.append(
            Item("unchanged", describe(hook, namespace), f"hook, runs on {annotations.get(HOOK_ANNOTATION)}")
        )
    return items


_CHANGES: dict[str, Change] = {
    "created": "added",
    "changed": "changed",
    "deleted": "removed",
    "unchanged": "unchanged",
}


def _summary(obj: Mapping[str, Any]) -> str:
    if obj.get("kind") == "Secret":
        data = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
        return f"keys {', '.join(sorted(data))} (values hidden)" if data else ""
    spec = obj.get("spec") or {}
    containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
    images = [str(c.get("image")) for c in containers if isinstance(c, dict)]
    return f"image {', '.join(images)}" if images else ""
