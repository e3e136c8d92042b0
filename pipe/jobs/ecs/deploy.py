"""The deploy: queue behind a deployment under way, UpdateService once (or follow the deployment an
earlier, killed run of this step started), follow it by its id, and on failure say why its tasks
stopped and leave the service where the user asked: rolled back to the revision that ran before
(ROLLBACK_ON_FAILURE), or as the service's circuit breaker left it.

One DEPLOY_TIMEOUT covers the wait in the queue and the deployment; a rollback has one of its own.
The pipe ends within that time plus one WAIT_INTERVAL (and one API call).
"""

import time
from collections.abc import Mapping
from typing import Any

from pipe.aws import errors
from pipe.common import shared_storage
from pipe.common.deadline import Deadline
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.ecs import reports, tasks
from pipe.jobs.ecs.settings import Settings
from pipe.jobs.ecs.watch import ServiceState, WaitFailed, Watcher, revision

# For later steps (docs/behaviour.md, "What the jobs print"): the last deployment's outcome.
RESULT_FILE = "aws-oidc-deploy/ecs.json"


def _started(state: ServiceState | None, identifier: str | None) -> int:
    mine = state.deployment(identifier) if state is not None and identifier else None
    return mine.running + mine.failed if mine else 0


class Deploy:
    def __init__(self, ecs: Any, chosen: Settings, target: str, started: float, env: Mapping[str, str]):
        self.ecs, self.chosen, self.target, self.started, self.env = ecs, chosen, target, started, env
        self.watcher = Watcher(ecs, chosen.cluster, chosen.service, chosen.wait_interval)

    def _result(
        self,
        identifier: str | None,
        rollout: str,
        state: ServiceState | None,
        rollback: str,
        stopped: list[tasks.StoppedTask],
        passed: bool,
        summary: str,
    ) -> None:
        seconds = time.monotonic() - self.started
        c = self.chosen
        document = reports.result(
            c.cluster,
            c.service,
            self.target,
            identifier,
            rollout,
            seconds,
            _started(state, identifier),
            rollback,
            stopped,
            passed,
            summary,
        )
        shared_storage.write_json(self.env, RESULT_FILE, document)

    def _start(self, state: ServiceState, deadline: Deadline) -> tuple[str | None, str]:
        """The deployment to follow and the revision that ran before; (None, …) when the service
        already runs the target and nothing is to be done."""
        primary = state.primary()
        if primary is not None and primary.task_definition == self.target and state.busy():
            before = next((d.task_definition for d in state.deployments if d.status != "PRIMARY"), "")
            logger.info(
                "A deployment of %s is already under way on %s (%s): an earlier run of this step started it; "
                "following it instead of starting another.",
                revision(self.target),
                self.chosen.service,
                primary.id,
            )
            return primary.id, before or state.task_definition
        try:
            state = self.watcher.until_idle(deadline, state)
        except WaitFailed as failed:
            self._result(None, "", failed.state, "none", [], False, f"Queued, not deployed: {failed.reason}.")
            raise PipeError(
                f"Nothing was deployed: {failed.reason}. Try again when it is done, or raise DEPLOY_TIMEOUT "
                f"({self.chosen.timeout} s)."
            ) from None
        previous = state.task_definition
        if previous == self.target and not self.chosen.force_new_deployment:
            return None, previous
        answer = self.ecs.update_service(
            cluster=self.chosen.cluster,
            service=self.chosen.service,
            taskDefinition=self.target,
            forceNewDeployment=self.chosen.force_new_deployment,
        )
        deployments = answer["service"].get("deployments", [])
        identifier = next((d["id"] for d in deployments if d.get("status") == "PRIMARY"), None)
        if identifier is None:
            raise PipeError(f"UpdateService answered without a PRIMARY deployment for {self.chosen.service}.")
        logger.info("Deployment %s started: %s → %s.", identifier, revision(previous), revision(self.target))
        return identifier, previous

    def run(self, state: ServiceState, events: list[dict[str, Any]]) -> str:
        c = self.chosen
        self.watcher.mark(events)
        deadline = Deadline(c.timeout)
        identifier, previous = self._start(state, deadline)
        if identifier is None:
            summary = f"Service {c.service} already runs {revision(self.target)}: nothing to deploy."
            self._result(None, "COMPLETED", state, "none", [], True, summary)
            return summary + " (Set FORCE_NEW_DEPLOYMENT: 'true' to replace its tasks anyway.)"
        if not c.wait:
            summary = f"Deployment {identifier} of {revision(self.target)} to {c.service} started; not waiting (WAIT: 'false')."
            self._result(identifier, "IN_PROGRESS", None, "none", [], True, summary)
            return summary
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            final = self.watcher.follow(deadline, identifier)
        except WaitFailed as failed:
            raise self._failed(identifier, previous, failed) from None
        except (ClientError, BotoCoreError, PipeError) as error:
            # The deployment goes on in ECS; the report says the step could not follow it.
            summary = f"Deployment {identifier} started, but following it failed: {error}"
            self._result(identifier, "UNKNOWN", None, "none", [], False, summary)
            raise
        seconds = round(time.monotonic() - self.started, 1)
        mine = final.deployment(identifier)
        summary = (
            f"Deployed {revision(self.target)} to {c.service} on {c.cluster} in {seconds:g} s: rollout "
            f"COMPLETED, {mine.running if mine else final.desired} task(s) running."
        )
        self._result(identifier, "COMPLETED", final, "none", [], True, summary)
        return summary

    def _failed(self, identifier: str, previous: str, failed: WaitFailed) -> PipeError:
        c = self.chosen
        stopped = tasks.stopped(self.ecs, c.cluster, identifier)
        mine = failed.state.deployment(identifier)
        if failed.timed_out:
            head = f"Deploy of {revision(self.target)} to {c.service} timed out (DEPLOY_TIMEOUT {c.timeout} s): {failed.reason}."
        else:
            head = f"Deploy of {revision(self.target)} to {c.service} failed: {failed.reason.rstrip('.')}."
        why = _why(stopped)
        advice = tasks.advice(stopped)
        rollback, after = self._after_failure(failed, previous)
        line = " ".join(
            part
            for part in (
                head,
                why,
                *(["Check " + advice[0].split(": check ", 1)[1]] if advice else []),
                after,
            )
            if part
        )
        details = "\n".join(
            [f"  {task.line()}" for task in stopped[: tasks.QUOTED_TASKS]]
            + (
                [f"  … and {len(stopped) - tasks.QUOTED_TASKS} more stopped task(s)."]
                if len(stopped) > tasks.QUOTED_TASKS
                else []
            )
        )
        rollout = "TIMED_OUT" if failed.timed_out else (mine.rollout if mine else "REPLACED")
        self._result(identifier, rollout, failed.state, rollback, stopped, False, line)
        return PipeError(line, ("Stopped tasks of this deployment:\n" + details) if stopped else "")

    def _after_failure(self, failed: WaitFailed, previous: str) -> tuple[str, str]:
        """(the rollback in a word, the sentence that says where the service is left)."""
        c = self.chosen
        primary = failed.state.primary()
        if primary is not None and primary.task_definition != self.target:
            back = revision(primary.task_definition)
            if primary.task_definition == previous and failed.state.breaker_rolls_back:
                return f"circuit breaker → {back}", (
                    f"The deployment circuit breaker rolled the service back to {back}"
                    + self._settle(primary.id)
                    + "."
                )
            return f"replaced → {back}", f"The service now deploys {back}."
        if not c.rollback_on_failure or not previous or previous == self.target:
            left = (
                "left as it is: ECS keeps trying to start it"
                if failed.timed_out or not failed.state.circuit_breaker
                else "left as the circuit breaker left it"
            )
            return (
                "none",
                f"The service is {left} (set ROLLBACK_ON_FAILURE: 'true' to go back to the previous revision).",
            )
        logger.warning("ROLLBACK_ON_FAILURE: rolling %s back to %s.", c.service, revision(previous))
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self.ecs.update_service(cluster=c.cluster, service=c.service, taskDefinition=previous)
            identifier = next(
                d["id"] for d in answer["service"]["deployments"] if d.get("status") == "PRIMARY"
            )
        except (ClientError, BotoCoreError, StopIteration) as error:
            why = errors.access_denied_line(error, service="ecs") if errors.is_access_denied(error) else error
            return "failed", f"The rollback to {revision(previous)} could not start ({why})."
        return (
            f"ROLLBACK_ON_FAILURE → {revision(previous)}",
            f"Rolled back to {revision(previous)}" + self._settle(identifier) + ".",
        )

    def _settle(self, identifier: str) -> str:
        """Follow a rollback deployment, within a DEPLOY_TIMEOUT of its own: how it ended, as a clause."""
        if not self.chosen.wait:
            return ""
        try:
            self.watcher.follow(Deadline(self.chosen.timeout), identifier)
        except WaitFailed as again:
            return f", but that deployment did not complete either: {again.reason}"
        return " (rollout COMPLETED)"


def _why(stopped: list[tasks.StoppedTask]) -> str:
    if not stopped:
        return ""
    exits = tasks.exited(stopped)
    if exits:
        return f"Essential container {', '.join(exits)} exited."
    for task in stopped:
        for container in task.containers:
            if container.reason:
                return f"Container {container.name}: {container.reason}."
    return f"Task {stopped[0].id} stopped: {stopped[0].stopped_reason}."
