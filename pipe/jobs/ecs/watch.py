"""Following an ECS service: its state read by DescribeServices, its events streamed (each once, in
order, escaped), a wait for a busy service, and one deployment followed by its id until its
rolloutState says COMPLETED or FAILED, or the deadline passes.

Events are told apart by their ids, so the pipe's clock never needs to agree with AWS's.
"""

from collections.abc import Callable
from typing import Any, NamedTuple

from pipe.common.deadline import Deadline
from pipe.common.errors import PipeError
from pipe.common.line_safe import escape
from pipe.common.log import logger

# Service statuses from which no deployment completes (DescribeServices: ACTIVE, DRAINING, INACTIVE).
GONE = ("DRAINING", "INACTIVE")


class Deployment(NamedTuple):
    id: str
    status: str  # PRIMARY, ACTIVE (being replaced) or INACTIVE
    task_definition: str
    desired: int
    running: int
    pending: int
    failed: int
    rollout: str  # IN_PROGRESS, COMPLETED, FAILED ("" before rollouts were tracked)
    reason: str

    def counts(self) -> str:
        return (
            f"{self.running} running, {self.pending} pending of {self.desired} desired, "
            f"{self.failed} failed to start"
        )


class ServiceState(NamedTuple):
    name: str
    status: str
    desired: int
    task_definition: str
    controller: str
    circuit_breaker: bool
    breaker_rolls_back: bool
    deployments: tuple[Deployment, ...]

    def primary(self) -> Deployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    def deployment(self, identifier: str) -> Deployment | None:
        return next((d for d in self.deployments if d.id == identifier), None)

    def busy(self) -> bool:
        """Another deployment is still under way: more than one, or the primary one rolling out."""
        primary = self.primary()
        return len(self.deployments) > 1 or (primary is not None and primary.rollout == "IN_PROGRESS")


class WaitFailed(Exception):
    """The deployment did not get where it should: `reason` is the user's line, `state` the last seen."""

    def __init__(self, reason: str, state: ServiceState, timed_out: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.state = state
        self.timed_out = timed_out


def revision(arn: str) -> str:
    """`family:revision` of a task definition ARN (how ECS's console names it)."""
    return arn.rsplit("/", 1)[-1]


def _deployment(item: dict[str, Any]) -> Deployment:
    return Deployment(
        id=item.get("id", ""),
        status=item.get("status", ""),
        task_definition=item.get("taskDefinition", ""),
        desired=item.get("desiredCount", 0),
        running=item.get("runningCount", 0),
        pending=item.get("pendingCount", 0),
        failed=item.get("failedTasks", 0),
        rollout=item.get("rolloutState", ""),
        reason=item.get("rolloutStateReason", ""),
    )


def describe(ecs: Any, cluster: str, service: str) -> tuple[ServiceState, list[dict[str, Any]]]:
    """The service's state and its events (newest first, as ECS answers them)."""
    answer = ecs.describe_services(cluster=cluster, services=[service])
    found = [item for item in answer.get("services", []) if item.get("serviceName") == service]
    if not found:
        raise PipeError(
            f"ECS service {service!r} was not found in cluster {cluster!r} in {ecs.meta.region_name}; check "
            "SERVICE_NAME, CLUSTER_NAME and AWS_DEFAULT_REGION."
        )
    item = found[0]
    breaker = item.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    state = ServiceState(
        name=service,
        status=item.get("status", ""),
        desired=item.get("desiredCount", 0),
        task_definition=item.get("taskDefinition", ""),
        controller=item.get("deploymentController", {}).get("type", "ECS"),
        circuit_breaker=bool(breaker.get("enable")),
        breaker_rolls_back=bool(breaker.get("rollback")),
        deployments=tuple(_deployment(d) for d in item.get("deployments", [])),
    )
    return state, list(item.get("events", []))


class Watcher:
    """Polls one service every `interval` seconds, logging its new events."""

    def __init__(self, ecs: Any, cluster: str, service: str, interval: float):
        self.ecs, self.cluster, self.service, self.interval = ecs, cluster, service, interval
        self._seen: set[str] = set()

    def mark(self, events: list[dict[str, Any]]) -> None:
        """These events are old: only later ones are streamed."""
        self._seen.update(event.get("id", "") for event in events)

    def poll(self) -> ServiceState:
        state, events = describe(self.ecs, self.cluster, self.service)
        for event in reversed(events):
            if event.get("id", "") in self._seen:
                continue
            self._seen.add(event.get("id", ""))
            when = (
                event["createdAt"].strftime("%H:%M:%S") if hasattr(event.get("createdAt"), "strftime") else ""
            )
            # Messages come from ECS but carry names of the user's (tasks, target groups): escaped.
            logger.info("Event %s %s", when, escape(event.get("message", "")))
        return state

    def _wait(
        self,
        deadline: Deadline,
        verdict: Callable[[ServiceState], ServiceState | None],
        overdue: Callable[[ServiceState], str],
        progress: Callable[[ServiceState], str],
    ) -> ServiceState:
        """The one poll loop: `verdict` ends the wait (a state, or WaitFailed) or lets it go on; a
        service being drained ends it, so does the deadline; `progress` is logged when it changes."""
        said = None
        while True:
            state = self.poll()
            ended = verdict(state)
            if ended is not None:
                return ended
            if state.status in GONE:
                raise WaitFailed(f"service {self.service} is {state.status} (being deleted)", state)
            if deadline.remaining() <= 0:
                raise WaitFailed(overdue(state), state, timed_out=True)
            if progress(state) != said:
                said = progress(state)
                logger.info("%s", said)
            deadline.sleep(self.interval)

    def until_idle(self, deadline: Deadline, first: ServiceState) -> ServiceState:
        """Wait while another deployment is under way (queued behind it, as a deploy in the console is)."""
        if not first.busy():
            return first
        primary = first.primary()
        logger.info(
            "Service %s is in the middle of a deployment (%s, %s): waiting for it to finish before "
            "deploying, at most %.0f s (DEPLOY_TIMEOUT).",
            self.service,
            primary.id if primary else "unknown",
            revision(primary.task_definition) if primary else "",
            deadline.remaining(),
        )
        return self._wait(
            deadline,
            verdict=lambda state: None if state.busy() else state,
            overdue=lambda state: (
                f"service {self.service} was still busy with another deployment after {deadline.seconds:g} s"
            ),
            progress=lambda state: f"Waiting: {len(state.deployments)} deployment(s) on {self.service}.",
        )

    def follow(self, deadline: Deadline, identifier: str) -> ServiceState:
        """Follow deployment `identifier` until its rollout COMPLETED; FAILED (the circuit breaker),
        or replaced by another deployment, raises WaitFailed."""

        def verdict(state: ServiceState) -> ServiceState | None:
            mine = state.deployment(identifier)
            if mine is None or (mine.status != "PRIMARY" and mine.rollout != "COMPLETED"):
                primary = state.primary()
                now = revision(primary.task_definition) if primary else "none"
                why = mine.reason if mine is not None and mine.reason else "another deployment replaced it"
                raise WaitFailed(f"{why.rstrip('.')} (the service now deploys {now})", state)
            if mine.rollout == "FAILED":
                raise WaitFailed(mine.reason or "its rollout failed", state)
            if mine.rollout == "COMPLETED" or (not mine.rollout and _steady(state, mine)):
                return state
            return None

        def overdue(state: ServiceState) -> str:
            mine = state.deployment(identifier)
            counts = mine.counts() if mine else "no longer listed"
            return f"deployment {identifier} did not complete within {deadline.seconds:g} s ({counts})"

        def progress(state: ServiceState) -> str:
            mine = state.deployment(identifier)
            if mine is None:
                return f"Deployment {identifier}: no longer listed."
            return f"Deployment {identifier}: {mine.rollout or mine.status}, {mine.counts()}."

        return self._wait(deadline, verdict, overdue, progress)


def _steady(state: ServiceState, mine: Deployment) -> bool:
    # A service without rollout states (older deployments): the one deployment with every task running.
    return len(state.deployments) == 1 and mine.running == mine.desired and mine.pending == 0
