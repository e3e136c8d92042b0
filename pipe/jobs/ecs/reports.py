"""The plan and the result of an ECS deploy, for the reviewer (pipe.report): the revision running
and the one to deploy, the images changing and the desired count; then the rollout state, the
duration, the tasks started and the rollback. Images are shown; environment values never are."""

from pipe.jobs.ecs.tasks import StoppedTask
from pipe.jobs.ecs.watch import revision
from pipe.report import Field, Item, Report, record

JOB = "ecs"


def plan(
    cluster: str,
    service: str,
    running: str,
    deploying: str,
    registered: bool,
    images_before: dict[str, str],
    images_after: dict[str, str],
    desired: int,
    force: bool,
) -> None:
    items = []
    for name, image in images_after.items():
        before = images_before.get(name)
        if before is None:
            items.append(Item("added", f"container {name}", f"image {image}"))
        elif before != image:
            items.append(Item("changed", f"container {name}", f"image {before} → {image}"))
        else:
            items.append(Item("unchanged", f"container {name}", f"image {image}"))
    items += [
        Item("removed", f"container {name}", f"image {image}")
        for name, image in images_before.items()
        if name not in images_after
    ]
    how = "new revision" if registered else "revision already registered"
    restart = " (tasks replaced: FORCE_NEW_DEPLOYMENT)" if force and running == deploying else ""
    record(
        Report(
            JOB,
            "plan",
            "PENDING",
            "ECS deploy plan",
            f"Service {service} on cluster {cluster}: {revision(running)} → {revision(deploying)} ({how}), "
            f"{desired} task(s) desired{restart}.",
            fields=[
                Field("Cluster", cluster),
                Field("Service", service),
                Field("Running", revision(running)),
                Field("To deploy", revision(deploying)),
                Field("Desired count", desired, "NUMBER"),
            ],
            items=items,
            document={
                "cluster": cluster,
                "service": service,
                "running": running,
                "deploying": deploying,
                "registered": registered,
                "images": images_after,
                "desired_count": desired,
            },
        )
    )


def result(
    cluster: str,
    service: str,
    deploying: str,
    deployment_id: str | None,
    rollout: str,
    seconds: float,
    started: int,
    rollback: str,
    stopped: list[StoppedTask],
    passed: bool,
    summary: str,
) -> dict[str, object]:
    """Records the result and returns its document (also the shared-storage result file)."""
    document: dict[str, object] = {
        "cluster": cluster,
        "service": service,
        "deploying": deploying,
        "deployment_id": deployment_id,
        "rollout_state": rollout,
        "seconds": round(seconds, 1),
        "tasks_started": started,
        "rollback": rollback,
        "passed": passed,
    }
    record(
        Report(
            JOB,
            "result",
            "PASSED" if passed else "FAILED",
            "ECS deploy result",
            summary,
            fields=[
                Field("Service", service),
                Field("Revision", revision(deploying)),
                Field("Rollout", rollout or "unknown"),
                Field("Duration", int(seconds * 1000), "DURATION"),
                Field("Tasks started", started, "NUMBER"),
                Field("Rollback", rollback),
            ],
            items=[Item("failed", f"task {task.id}", task.detail(), severity="HIGH") for task in stopped],
            document=document,
        )
    )
    return document
