"""What a release would change, object by object: the chart rendered by Helm (`helm template`), each
object applied as a server-side dry run (`kubectl apply --server-side --dry-run=server`, Helm 4's own
field manager) and compared with the live object, and the objects of the deployed release that the
new render leaves out. Secret data is never shown: a changed key is named, its value masked."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pipe.common.errors import PipeError
from pipe.jobs.helm import program
from pipe.kube import manifests
from pipe.report import Item

# Server-kept fields that change on every write: not a change a reviewer needs to see.
_IGNORED_METADATA = ("managedFields", "resourceVersion", "generation", "uid", "creationTimestamp")
_SECRET_KINDS = ("Secret",)
_SHOWN_PATHS = 5
_SHOWN_VALUE_CHARACTERS = 60
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
    kubectl: list[str],
    release: str,
    rendered: Rendered,
    previous: list[dict[str, Any]],
    namespace: str,
    env: Mapping[str, str],
    clone: Path,
    workdir: Path,
) -> list[Item]:
    """Items added / changed / unchanged / removed, against the live objects."""
    items: list[Item] = []
    live = {
        key(obj, namespace): obj for obj in _live(kubectl, rendered.objects, namespace, env, clone, workdir)
    }
    applied = [owned(obj, release, namespace) for obj in rendered.objects]
    planned = _dry_run(kubectl, applied, namespace, env, clone, workdir) if live else {}
    for obj in rendered.objects:
        found = key(obj, namespace)
        name = describe(obj, namespace)
        if found not in live:
            items.append(Item("added", name, _summary(obj)))
            continue
        changes = _changes(
            _comparable(live[found]),
            _comparable(planned.get(found, live[found])),
            obj.get("kind") in _SECRET_KINDS,
        )
        items.append(Item("changed", name, "; ".join(changes)) if changes else Item("unchanged", name))
    kept = {key(obj, namespace) for obj in rendered.objects}
    for obj in previous:
        if key(obj, namespace) not in kept and HOOK_ANNOTATION not in (
            (obj.get("metadata") or {}).get("annotations") or {}
        ):
            items.append(Item("removed", describe(obj, namespace), severity="MEDIUM"))
    for hook in rendered.hooks:
        annotations = (hook.get("metadata") or {}).get("annotations") or {}
        items.append(
            Item("unchanged", describe(hook, namespace), f"hook, runs on {annotations.get(HOOK_ANNOTATION)}")
        )
    return items


def _summary(obj: Mapping[str, Any]) -> str:
    if obj.get("kind") in _SECRET_KINDS:
        data = {**(obj.get("data") or {}), **(obj.get("stringData") or {})}
        return f"keys {', '.join(sorted(data))} (values masked)" if data else ""
    spec = obj.get("spec") or {}
    images = [
        c.get("image")
        for c in ((spec.get("template") or {}).get("spec") or {}).get("containers") or []
        if isinstance(c, dict)
    ]
    return f"image {', '.join(str(image) for image in images)}" if images else ""


def _comparable(obj: Mapping[str, Any]) -> dict[str, Any]:
    copy = {name: value for name, value in obj.items() if name != "status"}
    metadata = {
        name: value for name, value in (copy.get("metadata") or {}).items() if name not in _IGNORED_METADATA
    }
    copy["metadata"] = metadata
    return copy


def _by_name(value: Any) -> Any:
    """A list of named items (containers, ports, env) as a mapping by name, so that a change is
    told at the item (containers[web].image) rather than as the whole list."""
    if isinstance(value, list) and value and all(isinstance(item, dict) and "name" in item for item in value):
        return {f"[{item['name']}]": item for item in value}
    return value


def _changes(before: Any, after: Any, secret: bool, path: str = "") -> list[str]:
    before, after = _by_name(before), _by_name(after)
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for name in sorted(set(before) | set(after), key=str):
            step = str(name) if not path or str(name).startswith("[") else f".{name}"
            found += _changes(before.get(name), after.get(name), secret, f"{path}{step}")
        return found[: _SHOWN_PATHS + 1] if len(found) > _SHOWN_PATHS else found
    if before == after:
        return []
    if secret and path.split(".")[0] in ("data", "stringData"):
        return [f"{path} changed (value masked)"]
    if _short(before) and _short(after):
        return [f"{path}: {_shown(before)} → {_shown(after)}"]
    return [f"{path} changed"]


def _short(value: Any) -> bool:
    return value is None or (
        not isinstance(value, dict | list) and len(str(value)) <= _SHOWN_VALUE_CHARACTERS
    )


def _shown(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _live(
    kubectl: list[str],
    objects: list[dict[str, Any]],
    namespace: str,
    env: Mapping[str, str],
    clone: Path,
    workdir: Path,
) -> list[dict[str, Any]]:
    if not objects:
        return []
    path = manifests.write(objects, workdir / "planned.yaml")
    text = program.capture(
        [*kubectl, "get", "-f", str(path), "--namespace", namespace, "--ignore-not-found", "-o", "json"],
        env,
        clone,
        workdir,
        "kubectl get (the live objects)",
    )
    return _items(text)


def _dry_run(
    kubectl: list[str],
    objects: list[dict[str, Any]],
    namespace: str,
    env: Mapping[str, str],
    clone: Path,
    workdir: Path,
) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    path = manifests.write(objects, workdir / "planned.yaml")
    args = [
        *kubectl,
        "apply",
        "--server-side",
        "--dry-run=server",
        "--force-conflicts",
        "--field-manager=helm",
    ]
    text = program.capture(
        [*args, "-f", str(path), "--namespace", namespace, "-o", "json"],
        env,
        clone,
        workdir,
        "kubectl apply --dry-run=server",
    )
    return {key(obj, namespace): obj for obj in _items(text)}


def _items(text: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    try:
        # kubectl prints one JSON document: a List, or the object itself when there is one.
        decoder, documents, at = json.JSONDecoder(), [], 0
        while at < len(text.rstrip()):
            document, at = decoder.raw_decode(text, at)
            documents.append(document)
            while at < len(text) and text[at].isspace():
                at += 1
    except ValueError:
        raise PipeError(
            "kubectl printed JSON the pipe cannot read while comparing with the live objects."
        ) from None
    found: list[dict[str, Any]] = []
    for document in documents:
        if isinstance(document, dict) and document.get("kind") == "List":
            found += [item for item in document.get("items") or [] if isinstance(item, dict)]
        elif isinstance(document, dict):
            found.append(document)
    return found
