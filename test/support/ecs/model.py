"""The ECS stand-in's state: clusters, task definition revisions, services with their deployments,
tasks and events, moved one step per DescribeServices poll (README.md says what each step does and
where ECS documents it)."""

import datetime
import itertools
import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any

ACCOUNT = "123456789012"
REGION = "eu-west-1"
# How a deployment of an image goes (state.outcomes[image]; OK unless scripted).
OK = "OK"
PULL_FAILS = "PULL_FAILS"  # CannotPullContainerError: the task never starts
EXITS = "EXITS"  # the essential container exits (state.exit_codes[image], default 1)
STUCK = "STUCK"  # no container instance can take the task: pending for ever
# Circuit breaker failure threshold (Developer Guide, "How the Amazon ECS deployment circuit breaker
# detects failures"): half the desired count, at least 3, at most 200.
BREAKER_MIN, BREAKER_MAX = 3, 200

PULL_REASON = (
    "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref "
    "{image}: {image}: not found"
)
EXIT_REASON = "Essential container in task exited"
BREAKER_REASON = "ECS deployment circuit breaker: tasks failed to start."


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


_ids = itertools.count(1)


def _deployment_id() -> str:
    return f"ecs-svc/{random.randrange(10**18, 10**19)}"


def _task_id() -> str:
    return f"{next(_ids):08x}{random.randrange(16**24):024x}"


@dataclass
class TaskDefinition:
    family: str
    revision: int
    body: dict[str, Any]
    tags: list[dict[str, str]]
    status: str = "ACTIVE"
    registered_at: datetime.datetime = field(default_factory=now)

    @property
    def arn(self) -> str:
        return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{self.family}:{self.revision}"

    def images(self) -> list[str]:
        return [container["image"] for container in self.body["containerDefinitions"]]


@dataclass
class Deployment:
    task_definition: TaskDefinition
    desired: int
    outcome: str
    id: str = field(default_factory=_deployment_id)
    status: str = "PRIMARY"
    running: int = 0
    pending: int = 0
    failed: int = 0
    rollout: str = "IN_PROGRESS"
    reason: str = "ECS deployment in progress."
    polls: int = 0
    settles_after: int = 3
    created: datetime.datetime = field(default_factory=now)


@dataclass
class Task:
    arn: str
    cluster: str
    started_by: str
    task_definition: str
    last_status: str
    desired_status: str
    containers: list[dict[str, Any]]
    stopped_reason: str = ""
    stop_code: str = ""


@dataclass
class Service:
    name: str
    cluster: str
    task_definition: TaskDefinition
    desired: int
    controller: str = "ECS"
    breaker: bool = True
    rollback: bool = True
    status: str = "ACTIVE"
    deployments: list[Deployment] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # newest first, as ECS answers

    @property
    def arn(self) -> str:
        return f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{self.cluster}/{self.name}"

    def event(self, message: str) -> None:
        self.events.insert(
            0, {"id": f"{random.randrange(16**32):032x}", "createdAt": now(), "message": message}
        )
        del self.events[100:]  # DescribeServices answers the last 100


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.clusters: dict[str, str] = {}  # name → status
        self.families: dict[str, list[TaskDefinition]] = {}
        self.services: dict[tuple[str, str], Service] = {}
        self.tasks: list[Task] = []
        self.outcomes: dict[str, str] = {}  # image → outcome
        self.exit_codes: dict[str, int] = {}  # image → exit code of EXITS
        self.polls_per_deploy = 3
        self.deploy_events: list[str] = []  # messages written as each deployment starts its tasks

    # --- set-up -----------------------------------------------------------------------------
    def register(self, body: dict[str, Any], tags: list[dict[str, str]] | None = None) -> TaskDefinition:
        revisions = self.families.setdefault(body["family"], [])
        made = TaskDefinition(body["family"], len(revisions) + 1, body, tags or [])
        revisions.append(made)
        return made

    def create_service(
        self, cluster: str, name: str, body: dict[str, Any], desired: int = 2, **settings: Any
    ) -> Service:
        self.clusters.setdefault(cluster, "ACTIVE")
        definition = self.register(body)
        service = Service(name, cluster, definition, desired, **settings)
        done = Deployment(definition, desired, OK, running=desired, rollout="COMPLETED", reason="")
        service.deployments.append(done)
        self.services[(cluster, name)] = service
        service.event(f"(service {name}) has reached a steady state.")
        return service

    def busy(self, service: Service, polls: int, body: dict[str, Any] | None = None) -> Deployment:
        """Someone else's deployment under way on `service`, completing after `polls` polls."""
        definition = self.register(body or service.task_definition.body)
        return self.start(service, definition, settles_after=polls)

    # --- life-cycle ---------------------------------------------------------------------------
    def start(
        self, service: Service, definition: TaskDefinition, settles_after: int | None = None
    ) -> Deployment:
        for deployment in service.deployments:
            if deployment.status == "PRIMARY":
                deployment.status = "ACTIVE"
        outcome = next((self.outcomes[i] for i in definition.images() if self.outcomes.get(i, OK) != OK), OK)
        made = Deployment(
            definition, service.desired, outcome, settles_after=settles_after or self.polls_per_deploy
        )
        service.deployments.insert(0, made)
        service.task_definition = definition
        return made

    def _task(self, service: Service, deployment: Deployment, status: str) -> Task:
        containers = [
            {"name": c["name"], "image": c["image"], "lastStatus": status}
            for c in deployment.task_definition.body["containerDefinitions"]
        ]
        task = Task(
            f"arn:aws:ecs:{REGION}:{ACCOUNT}:task/{service.cluster}/{_task_id()}",
            service.cluster,
            deployment.id,
            deployment.task_definition.arn,
            status,
            "RUNNING",
            containers,
        )
        self.tasks.append(task)
        return task

    def _fail_one(self, service: Service, deployment: Deployment) -> None:
        task = self._task(service, deployment, "STOPPED")
        task.desired_status = "STOPPED"
        service.event(f"(service {service.name}) has started 1 tasks: (task {task.arn.rsplit('/', 1)[-1]}).")
        essential = task.containers[0]
        if deployment.outcome == PULL_FAILS:
            image = next(i for i in deployment.task_definition.images() if self.outcomes.get(i) == PULL_FAILS)
            essential = next(c for c in task.containers if c["image"] == image)
            task.stopped_reason, task.stop_code = PULL_REASON.format(image=image), "TaskFailedToStart"
            essential["reason"] = task.stopped_reason
        else:
            image = next(i for i in deployment.task_definition.images() if self.outcomes.get(i) == EXITS)
            essential = next(c for c in task.containers if c["image"] == image)
            task.stopped_reason, task.stop_code = EXIT_REASON, "EssentialContainerExited"
            essential["exitCode"] = self.exit_codes.get(image, 1)
        deployment.failed += 1
        if service.breaker and deployment.failed >= min(
            BREAKER_MAX, max(BREAKER_MIN, math.ceil(deployment.desired / 2))
        ):
            deployment.rollout, deployment.reason = "FAILED", BREAKER_REASON
            service.event(
                f"(service {service.name}) (deployment {deployment.id}) deployment failed: tasks failed to start."
            )
            if service.rollback:
                previous = next(
                    (d for d in service.deployments if d is not deployment and d.rollout == "COMPLETED"), None
                )
                if previous is not None:
                    back = self.start(service, previous.task_definition)
                    service.event(
                        f"(service {service.name}) (deployment {deployment.id}) rolling back to deployment {back.id}."
                    )

    def advance(self, service: Service) -> None:
        """One poll's worth of progress for the service's PRIMARY deployment."""
        deployment = next((d for d in service.deployments if d.status == "PRIMARY"), None)
        if deployment is None or deployment.rollout != "IN_PROGRESS":
            return
        deployment.polls += 1
        if deployment.outcome in (PULL_FAILS, EXITS):
            self._fail_one(service, deployment)
            return
        if deployment.outcome == STUCK:
            deployment.pending = deployment.desired
            if deployment.polls == 1:
                service.event(
                    f"(service {service.name}) was unable to place a task because no container instance met all "
                    "of its requirements. Reason: No Container Instances were found in your cluster."
                )
            return
        if deployment.polls == 1:
            started = [self._task(service, deployment, "PENDING") for _ in range(deployment.desired)]
            deployment.pending = deployment.desired
            names = " ".join(f"(task {t.arn.rsplit('/', 1)[-1]})" for t in started)
            service.event(f"(service {service.name}) has started {deployment.desired} tasks: {names}.")
            for message in self.deploy_events:
                service.event(message)
        elif deployment.polls < deployment.settles_after:
            deployment.running, deployment.pending = deployment.desired, 0
        if deployment.polls >= deployment.settles_after:
            deployment.running, deployment.pending = deployment.desired, 0
            old = [d for d in service.deployments if d is not deployment]
            if old:
                stopped = sum(d.running for d in old)
                service.event(f"(service {service.name}) has stopped {stopped} running tasks.")
            service.deployments = [deployment]  # the old ones go INACTIVE and leave the list
            deployment.rollout, deployment.reason = "COMPLETED", f"ECS deployment {deployment.id} completed."
            service.event(f"(service {service.name}) (deployment {deployment.id}) deployment completed.")
            service.event(f"(service {service.name}) has reached a steady state.")
