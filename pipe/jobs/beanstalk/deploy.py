"""The deploy: wait for a busy environment, UpdateEnvironment once (even when an answer is lost),
watch it until done, and on failure roll back to the version that ran before when asked.

One DEPLOY_TIMEOUT covers waiting for Ready before the update and the update itself; the pipe
ends within that time plus one WAIT_INTERVAL (and one API call).
"""

import re
import time
from collections.abc import Mapping
from typing import Any

from pipe.aws import errors
from pipe.common import shared_storage
from pipe.common.deadline import Deadline
from pipe.common.errors import PipeError
from pipe.common.log import emit, logger
from pipe.jobs.beanstalk import checks, reports
from pipe.jobs.beanstalk.settings import Deployment
from pipe.jobs.beanstalk.watch import NOT_FOUND_OR_DENIED, EnvironmentState, WaitFailed, Watcher, event_line

RESULT_FILE = "aws-oidc-deploy/beanstalk.json"
_INVALID_STATE = re.compile(r"invalid state for this operation", re.IGNORECASE)


class DeployFailed(PipeError):
    """The deploy failed: the user's line, with what the result report says (the last state seen,
    whether the version that ran before runs again)."""

    def __init__(self, message: str, details: str, state: EnvironmentState | None, rolled_back: bool = False):
        super().__init__(message, details)
        self.state = state
        self.rolled_back = rolled_back


def _events_detail(events: list[dict[str, Any]]) -> str:
    if not events:
        return ""
    # One event a line: event_line escapes the message's own line breaks, so splitting the details
    # on "\n" (pipe.main) gives back these lines.
    return "Last events:\n" + "\n".join(f"  {event_line(event)}" for event in events)


def _update(
    eb: Any,
    watcher: Watcher,
    application: str,
    environment: str,
    label: str,
    deadline: Deadline,
    why: str,
    arrived: EnvironmentState | None = None,
) -> tuple[EnvironmentState, str | None]:
    """Wait for Ready, then UpdateEnvironment; if another update slipped in between, wait again.

    Returns the state before the update and the update's request id. When the operation waited for
    leaves `label` running and healthy, it was this deploy, started by an attempt whose answer was
    lost or by a run of this step that was killed: it is not made a second time, and the request id
    is None (unknown). After a lost answer the state before is the one before that first attempt,
    so that a rollback goes back to what ran before this run."""
    from botocore.exceptions import ClientError

    waited = arrived is not None and arrived.status != "Ready"
    first = arrived
    answer_lost = False
    while True:
        state = watcher.until_ready(deadline, why)
        first = first or state
        if waited and state.version_label == label and not state.unhealthy():
            logger.info(
                "The operation waited for left %s running %s (%s): that was this deploy, started by an "
                "earlier attempt; not deploying it again.",
                environment,
                label,
                state.describe(),
            )
            return first, None
        try:
            answer = eb.update_environment(
                ApplicationName=application, EnvironmentName=environment, VersionLabel=label
            )
        except ClientError as error:
            if _INVALID_STATE.search(errors.message(error)) and deadline.remaining() > 0:
                waited = True
                if errors.retried(error):
                    answer_lost = True
                    logger.info(
                        "UpdateEnvironment was sent again (no answer came) and found %s busy: the first "
                        "attempt may have started this deploy; waiting for it.",
                        environment,
                    )
                else:
                    logger.info("Environment %s got busy again before the update; waiting.", environment)
                    deadline.sleep(watcher.interval)
                continue
            raise
        return (first if answer_lost else state), answer["ResponseMetadata"].get("RequestId")


def _abort(eb: Any, watcher: Watcher, failed: WaitFailed) -> bool:
    """Abort a timed-out update still in progress; True if one was aborted."""
    current = watcher.state()
    if not (failed.timed_out and current.status == "Updating" and current.abortable):
        return False
    from botocore.exceptions import ClientError

    logger.warning("Aborting the update still in progress (AbortEnvironmentUpdate).")
    try:
        eb.abort_environment_update(EnvironmentName=watcher.environment)
    except ClientError as error:
        # Sent again after a lost answer, it finds the environment Aborting: the first one worked.
        if not (errors.retried(error) and _INVALID_STATE.search(errors.message(error))):
            raise
        logger.info("AbortEnvironmentUpdate was sent again (no answer came); the abort is under way.")
    return True


def _rollback(
    eb: Any, watcher: Watcher, deployment: Deployment, previous: str, failed: WaitFailed
) -> EnvironmentState:
    application, environment = deployment.application, deployment.environment
    deadline = Deadline(deployment.timeout)
    logger.warning("ROLLBACK_ON_FAILURE: rolling %s back to version %s.", environment, previous)
    _abort(eb, watcher, failed)
    state = watcher.until_ready(deadline, "to roll back")
    if state.version_label == previous and not state.unhealthy():
        return state
    _, request_id = _update(eb, watcher, application, environment, previous, deadline, "to roll back")
    logger.info("Rollback started: %s → %s (request %s).", state.version_label, previous, request_id)
    return watcher.until_deployed(deadline, request_id, previous)


def _deploy_failed(
    eb: Any, watcher: Watcher, deployment: Deployment, label: str, previous: str | None, failed: WaitFailed
) -> DeployFailed:
    environment = deployment.environment
    if failed.timed_out:
        head = f"Deploy of {label} to {environment} timed out (DEPLOY_TIMEOUT {deployment.timeout} s): {failed.reason}."
    else:
        head = f"Deploy of {label} to {environment} failed: {failed.reason.rstrip('.')}."
    details = _events_detail(failed.events)
    if not deployment.rollback_on_failure:
        return DeployFailed(head, details, failed.state)
    from botocore.exceptions import BotoCoreError, ClientError

    if not previous or previous == label:
        error = _abort_only(eb, watcher, deployment.timeout, head, details, failed)
        return DeployFailed(error.message, error.details, failed.state)
    try:
        state = _rollback(eb, watcher, deployment, previous, failed)
    except WaitFailed as again:
        return DeployFailed(
            f"{head} The rollback to {previous} failed too: {again.reason}.",
            details,
            again.state or failed.state,
        )
    except (ClientError, BotoCoreError) as error:
        return DeployFailed(
            f"{head} The rollback to {previous} failed too: {errors.sentence(error)}",
            details,
            failed.state,
        )
    return DeployFailed(
        f"{head} Rolled back to {previous}: the environment is {state.describe()}.", details, state, True
    )


def _abort_only(
    eb: Any, watcher: Watcher, timeout: int, head: str, details: str, failed: WaitFailed
) -> PipeError:
    """ROLLBACK_ON_FAILURE with no other version to go back to: a timed-out update is aborted rather
    than left running; anything else is left as it is."""
    from botocore.exceptions import BotoCoreError, ClientError

    no_rollback = f"{head} No rollback: no other version ran before."
    try:
        if not _abort(eb, watcher, failed):
            return PipeError(no_rollback, details)
        state = watcher.until_ready(Deadline(timeout), "after the abort")
    except WaitFailed as again:
        return PipeError(f"{no_rollback} Aborted the update, but {again.reason}.", details)
    except (ClientError, BotoCoreError) as error:
        return PipeError(f"{no_rollback} Aborting the update failed: {errors.sentence(error)}", details)
    return PipeError(f"{no_rollback} Aborted the update: the environment is {state.describe()}.", details)


def write_result(env: Mapping[str, str], result: dict[str, Any]) -> None:
    shared_storage.write_json(env, RESULT_FILE, result)


def deploy(
    eb: Any,
    deployment: Deployment,
    label: str,
    result: dict[str, Any],
    env: Mapping[str, str],
    started: float,
    version_status: str,
) -> str:
    """The plan is recorded before anything waits or changes; the result after, FAILED when the
    deploy fails (pipe.jobs.beanstalk.reports)."""
    watcher = Watcher(
        eb, deployment.application, deployment.environment, deployment.wait_interval, deployment.health_grace
    )
    arrived = watcher.state()  # a missing environment is reported before anything waits
    watcher.events.mark()
    reports.record_plan(deployment, label, arrived, result)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return _deploy(eb, watcher, deployment, label, result, env, started, version_status, arrived)
    except (PipeError, ClientError, BotoCoreError) as error:
        failed = error if isinstance(error, DeployFailed) else None
        reports.record_result(
            deployment,
            label,
            time.monotonic() - started,
            failed.state if failed else None,
            watcher.events.errors,
            rolled_back=bool(failed and failed.rolled_back),
            failure=error.message if isinstance(error, PipeError) else errors.sentence(error),
        )
        raise


def _deploy(
    eb: Any,
    watcher: Watcher,
    deployment: Deployment,
    label: str,
    result: dict[str, Any],
    env: Mapping[str, str],
    started: float,
    version_status: str,
    arrived: EnvironmentState,
) -> str:
    application, environment = deployment.application, deployment.environment
    deadline = Deadline(deployment.timeout)
    if version_status in checks.IN_PROGRESS:
        checks.until_processed(eb, application, label, deadline, deployment.wait_interval)
    try:
        before, request_id = _update(
            eb, watcher, application, environment, label, deadline, "before deploying", arrived
        )
    except WaitFailed as failed:
        limit = f"; DEPLOY_TIMEOUT is {deployment.timeout} s" if failed.timed_out else ""
        raise DeployFailed(
            f"Could not deploy {label} to {environment}: {failed.reason}{limit}.",
            _events_detail(failed.events),
            failed.state,
        ) from None
    previous = before.version_label
    if request_id is not None:
        logger.info(
            "Deploying %s to %s (was %s), request %s.",
            label,
            environment,
            previous or "no version",
            request_id,
        )
    if not deployment.wait:
        result |= {"status": "Updating", "previous_version_label": previous}
        write_result(env, result)
        reports.record_result(deployment, label, time.monotonic() - started, None, [], waited=False)
        return f"Deploy of {label} to {environment} started (WAIT is false, not waiting)."
    try:
        state = watcher.until_deployed(deadline, request_id, label)
    except WaitFailed as failed:
        raise _deploy_failed(eb, watcher, deployment, label, previous, failed) from None
    if not watcher.events.seen_any:  # an update always writes some: they were hidden from the role
        logger.warning(
            "No event of the environment could be read, so an ERROR event would have gone unseen. "
            + NOT_FOUND_OR_DENIED.format(action="DescribeEvents")
        )

    url = f"http://{state.cname}" if state.cname else None
    seconds = round(time.monotonic() - started, 1)
    emit(
        *(
            [
                f"Environment:  {environment}",
                f"Status:       {state.status}",
                f"Health:       {state.health}"
                + (f" ({state.health_status})" if state.health_status else ""),
                f"Version:      {state.version_label}",
                f"URL:          {url or 'none'}",
            ]
        )
    )
    result |= {
        "status": state.status,
        "health": state.health,
        "health_status": state.health_status,
        "running_version_label": state.version_label,
        "previous_version_label": previous,
        "cname": state.cname,
        "url": url,
        "seconds": seconds,
    }
    write_result(env, result)
    reports.record_result(deployment, label, seconds, state, watcher.events.errors)
    return (
        f"Deployed {label} to {environment} in {seconds:g} s: {state.status}, health {state.health}, {url}."
    )
