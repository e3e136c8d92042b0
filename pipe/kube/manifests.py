"""The Kubernetes manifests under RESOURCE_PATH: found, parsed, labelled, and what to wait for."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


def find(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
    if not files:
        raise PipeError(f"RESOURCE_PATH {path.name!r} holds no .yaml, .yml or .json files.")
    return files


def _objects(document: object, source: str) -> list[dict[str, Any]]:
    if document is None:
        return []
    if not isinstance(document, dict) or "kind" not in document:
        raise PipeError(f"{source} holds a document that is not a Kubernetes object (no kind).")
    if document["kind"] == "List" or (str(document["kind"]).endswith("List") and "items" in document):
        items = document.get("items") or []
        if not isinstance(items, list):
            raise _malformed(source, document, "its items are not a list")
        return [item for entry in items for item in _objects(entry, source)]
    _check_shape(document, source)
    return [document]


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


def parse(text: str, source: str) -> list[dict[str, Any]]:
    try:
        documents = bounded_read.load_yaml_documents(text, source)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PipeError(
            f"{source} is not valid YAML{where}: {getattr(error, 'problem', None) or 'parse error'}."
        ) from None
    return [obj for document in documents for obj in _objects(document, source)]


def load(files: list[Path], root: Path) -> list[dict[str, Any]]:
    objects = []
    for file in files:
        try:
            real = private_dir.inside_clone(file, root, "RESOURCE_PATH")
            text = bounded_read.read_text(real, bounded_read.MANIFEST_FILE_BYTES, str(file.relative_to(root)))
        except (OSError, UnicodeDecodeError) as error:
            raise PipeError(f"{file.relative_to(root)} cannot be read: {error}.") from None
        objects += parse(text, str(file.relative_to(root)))
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
