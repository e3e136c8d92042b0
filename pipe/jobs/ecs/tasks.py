"""Why a deployment's tasks stopped: its stopped tasks (ECS starts a service's tasks with the
deployment's id as startedBy), each with ECS's stoppedReason and every container's exit code and
reason, and what to check for the reasons seen most.

ECS keeps stopped tasks for about an hour, so a deployment that failed long ago may show none.
"""

from typing import Any, NamedTuple

from pipe.common.line_safe import escape

# DescribeTasks takes at most 100 tasks per call; more stopped tasks than that say nothing new.
MAX_TASKS = 100
# Lines of stopped tasks quoted in a failure's details.
QUOTED_TASKS = 5

# stoppedReason (or a container's reason) → what to check. The texts are ECS's (the Amazon ECS
# Developer Guide, "Amazon ECS stopped task error messages").
ADVICE = (
    (
        "CannotPullContainerError",
        "the image name and tag exist in the registry, and the task execution role may pull it (ECR: "
        "ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer), and the task has a "
        "route to the registry (a NAT gateway, a public IP or VPC endpoints)",
    ),
    (
        "ResourceInitializationError",
        "the task execution role may read the secrets and parameters the task definition names "
        "(secretsmanager:GetSecretValue, ssm:GetParameters, kms:Decrypt) and the task can reach them",
    ),
    (
        "Essential container in task exited",
        "the container's exit code and its logs (the task definition's logConfiguration): the "
        "application stopped on start",
    ),
    (
        "failed ELB health checks",
        "the target group's health check path and port, the container's port mapping, and the "
        "service's healthCheckGracePeriodSeconds",
    ),
    (
        "failed container health checks",
        "the container's healthCheck command, and that the application is up before startPeriod ends",
    ),
    ("OutOfMemoryError", "the container's memory: it was stopped for using more than its limit"),
    (
        "CannotStartContainerError",
        "the container's command, entryPoint, user and mounts: Docker could not start it",
    ),
)


class Container(NamedTuple):
    name: str
    exit_code: int | None
    reason: str


class StoppedTask(NamedTuple):
    id: str
    stopped_reason: str
    stop_code: str
    containers: tuple[Container, ...]

    def detail(self) -> str:
        """The reason and each container's exit code and reason (one said once), as one safe line."""
        parts = [(self.stopped_reason or "stopped") + (f" ({self.stop_code})" if self.stop_code else "")]
        for container in self.containers:
            reason = container.reason if container.reason != self.stopped_reason else ""
            if container.exit_code is None and not container.reason:
                continue
            code = f"exit code {container.exit_code}" if container.exit_code is not None else "no exit code"
            parts.append(f"container {container.name}: {code}" + (f", {reason}" if reason else ""))
        # Reasons quote images and commands: one line whatever they hold.
        return escape("; ".join(parts))

    def line(self) -> str:
        return f"task {self.id}: {self.detail()}"

    def texts(self) -> list[str]:
        return [self.stopped_reason, *(container.reason for container in self.containers)]


def stopped(ecs: Any, cluster: str, deployment_id: str) -> list[StoppedTask]:
    """The stopped tasks of one deployment, newest first (as ListTasks answers), at most MAX_TASKS."""
    arns: list[str] = []
    query = {
        "cluster": cluster,
        "startedBy": deployment_id,
        "desiredStatus": "STOPPED",
        "maxResults": MAX_TASKS,
    }
    answer = ecs.list_tasks(**query)
    arns += answer.get("taskArns", [])
    if not arns:
        return []
    described = ecs.describe_tasks(cluster=cluster, tasks=arns[:MAX_TASKS]).get("tasks", [])
    found = []
    for task in described:
        if task.get("startedBy") not in (None, deployment_id):
            continue
        found.append(
            StoppedTask(
                id=task.get("taskArn", "").rsplit("/", 1)[-1],
                stopped_reason=task.get("stoppedReason", ""),
                stop_code=task.get("stopCode", ""),
                containers=tuple(
                    Container(c.get("name", ""), c.get("exitCode"), c.get("reason", ""))
                    for c in task.get("containers", [])
                ),
            )
        )
    return found


def advice(tasks: list[StoppedTask]) -> list[str]:
    """What to check, once per kind of reason seen, in the order ADVICE lists them."""
    texts = " ".join(text for task in tasks for text in task.texts())
    return [f"{needle}: check {what}." for needle, what in ADVICE if needle.lower() in texts.lower()]


def exited(tasks: list[StoppedTask]) -> list[str]:
    """`container (exit code N)` for each essential container that exited with a code, once each."""
    seen: dict[str, str] = {}
    for task in tasks:
        for container in task.containers:
            if container.exit_code not in (None, 0) and container.name not in seen:
                seen[container.name] = f"{container.name} (exit code {container.exit_code})"
    return list(seen.values())
