"""What applying objects would change in a cluster, per object, in words a reviewer reads.

How: ONE dry-run apply of all the objects on the server (`kubectl apply --dry-run=server -o json`,
with the apply's own options) and ONE read of the live objects before it (`kubectl get -f ... -o json
--ignore-not-found`), compared here, in Python, field by field. The dry run is a server-side apply's
(`--server-side --force-conflicts`) even when the apply is client-side: kubectl computes a
client-side patch per object itself, measured at 9 minutes for 2,000 ConfigMaps on this 2-core machine
against 21 s server-side. What a client-side apply does differently, removing the fields its
last-applied record holds and the manifest no longer does, is read from that record (pipe.kube.fields).
Only a client-side apply with --prune keeps kubectl's client-side dry run: kubectl refuses --prune
with --server-side for objects applied client-side. Not `kubectl diff`, because:
- its output is a unified diff of YAML text, which would have to be parsed back into objects to say
  "image a → b"; the dry run gives the objects themselves, as the API server (admission, defaults,
  mutating webhooks) would store them;
- it masks a Secret's `data` but not the `kubectl.kubernetes.io/last-applied-configuration`
  annotation, which holds a client-side-applied Secret's data in full: its text must never reach
  the log, so nothing kubectl prints on stdout here is printed at all (it goes to a file in the
  private directory, outside the clone, read within MAX_OUTPUT_BYTES);
- it runs an external `diff` program and exits 1 when there are differences, which a deadline-bound
  run cannot tell from a failure without parsing its error output.
Two kubectl processes for any number of objects (not one per object), each with a deadline
(DIFF_LIMIT_SECONDS); what they print on stderr is printed redacted and framed (pipe.common.process),
and every Secret value of the objects is registered as a secret first, so that it is masked in any
encoding wherever it might appear. The detail of a change names values only for images and replicas;
every other change is a field path, and a Secret's data fields are named by key, never valued.

`kubectl apply --prune` deletes objects the files no longer hold: the dry run prints them after the
applied ones, and they are reported deleted. `removing` lists objects a plan deletes (`kubectl delete
-f`, a Helm release's objects no longer rendered): those that exist are reported deleted.
"""

import base64
import binascii
import contextlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pipe.common import log, process
from pipe.common.errors import PipeError
from pipe.kube.cluster import Connection
from pipe.kube.fields import SECRET_KINDS, describe, images, removed_fields

DEFAULT_NAMESPACE = "default"
# Deadline of each of the two kubectl calls of a plan (docs/security.md: limits): 2,000 objects take seconds.
DIFF_LIMIT_SECONDS = 600
# What kubectl's JSON of the objects may take: 2,000 objects are about 10 MiB.
MAX_OUTPUT_BYTES = 256 * 1024 * 1024
# Options only a client-side apply takes (the server-side dry run leaves them out).
_CLIENT_SIDE_ONLY = ("--overwrite", "--openapi-patch", "--save-config", "--force-conflicts", "--server-side")

# What kubectl says of every object a client-side apply made, in a server-side dry run: it cannot
# hand the fields over to the server-side manager in a dry run. Nothing to act on; one line per object.
_MIGRATION_WARNING = re.compile(
    rb"^Warning: failed to migrate kubectl\.kubernetes\.io/last-applied-configuration"
)

Kind = Literal["created", "changed", "deleted", "unchanged"]


class ObjectChange(NamedTuple):
    """One object of a plan. `source` is its index in `objects` (or, for a deleted one, in `removing`;
    None for an object --prune deletes); `details` what changes, in words; `secret` for a Secret."""

    change: Kind
    kind: str
    name: str
    namespace: str | None
    details: tuple[str, ...] = ()
    source: int | None = None
    secret: bool = False


def plan(
    objects: Sequence[Mapping[str, Any]],
    kubectl: str,
    connection: Connection,
    namespace: str | None,
    cwd: Path,
    apply_options: Sequence[str] = (),
    removing: Sequence[Mapping[str, Any]] = (),
) -> list[ObjectChange]:
    """What `kubectl apply -f <objects> [apply_options]` would change, object by object, in the order
    given, then what --prune (in `apply_options`) and `removing` would delete. `namespace` is the
    default for objects without one (None: the kubeconfig's, which the pipe leaves `default`); `cwd`
    the clone."""
    # Where kubectl puts an object that names no namespace: the objects it prints name it.
    default = namespace or DEFAULT_NAMESPACE
    protect(objects)
    protect(removing)
    changes: list[ObjectChange] = []
    if objects:
        before = _index(live(objects, kubectl, connection, namespace, cwd))
        applied = _write(objects, connection, "to-apply")
        # A server-side apply's dry run even for a client-side apply: a client-side one computes each
        # object's patch in kubectl, 9 minutes of it for 2,000 objects here, against 21 s (docs/kubectl.md:
        # the kubectl plan). Not with --prune, which kubectl refuses with --server-side for objects it
        # applied client-side: then kubectl's own client-side dry run.
        converted = "--server-side" not in apply_options and "--prune" not in apply_options
        options = _server_side(apply_options) if converted else list(apply_options)
        dry_run = [*options, "--dry-run=server", "-o", "json"]
        after_text = _kubectl(
            [*_base(kubectl, connection, namespace), "apply", "-f", str(applied), *dry_run],
            connection,
            cwd,
            "plan-after.json",
        )
        documents = _documents(after_text)
        after = _index(_items(documents[:1]))
        for at, obj in enumerate(objects):
            key = _key(obj, default)
            changes.append(_compare(at, obj, before.get(key), after.get(key), converted))
        for pruned in _items(documents[1:]):
            changes.append(_deleted(pruned, None))
    if removing:
        existing = _index(live(removing, kubectl, connection, namespace, cwd))
        for at, obj in enumerate(removing):
            found = existing.get(_key(obj, default))
            if found is not None:
                changes.append(_deleted(found, at))
    return changes


def live(
    objects: Sequence[Mapping[str, Any]],
    kubectl: str,
    connection: Connection,
    namespace: str | None,
    cwd: Path,
) -> list[dict[str, Any]]:
    """The objects as the cluster holds them now (those it does not hold are left out): one kubectl.
    They may hold Secret data: never print them."""
    asked = _write(objects, connection, "to-read")
    text = _kubectl(
        [*_base(kubectl, connection, namespace), "get", "-f", str(asked), "-o", "json", "--ignore-not-found"],
        connection,
        cwd,
        "live.json",
    )
    return _items(_documents(text))


def running_images(objects: Iterable[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(workload, container, image) of every workload among `objects` (as `live` returns them)."""
    found = []
    for obj in objects:
        for container, image in images(obj).items():
            found.append((_title(obj), container, image))
    return found


def protect(objects: Iterable[Mapping[str, Any]]) -> None:
    """Register every value of a Secret's data and stringData (and its base64 text) as a secret: from
    now on it is masked in any encoding wherever the pipe prints (kubectl's stderr included)."""
    for obj in objects:
        if obj.get("kind") not in SECRET_KINDS:
            continue
        for field in ("data", "stringData"):
            values = obj.get(field)
            for value in values.values() if isinstance(values, dict) else ():
                text = str(value)
                log.register_secret(text)
                if field == "data":
                    with contextlib.suppress(binascii.Error, ValueError):
                        log.register_secret(base64.b64decode(text, validate=True).decode("utf-8", "replace"))


# --- kubectl ---------------------------------------------------------------------------------------


def _base(kubectl: str, connection: Connection, namespace: str | None) -> list[str]:
    return [
        kubectl,
        "--cache-dir",
        str(connection.workdir / "cache"),
        *(["--namespace", namespace] if namespace else []),
    ]


def _write(objects: Sequence[Mapping[str, Any]], connection: Connection, name: str) -> Path:
    path = connection.workdir / f"{name}.json"
    # JSON, one List. default=str: a YAML timestamp the manifest left unquoted is text to Kubernetes.
    path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": list(objects)}, default=str))
    return path


def _kubectl(args: list[str], connection: Connection, cwd: Path, output: str) -> str:
    status, text = process.capture(
        args,
        connection.environment,
        cwd,
        DIFF_LIMIT_SECONDS,
        "DIFF_LIMIT_SECONDS, a plan's kubectl call",
        connection.workdir / output,
        MAX_OUTPUT_BYTES,
        _MIGRATION_WARNING,
    )
    if status != 0:
        verb = next(word for word in args if word in ("apply", "get"))
        raise PipeError(f"kubectl {verb} for the plan failed (exit status {status}): see its message above.")
    return text


def _documents(text: str) -> list[Any]:
    """The JSON documents kubectl printed one after another (the applied List, then each pruned one)."""
    decoder = json.JSONDecoder()
    documents: list[Any] = []
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return documents
        try:
            document, at = decoder.raw_decode(text, at)
        except ValueError:
            raise PipeError("kubectl printed something else than JSON for the plan.") from None
        documents.append(document)


def _items(documents: Iterable[Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for document in documents:
        if isinstance(document, dict) and str(document.get("kind", "")).endswith("List"):
            found += _items(document.get("items") or [])
        elif isinstance(document, dict):
            found.append(document)
    return found


# --- comparing -------------------------------------------------------------------------------------


def _key(obj: Mapping[str, Any], namespace: str | None) -> "Key":
    metadata = obj.get("metadata") or {}
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return (
        group,
        str(obj.get("kind")),
        metadata.get("namespace") or namespace or "",
        str(metadata.get("name")),
    )


Key = tuple[str, str, str, str]


class _Index(dict[Key, Mapping[str, Any]]):
    """Objects by (group, kind, namespace, name): a cluster-scoped one (the server's, without a
    namespace) is found under any namespace asked for (the manifest's, with the default one)."""

    def get(self, key: Key, default: Any = None) -> Any:
        found = super().get(key)
        return found if found is not None else super().get((*key[:2], "", key[3]), default)


def _index(objects: Iterable[Mapping[str, Any]]) -> _Index:
    return _Index((_key(obj, None), obj) for obj in objects)


def _title(obj: Mapping[str, Any]) -> str:
    return f"{obj.get('kind')}/{(obj.get('metadata') or {}).get('name')}"


def _deleted(obj: Mapping[str, Any], source: int | None) -> ObjectChange:
    metadata = obj.get("metadata") or {}
    kind = str(obj.get("kind"))
    return ObjectChange(
        "deleted",
        kind,
        str(metadata.get("name")),
        metadata.get("namespace"),
        (),
        source,
        kind in SECRET_KINDS,
    )


def _server_side(options: Sequence[str]) -> list[str]:
    """A client-side apply's options as a server-side one takes them: the same fields applied, taken
    over from any other manager, as a client-side apply overwrites them."""
    if "--server-side" in options:
        return list(options)
    kept = [word for word in options if word.split("=")[0] not in _CLIENT_SIDE_ONLY]
    return [*kept, "--server-side", "--force-conflicts"]


def _compare(
    at: int,
    obj: Mapping[str, Any],
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    converted: bool,
) -> ObjectChange:
    metadata = (after or obj).get("metadata") or {}
    kind = str(obj.get("kind"))
    shown = (kind, str(metadata.get("name")), metadata.get("namespace"))
    secret = kind in SECRET_KINDS
    if before is None:
        return ObjectChange("created", *shown, (), at, secret)
    if after is None:  # the dry run printed no such object: kubectl left it as it is
        return ObjectChange("unchanged", *shown, (), at, secret)
    details = describe(before, after)
    if converted:  # what the server-side dry run keeps but the client-side apply removes
        details += removed_fields(before, obj, bool(details))
    return ObjectChange("changed" if details else "unchanged", *shown, tuple(details), at, secret)
