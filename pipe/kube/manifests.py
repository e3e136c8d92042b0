"""The Kubernetes manifests under RESOURCE_PATH: found, parsed, labelled, and what to wait for."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from pipe.common import bounded_read, private_dir
from pipe.common.errors import PipeError

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Kinds whose rollout `kubectl rollout status` can wait for.
ROLLOUT_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass(frozen=True)
class RolloutTarget:
    kind: str
    name: str
    namespace: str

    def __str__(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


class Origin(NamedTuple):
    """Where an object comes from, for the reviewer's annotations: a file relative to the clone
    ('/'-separated) and the line its document (or List item) starts on, 1-based; `line` is None for
    what has no line of its own (a kustomization's output: `path` is the kustomization's directory)."""

    path: str
    line: int | None = None


def find(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
    if not files:
        raise PipeError(f"RESOURCE_PATH {path.name!r} holds no .yaml, .yml or .json files.")
    return files


def _objects(document: object, source: str, node: Any = None) -> list[tuple[dict[str, Any], Any]]:
    """The objects of a document (a List's items, flattened), each with its YAML node (or None)."""
    if document is None:
        return []
    if not isinstance(document, dict) or "kind" not in document:
        raise PipeError(f"{source} holds a document that is not a Kubernetes object (no kind).")
    if document["kind"] == "List" or (str(document["kind"]).endswith("List") and "items" in document):
        items = document.get("items") or []
        if not isinstance(items, list):
            raise _malformed(source, document, "its items are not a list")
        nodes = _item_nodes(node, len(items))
        return [
            found for entry, at in zip(items, nodes, strict=True) for found in _objects(entry, source, at)
        ]
    _check_shape(document, source)
    return [(document, node)]


def _item_nodes(node: Any, count: int) -> list[Any]:
    """The nodes of a List document's items, or Nones when they cannot be told (no node given)."""
    for key, value in getattr(node, "value", None) or []:
        nodes = getattr(value, "value", None)
        if getattr(key, "value", None) == "items" and isinstance(nodes, list) and len(nodes) == count:
            return list(nodes)
    return [None] * count


def _check_shape(obj: dict[str, Any], source: str) -> None:
    """The parts of an object the pipe reads or writes (labels, rollouts, the authorization doctor)
    have the shape Kubernetes gives them, so that a malformed one is one line, not a crash."""
    if not isinstance(obj["kind"], str):
        raise _malformed(source, obj, "its kind is not text")
    metadata = obj.get("metadata")
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise _malformed(source, obj, "its metadata is not a mapping")
    if not isinstance(metadata.get("labels") or {}, dict):
        raise _malformed(source, obj, "its metadata.labels is not a mapping")
    for field in ("name", "namespace"):
        if not isinstance(metadata.get(field) or "", str):
            raise _malformed(source, obj, f"its metadata.{field} is not text")


def _malformed(source: str, obj: dict[str, Any], problem: str) -> PipeError:
    kind = obj.get("kind")
    shown = f"a {kind}" if isinstance(kind, str) and kind.isprintable() and len(kind) <= 60 else "an object"
    return PipeError(f"{source} holds {shown} whose shape Kubernetes would refuse: {problem}.")


def parse(text: str, source: str, origins: list[Origin] | None = None) -> list[dict[str, Any]]:
    """The objects in `text` (one file, or a render), read within bounded_read's limits. `origins`,
    when given, gets each object's Origin: `source` and the line its document or List item starts."""
    nodes: list[Any] = []
    try:
        documents = bounded_read.load_yaml_documents(text, source, nodes)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PipeError(
            f"{source} is not valid YAML{where}: {getattr(error, 'problem', None) or 'parse error'}."
        ) from None
    found = [
        pair
        for document, node in zip(documents, nodes, strict=True)
        for pair in _objects(document, source, node)
    ]
    if origins is not None:
        origins += [
            Origin(source, node.start_mark.line + 1 if node is not None else None) for _, node in found
        ]
    return [obj for obj, _ in found]


def load(files: list[Path], root: Path, origins: list[Origin] | None = None) -> list[dict[str, Any]]:
    """The objects in `files` (inside `root`, the clone); `origins` as parse() fills it."""
    objects = []
    for file in files:
        try:
            real = private_dir.inside_clone(file, root, "RESOURCE_PATH")
            text = bounded_read.read_text(real, bounded_read.MANIFEST_FILE_BYTES, str(file.relative_to(root)))
        except (OSError, UnicodeDecodeError) as error:
            raise PipeError(f"{file.relative_to(root)} cannot be read: {error}.") from None
        objects += parse(text, file.relative_to(root).as_posix(), origins)
    if not objects:
        raise PipeError("RESOURCE_PATH holds no Kubernetes objects.")
    return objects


def add_labels(objects: list[dict[str, Any]], labels: dict[str, str]) -> None:
    for obj in objects:
        metadata = obj.setdefault("metadata", {}) or {}
        obj["metadata"] = metadata
        metadata["labels"] = {**(metadata.get("labels") or {}), **labels}


def write(objects: list[dict[str, Any]], path: Path) -> Path:
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return path


def rollout_targets(objects: list[dict[str, Any]], namespace: str | None) -> list[RolloutTarget]:
    targets = []
    for obj in objects:
        if obj.get("kind") in ROLLOUT_KINDS and str(obj.get("apiVersion", "")).startswith("apps/"):
            metadata = obj.get("metadata") or {}
            targets.append(
                RolloutTarget(
                    obj["kind"],
                    str(metadata.get("name", "")),
                    metadata.get("namespace") or namespace or "default",
                )
            )
    return targets
