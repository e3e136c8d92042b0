"""The state of the Elastic Beanstalk stand-in: applications, versions, environments, events, and
the scripted timelines environments move along, one step per DescribeEnvironments poll.

Driven by polls, not by time: a test is as fast as the pipe polls and never races a clock.
"""

import datetime
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field

# How a deploy of a version label plays out (Environment.outcomes; anything else: OK).
OK = "ok"  # Updating → Ready/Green, INFO events
FAIL = "fail"  # Updating → ERROR events → Ready/Red/Severe
RED = "red"  # Updating → Ready, completed "successfully", but health Red/Severe (WARN event)
STUCK = "stuck"  # Updating for ever
SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


class ApiError(Exception):
    """An Elastic Beanstalk error response: HTTP status, code, message, as AWS words it."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def now() -> datetime.datetime:
    # Milliseconds, as Elastic Beanstalk reports times: StartTime filters compare equal values.
    moment = datetime.datetime.now(datetime.UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class Event:
    date: datetime.datetime
    severity: str
    message: str
    application: str
    environment: str | None = None
    version_label: str | None = None
    request_id: str | None = None


@dataclass
class Version:
    application: str
    label: str
    description: str
    bucket: str
    key: str
    etag: str  # of the S3 object when the version was created
    created: datetime.datetime = field(default_factory=now)
    status: str = "Unprocessed"


@dataclass
class Step:
    """What one poll changes: events first, then the fields that are not None."""

    events: list[tuple[str, str]] = field(default_factory=list)
    status: str | None = None
    health: str | None = None
    health_status: str | None = None
    version_label: str | None = None


@dataclass
class Environment:
    application: str
    name: str
    version_label: str | None
    id: str = field(default_factory=lambda: "e-" + uuid.uuid4().hex[:10])
    status: str = "Ready"
    health: str = "Green"
    health_status: str = "Ok"
    created: datetime.datetime = field(default_factory=now)
    updated: datetime.datetime = field(default_factory=now)
    timeline: deque = field(default_factory=deque)
    request_id: str | None = None  # of the operation the timeline belongs to
    previous_label: str | None = None  # what ran before the last UpdateEnvironment (for an abort)
    polls: int = 0

    @property
    def cname(self) -> str:
        return f"{self.name}.eu-west-1.elasticbeanstalk.com"


def deploy_steps(outcome: str, label: str, polls: int) -> list[Step]:
    """The timeline of an UpdateEnvironment to `label`: `polls` polls until it settles."""
    deploying = Step(events=[("INFO", "Deploying new version to instance(s).")])
    waiting = [Step() for _ in range(max(0, polls - 2))]
    if outcome == STUCK:
        return [deploying]
    if outcome == FAIL:
        return [
            deploying,
            *waiting,
            Step(
                events=[
                    ("ERROR", "Instance deployment failed. For details, see 'eb-engine.log'."),
                    (
                        "ERROR",
                        "[Instance: i-0a1b2c3d4e5f67890] Command failed on instance. Return code: 1 "
                        "Output: Engine execution has encountered an error..",
                    ),
                ]
            ),
            Step(
                events=[
                    ("ERROR", "Failed to deploy application."),
                    ("ERROR", "Environment update completed unsuccessfully."),
                ],
                status="Ready",
                health="Red",
                health_status="Severe",
                version_label=label,
            ),
        ]
    if outcome == RED:
        return [
            deploying,
            *waiting,
            Step(
                events=[
                    ("INFO", "Environment update completed successfully."),
                    (
                        "WARN",
                        "Environment health has transitioned from Ok to Severe. 100.0 % of the requests "
                        "are failing with HTTP 5xx.",
                    ),
                ],
                status="Ready",
                health="Red",
                health_status="Severe",
                version_label=label,
            ),
        ]
    return [
        deploying,
        *waiting,
        Step(
            events=[
                ("INFO", "Instance deployment completed successfully."),
                ("INFO", "New application version was deployed to running EC2 instances."),
                ("INFO", "Environment update completed successfully."),
            ],
            status="Ready",
            health="Green",
            health_status="Ok",
            version_label=label,
        ),
    ]


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.applications: dict[str, datetime.datetime] = {}
        self.versions: dict[tuple[str, str], Version] = {}
        self.environments: dict[str, Environment] = {}
        self.events: list[Event] = []
        # Version label → OK, FAIL, RED or STUCK: how a deploy of it goes.
        self.outcomes: dict[str, str] = {}
        # Polls from UpdateEnvironment until the environment settles (at least 2).
        self.polls_per_deploy = 3

    # Set-up, as the test's "existing infrastructure".
    def create_application(self, name: str) -> None:
        with self.lock:
            self.applications.setdefault(name, now())

    def create_environment(
        self, application: str, name: str, version_label: str | None = None
    ) -> Environment:
        with self.lock:
            self.create_application(application)
            environment = Environment(application, name, version_label)
            self.environments[name] = environment
            self.event(environment, "INFO", "createEnvironment completed successfully.", None)
            return environment

    def busy(self, name: str, polls: int, label: str | None = None) -> str:
        """Another deploy is running on `name` and settles (Ready/Green) after `polls` polls."""
        with self.lock:
            environment = self.environments[name]
            request_id = str(uuid.uuid4())
            label = label or environment.version_label
            environment.status, environment.health, environment.health_status = "Updating", "Grey", "Info"
            environment.request_id = request_id
            self.event(environment, "INFO", "Environment update is starting.", request_id)
            environment.timeline = deque(deploy_steps(OK, label, polls))
            return request_id

    def event(self, environment: Environment, severity: str, message: str, request_id: str | None) -> None:
        self.events.append(
            Event(
                now(),
                severity,
                message,
                environment.application,
                environment.name,
                environment.version_label,
                request_id,
            )
        )

    def advance(self, environment: Environment) -> None:
        """One poll: the next step of the environment's timeline, if any."""
        environment.polls += 1
        if not environment.timeline:
            return
        step: Step = environment.timeline.popleft()
        if step.version_label is not None:
            environment.version_label = step.version_label
        for severity, message in step.events:
            self.event(environment, severity, message, environment.request_id)
        for attribute in ("status", "health", "health_status"):
            value = getattr(step, attribute)
            if value is not None:
                setattr(environment, attribute, value)
        environment.updated = now()

    def update(self, environment: Environment, label: str, request_id: str) -> None:
        if environment.status != "Ready":
            raise ApiError(
                "InvalidParameterValue",
                f"Environment named {environment.name} is in an invalid state for this operation. Must be Ready.",
            )
        if (environment.application, label) not in self.versions:
            raise ApiError("InvalidParameterValue", f"No Application Version named '{label}' found.")
        environment.previous_label = environment.version_label
        environment.status, environment.health, environment.health_status = "Updating", "Grey", "Info"
        environment.request_id = request_id
        environment.updated = now()
        self.event(environment, "INFO", "Environment update is starting.", request_id)
        outcome = self.outcomes.get(label, OK)
        environment.timeline = deque(deploy_steps(outcome, label, self.polls_per_deploy))

    def abort(self, environment: Environment, request_id: str) -> None:
        if environment.status != "Updating":
            raise ApiError(
                "InvalidParameterValue",
                f"Environment named {environment.name} is in an invalid state for this operation. Must be Updating.",
            )
        environment.status = "Aborting"
        environment.request_id = request_id
        self.event(environment, "INFO", "Aborting environment update.", request_id)
        environment.timeline = deque(
            [
                Step(events=[("INFO", "Rolling back instances to the previous application version.")]),
                Step(
                    events=[("WARN", "Environment update was aborted; instances run the previous version.")],
                    status="Ready",
                    health="Green",
                    health_status="Ok",
                    version_label=environment.previous_label or environment.version_label,
                ),
            ]
        )
