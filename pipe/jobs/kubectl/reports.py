"""The kubectl job's plan and result reports (pipe.report): what a server-side diff says each object
would become, and after an apply what was applied, which rollouts finished and which images now run.
Each item carries the manifest file and the line its object starts on, for the annotation."""

from collections import Counter
from collections.abc import Sequence
from typing import Any

from pipe.kube.diff import ObjectChange
from pipe.kube.manifests import Origin, RolloutTarget
from pipe.report import Change, Field, Item, Outcome, Report, Severity

JOB = "kubectl"
# The diff's words for a change, and the report model's.
_CHANGES: dict[str, Change] = {
    "created": "added",
    "changed": "changed",
    "deleted": "removed",
    "unchanged": "unchanged",
}


def object_name(kind: str, name: str, namespace: str | None) -> str:
    return f"{kind} {name}" + (f" (namespace {namespace})" if namespace else "")


def _origin(origins: Sequence[Origin], index: int | None) -> Origin:
    if index is None or index >= len(origins):
        return Origin("", None)
    return origins[index]


def _severity(change: ObjectChange) -> Severity:
    if change.change == "deleted" or (change.secret and change.change != "unchanged"):
        return "HIGH"
    return "MEDIUM" if change.change == "changed" else "LOW"


def plan(
    changes: Sequence[ObjectChange],
    origins: Sequence[Origin],
    cluster: str,
    namespace: str | None,
    what: str,
) -> Report:
    """The plan of `what` ('kubectl apply', 'kubectl diff', 'kubectl delete') on `cluster`. `origins`
    are those of the objects the plan was made of (applied, or deleted on request); an object --prune
    deletes has none."""
    counts = Counter(change.change for change in changes)
    items = []
    for change in changes:
        origin = _origin(origins, change.source)
        items.append(
            Item(
                _CHANGES[change.change],
                object_name(change.kind, change.name, change.namespace),
                "; ".join(change.details),
                origin.path or None,
                origin.line,
                _severity(change),
            )
        )
    summary = (
        f"{what} would create {counts['created']}, change {counts['changed']} and delete "
        f"{counts['deleted']} object(s) on EKS cluster {cluster}; {counts['unchanged']} unchanged."
    )
    secrets = sum(1 for change in changes if change.secret and change.change != "unchanged")
    if secrets:
        summary += f" {secrets} Secret(s) change (their data is never shown)."
    return Report(
        JOB,
        "plan",
        "PENDING",
        f"Kubernetes plan ({what}, server-side dry run)",
        summary,
        fields=[
            Field("To create", counts["created"], "NUMBER"),
            Field("To change", counts["changed"], "NUMBER"),
            Field("To delete", counts["deleted"], "NUMBER"),
            Field("Unchanged", counts["unchanged"], "NUMBER"),
            Field("Cluster", cluster),
            Field("Namespace", namespace or "(the manifests')"),
        ],
        items=items,
        document={"cluster": cluster, "namespace": namespace, "counts": dict(counts)},
    )


def result(
    objects: Sequence[dict[str, Any]],
    origins: Sequence[Origin],
    cluster: str,
    namespace: str | None,
    rollouts: Sequence[RolloutTarget],
    images: Sequence[tuple[str, str, str]],
    milliseconds: int,
    failure: str | None = None,
    failed_rollout: RolloutTarget | None = None,
) -> Report:
    """After an apply: each object applied (or, with `failure`, the apply's outcome), the rollouts
    waited for, and the images the workloads now run ((workload, container, image))."""
    running: dict[str, list[str]] = {}
    for workload, container, image in images:
        running.setdefault(workload, []).append(f"{container}={image}")
    items = []
    for index, obj in enumerate(objects):
        metadata = obj.get("metadata") or {}
        kind, name = str(obj.get("kind")), str(metadata.get("name"))
        origin = _origin(origins, index)
        failed = failed_rollout is not None and (kind, name) == (failed_rollout.kind, failed_rollout.name)
        shown = running.get(f"{kind}/{name}")
        items.append(
            Item(
                "failed" if failed else "done",
                object_name(kind, name, metadata.get("namespace") or namespace),
                ("rollout did not finish" if failed else "running " + ", ".join(shown) if shown else ""),
                origin.path or None,
                origin.line,
                "HIGH" if failed else "LOW",
            )
        )
    outcome: Outcome
    if failure is not None:
        outcome, summary = "FAILED", failure
    else:
        outcome = "PASSED"
        summary = (
            f"{len(objects)} object(s) applied to EKS cluster {cluster}; {len(rollouts)} rollout(s) finished."
        )
        if images:
            summary += " Running: " + ", ".join(sorted({image for _, _, image in images})) + "."
    return Report(
        JOB,
        "result",
        outcome,
        "Kubernetes apply",
        summary,
        fields=[
            Field("Objects applied", 0 if failure and failed_rollout is None else len(objects), "NUMBER"),
            Field("Rollouts finished", len(rollouts), "NUMBER"),
            Field("Cluster", cluster),
            Field("Namespace", namespace or "(the manifests')"),
            Field("Duration", milliseconds, "DURATION"),
        ],
        items=[] if failure and failed_rollout is None else items,
        document={
            "cluster": cluster,
            "namespace": namespace,
            "rollouts": [str(target) for target in rollouts],
            "images": [{"workload": w, "container": c, "image": i} for w, c, i in images],
        },
    )


def counted(changes: Sequence[ObjectChange]) -> str:
    counts = Counter(change.change for change in changes)
    return ", ".join(f"{counts[kind]} {kind}" for kind in ("created", "changed", "deleted", "unchanged"))


def failed_plan(failure: str, cluster: str, namespace: str | None, what: str) -> Report:
    """A plan the cluster refused (a conflict, a kind it does not serve): FAILED, with kubectl's reason."""
    return Report(
        JOB,
        "plan",
        "FAILED",
        f"Kubernetes plan ({what}, server-side dry run)",
        failure,
        fields=[Field("Cluster", cluster), Field("Namespace", namespace or "(the manifests')")],
        document={"cluster": cluster, "namespace": namespace},
    )
