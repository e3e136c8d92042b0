"""Watching an Elastic Beanstalk environment: its new events streamed to the log, waits for Ready
that end at a deadline, and the verdict on a deploy (ERROR events of this deploy, Red health, or a
version other than the one deployed).

Events are read from a watermark (the newest event before the wait) and de-duplicated, so the
pipe's clock never needs to agree with AWS's.
"""

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipe.common.deadline import Deadline
from pipe.common.errors import PipeError
from pipe.common.line_safe import escape
from pipe.common.log import logger

# DescribeEvents pages read per poll: a deploy writes a handful of events per interval.
MAX_EVENT_PAGES = 5
EVENTS_PER_PAGE = 100
# The events quoted again in a failure's details.
RECENT_EVENTS = 10
FAILED_SEVERITIES = ("ERROR", "FATAL")
# Health that fails a deploy once the environment is Ready again and the grace period is over
# (enhanced health: Degraded and Severe are Red; basic health has only the colour).
FAILED_HEALTH = ("Red",)
FAILED_HEALTH_STATUS = ("Degraded", "Severe")
# Health that ends the grace period at once: Green is Ok or Info.
HEALTHY = ("Green",)
# Status values from which no wait ends in Ready.
GONE = ("Terminating", "Terminated")


@dataclass(frozen=True)
class EnvironmentState:
    name: str
    status: str
    health: str
    health_status: str
    version_label: str | None
    cname: str | None
    abortable: bool
    platform_arn: str | None = None

    def describe(self) -> str:
        health = f"{self.health} ({self.health_status})" if self.health_status else self.health
        return f"{self.status}, health {health}, version {self.version_label or 'none'}"

    def unhealthy(self) -> bool:
        return self.health in FAILED_HEALTH or self.health_status in FAILED_HEALTH_STATUS

    def healthy(self) -> bool:
        return self.health in HEALTHY and not self.unhealthy()


class WaitFailed(Exception):
    """The environment did not get where it should: `reason` is the user's line, `state` the last seen."""

    def __init__(
        self,
        reason: str,
        state: EnvironmentState | None,
        events: list[dict[str, Any]],
        timed_out: bool = False,
    ):
        super().__init__(reason)
        self.reason = reason
        self.state = state
        self.events = events
        self.timed_out = timed_out


def event_line(event: dict[str, Any]) -> str:
    # Event messages come from instances (command output): their line breaks must not forge a line.
    when = event["EventDate"].strftime("%H:%M:%S")
    return f"{when} {event.get('Severity', 'INFO'):<5} {escape(event.get('Message', ''))}"


# Elastic Beanstalk's Describe* calls answer an empty list, not AccessDenied, to a caller without
# permission: "not found" may be either.
NOT_FOUND_OR_DENIED = (
    "Elastic Beanstalk answers the same when the role may not call elasticbeanstalk:{action}, so "
    "check the role's permissions too."
)


def describe(eb: Any, application: str, name: str) -> EnvironmentState:
    answer = eb.describe_environments(ApplicationName=application, EnvironmentNames=[name])
    named = [item for item in answer.get("Environments", []) if item.get("EnvironmentName") == name]
    # Terminated environments of the same name stay listed for a while (IncludeDeleted).
    found = [item for item in named if item.get("Status") != "Terminated"]
    if not found and named:
        raise PipeError(
            f"Elastic Beanstalk environment {name!r} of application {application!r} is terminated; "
            "deploy to a running environment (check ENVIRONMENT_NAME) or rebuild it first."
        )
    if not found:
        raise PipeError(
            f"Elastic Beanstalk environment {name!r} was not found in application {application!r} in "
            f"{eb.meta.region_name}; check ENVIRONMENT_NAME, APPLICATION_NAME and AWS_DEFAULT_REGION. "
            + NOT_FOUND_OR_DENIED.format(action="DescribeEnvironments")
        )
    item = found[0]
    return EnvironmentState(
        name=item["EnvironmentName"],
        status=item.get("Status", "Unknown"),
        health=item.get("Health", "Grey"),
        health_status=item.get("HealthStatus", ""),
        version_label=item.get("VersionLabel"),
        cname=item.get("CNAME"),
        abortable=bool(item.get("AbortableOperationInProgress")),
        platform_arn=item.get("PlatformArn"),
    )


class EventStream:
    """The environment's events since `mark()`, each logged once, oldest first."""

    def __init__(self, eb: Any, application: str, environment: str):
        self._eb = eb
        self._filter = {"ApplicationName": application, "EnvironmentName": environment}
        self._seen: set[tuple[Any, ...]] = set()
        self._start: datetime | None = None
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT_EVENTS)
        # Every ERROR (or FATAL) event since mark(), for the result report.
        self.errors: list[dict[str, Any]] = []

    @property
    def seen_any(self) -> bool:
        return bool(self._seen)

    @staticmethod
    def _key(event: dict[str, Any]) -> tuple[Any, ...]:
        return (event["EventDate"], event.get("Severity"), event.get("Message"), event.get("RequestId"))

    def mark(self) -> None:
        """Events from now on are new: the newest existing event is the watermark."""
        newest = self._eb.describe_events(**self._filter, MaxRecords=1).get("Events", [])
        if not newest:
            return
        self._start = newest[0]["EventDate"]
        # Several events can share the watermark's time: every one of them is old.
        at_start = self._eb.describe_events(**self._filter, StartTime=self._start, MaxRecords=EVENTS_PER_PAGE)
        self._seen.update(self._key(event) for event in [*newest, *at_start.get("Events", [])])

    def poll(self) -> list[dict[str, Any]]:
        query = dict(self._filter, MaxRecords=EVENTS_PER_PAGE)
        if self._start is not None:
            query["StartTime"] = self._start
        newest_first: list[dict[str, Any]] = []
        for _ in range(MAX_EVENT_PAGES):
            answer = self._eb.describe_events(**query)
            newest_first += answer.get("Events", [])
            if not answer.get("NextToken"):
                break
            query["NextToken"] = answer["NextToken"]
        new = [event for event in reversed(newest_first) if self._key(event) not in self._seen]
        for event in new:
            self._seen.add(self._key(event))
            self.recent.append(event)
            if self._start is None or event["EventDate"] > self._start:
                self._start = event["EventDate"]
            severity = event.get("Severity", "INFO")
            if severity in FAILED_SEVERITIES:
                self.errors.append(event)
                logger.error("Event %s", event_line(event))
            elif severity == "WARN":
                logger.warning("Event %s", event_line(event))
            else:
                logger.info("Event %s", event_line(event))
        return new


class Watcher:
    def __init__(self, eb: Any, application: str, environment: str, interval: float, grace: float = 0.0):
        self.eb = eb
        self.application = application
        self.environment = environment
        self.interval = interval
        # After an update, how long health may take to become Green (HEALTH_GRACE_PERIOD).
        self.grace = grace
        self.events = EventStream(eb, application, environment)

    def state(self) -> EnvironmentState:
        return describe(self.eb, self.application, self.environment)

    def _wait(
        self,
        deadline: Deadline,
        verdict: Callable[[EnvironmentState, list[dict[str, Any]]], EnvironmentState | None],
        overdue: Callable[[EnvironmentState], str],
        report: Callable[[EnvironmentState], None],
        progress: Callable[[EnvironmentState], str] = EnvironmentState.describe,
    ) -> EnvironmentState:
        """The one poll loop of every wait. Each poll reads the state and the new events; `verdict`
        ends the wait (a state, or WaitFailed) or lets it go on (None). An environment being deleted
        ends it, and so does the deadline, with `overdue`'s reason. While it goes on, `report` says
        so each time `progress` changes."""
        said = None
        while True:
            state = self.state()
            ended = verdict(state, self.events.poll())
            if ended is not None:
                return ended
            if state.status in GONE:
                raise WaitFailed(f"environment {self.environment} is {state.status}", state, [])
            if deadline.remaining() <= 0:
                raise WaitFailed(overdue(state), state, list(self.events.recent), timed_out=True)
            if progress(state) != said:
                said = progress(state)
                report(state)
            deadline.sleep(self.interval)

    def until_ready(self, deadline: Deadline, why: str) -> EnvironmentState:
        """Wait until the environment is Ready (another operation may be running on it)."""
        return self._wait(
            deadline,
            verdict=lambda state, _new: state if state.status == "Ready" else None,
            overdue=lambda state: (
                f"environment {self.environment} was still {state.describe()} after {deadline.seconds:g} s "
                f"(waiting for Ready {why})"
            ),
            report=lambda state: logger.info(
                "Environment %s is %s (another operation is running); waiting for Ready %s, "
                "at most %.0f s more.",
                self.environment,
                state.status,
                why,
                deadline.remaining(),
            ),
            progress=lambda state: state.status,
        )

    def until_deployed(self, deadline: Deadline, request_id: str | None, label: str) -> EnvironmentState:
        """Wait for the update made by `request_id` to end; fail at the first ERROR event it writes."""

        def verdict(state: EnvironmentState, new: list[dict[str, Any]]) -> EnvironmentState | None:
            errors = [
                event
                for event in new
                if event.get("Severity") in FAILED_SEVERITIES
                and (request_id is None or event.get("RequestId") in (request_id, None))
            ]
            if errors:
                # Outside text, raw: the failure line it ends up in is escaped as a whole (final_line).
                raise WaitFailed(errors[0].get("Message", "an ERROR event"), state, errors)
            if state.status != "Ready":
                return None
            if state.version_label != label:
                raise WaitFailed(
                    f"the update finished but the environment runs version {state.version_label}, not {label}",
                    state,
                    list(self.events.recent),
                )
            return self._until_healthy(deadline, state)

        return self._wait(
            deadline,
            verdict,
            overdue=lambda state: (
                f"the update did not finish within {deadline.seconds:g} s; the environment is {state.describe()}"
            ),
            report=lambda state: logger.info("Environment %s: %s.", self.environment, state.describe()),
        )

    def _until_healthy(self, deadline: Deadline, state: EnvironmentState) -> EnvironmentState:
        """After the update: health lags the status (instances must pass the load balancer's healthy
        threshold), so wait up to the grace period, within the deadline, for Green. Red at its end
        fails; Yellow or Grey at its end is reported and accepted."""
        if state.healthy():
            return state
        grace = deadline.part(self.grace)
        if grace.seconds > 0:
            logger.info(
                "Update finished; health is %s: waiting up to %.0f s for Green (HEALTH_GRACE_PERIOD).",
                state.describe(),
                grace.seconds,
            )
        try:
            # Health changes show as events; the state is not reported again on each change.
            return self._wait(
                grace,
                verdict=lambda state, _new: state if state.healthy() else None,
                overdue=lambda state: "the health grace period is over",
                report=lambda state: None,
            )
        except WaitFailed as over:
            if not over.timed_out or over.state is None:
                raise
            state = over.state
        health = f"{state.health} ({state.health_status})" if state.health_status else state.health
        cut = " (cut short by DEPLOY_TIMEOUT)" if grace.seconds < self.grace else ""
        if state.unhealthy():
            raise WaitFailed(
                f"the update finished but the environment's health is {health} at the end of the "
                f"{grace.seconds:g} s health grace period{cut}",
                state,
                list(self.events.recent),
            )
        logger.warning(
            "The environment's health is %s, not Green, at the end of the %g s health grace period; "
            "only Red fails a deploy.",
            health,
            grace.seconds,
        )
        return state
