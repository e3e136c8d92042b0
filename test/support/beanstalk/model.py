"""The state of the Elastic Beanstalk stand-in: applications, versions, environments, events, and
the scripted timelines environments move along, one step per DescribeEnvironments poll.

Driven by polls, not by time: a test is as fast as the pipe polls and never races a clock.
"""

import datetime
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field

from test.support.standin import ApiError

# How a deploy of a version label plays out (Environment.outcomes; anything else: OK).
OK = "ok"  # Updating → Ready/Green, INFO events
FAIL = "fail"  # Updating → ERROR events → Ready/Red/Severe
RED = "red"  # Updating → Ready, completed "successfully", but health Red/Severe (WARN event)
STUCK = "stuck"  # Updating for ever
# Ready with the new version while enhanced health lags: Degraded, then Warning, then Ok after
# State.recovery_polls polls (instances passing the load balancer's healthy threshold).
RECOVERS = "recovers"
SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


# Enhanced health's HealthStatus values and the Health colour each goes with (botocore's
# elasticbeanstalk service-2.json, EnvironmentHealthStatus; AWS docs "Health colors and statuses").
HEALTH_COLOURS = {
    "Ok": "Green",
    "Info": "Green",
    "Warning": "Yellow",
    "Degraded": "Red",
    "Severe": "Red",
    "Unknown": "Grey",
    "Pending": "Grey",
    "NoData": "Grey",
    "Suspended": "Grey",
}
# PlatformStatus and PlatformBranchLifecycleState in service-2.json; PlatformLifecycleState is
# "Recommended" or absent (null: not the newest version of its branch).
PLATFORM_STATUSES = ("Creating", "Failed", "Ready", "Deleting", "Deleted")
PLATFORM_BRANCH_STATES = ("Beta", "Supported", "Deprecated", "Retired")
# Platform statuses UpdateEnvironment refuses (the wording of the refusal is not verified against AWS).
PLATFORM_UNDEPLOYABLE = ("Failed", "Deleting", "Deleted")
DEFAULT_PLATFORM_ARN = (
    "arn:aws:elasticbeanstalk:eu-west-1::platform/Python 3.11 running on 64bit Amazon Linux 2023/4.3.0"
)
# ApplicationVersionStatus in service-2.json.
VERSION_STATUSES = ("Processed", "Unprocessed", "Failed", "Processing", "Building")
# TooManyApplicationVersionsException, in AWS's words (the default quota is 1000 per region).
VERSION_QUOTA_TEXT = (
    "You cannot have more than {quota} Application Versions. Either remove some Application Versions "
    "or request a limit increase."
)


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
    # With Process=true: DescribeApplicationVersions polls left until Processing settles, and how.
    processing_polls: int = 0
    settles_as: str = "Processed"


@dataclass
class Platform:
    """A platform version, as DescribePlatformVersion describes it (PlatformDescription)."""

    arn: str
    branch: str = "Python 3.11 running on 64bit Amazon Linux 2023"
    version: str = "4.3.0"
    status: str = "Ready"
    lifecycle_state: str | None = "Recommended"
    branch_lifecycle_state: str = "Supported"

    @property
    def solution_stack(self) -> str:
        # "Python 3.11 running on 64bit Amazon Linux 2023" → "64bit Amazon Linux 2023 v4.3.0 running Python 3.11"
        runtime, _, system = self.branch.partition(" running on ")
        return f"{system} v{self.version} running {runtime}"


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
    target_label: str | None = None  # what the last UpdateEnvironment deploys
    polls: int = 0
    # What the instances run: the bytes of the version's S3 object as it was when the deploy read it.
    bundle: bytes | None = None
    previous_bundle: bytes | None = None
    platform_arn: str = DEFAULT_PLATFORM_ARN

    @property
    def cname(self) -> str:
        return f"{self.name}.eu-west-1.elasticbeanstalk.com"


def idle(polls: int) -> list[Step]:
    """Polls on which nothing changes."""
    return [Step() for _ in range(max(0, polls))]


def settled(events: list[tuple[str, str]], health_status: str, label: str | None = None) -> Step:
    """The step on which an operation ends: Ready, with enhanced health `health_status` and its colour."""
    return Step(
        events=events,
        status="Ready",
        health=HEALTH_COLOURS[health_status],
        health_status=health_status,
        version_label=label,
    )


def health_moves(before: str, after: str, why: str = "") -> Step:
    """Enhanced health changes while the status stays: the event Elastic Beanstalk writes, then the values."""
    severity = "WARN" if HEALTH_COLOURS[after] == "Red" else "INFO"
    message = f"Environment health has transitioned from {before} to {after}.{why}"
    return Step(events=[(severity, message)], health=HEALTH_COLOURS[after], health_status=after)


UPDATE_COMPLETED = ("INFO", "Environment update completed successfully.")


def _ending(outcome: str, label: str, recovery_polls: int) -> list[Step]:
    """How an update to `label` ends, by its outcome (the steps after the deploy has run a while)."""
    if outcome == FAIL:
        return [
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
            settled(
                [
                    ("ERROR", "Failed to deploy application."),
                    ("ERROR", "Environment update completed unsuccessfully."),
                ],
                "Severe",
                label,
            ),
        ]
    if outcome == RED:
        severe = health_moves("Ok", "Severe", " 100.0 % of the requests are failing with HTTP 5xx.")
        return [settled([UPDATE_COMPLETED, *severe.events], "Severe", label)]
    if outcome == RECOVERS:
        lags = health_moves(
            "Info", "Degraded", " Instance is failing its load balancer health checks (1 of 2 instances)."
        )
        return [
            settled([UPDATE_COMPLETED, *lags.events], "Degraded", label),
            *idle(recovery_polls - 2),
            health_moves("Degraded", "Warning"),
            health_moves("Warning", "Ok"),
        ]
    return [
        settled(
            [
                ("INFO", "Instance deployment completed successfully."),
                ("INFO", "New application version was deployed to running EC2 instances."),
                UPDATE_COMPLETED,
            ],
            "Ok",
            label,
        )
    ]


def deploy_steps(
    outcome: str, label: str, polls: int, recovery_polls: int = 3, extra: list | None = None
) -> list[Step]:
    """The timeline of an UpdateEnvironment to `label`: `polls` polls until it settles."""
    deploying = Step(events=[("INFO", "Deploying new version to instance(s)."), *(extra or [])])
    if outcome == STUCK:
        return [deploying]
    return [deploying, *idle(polls - 2), *_ending(outcome, label, recovery_polls)]


def abort_steps(label: str | None, ending: str, polls: int) -> list[Step]:
    """The timeline of an AbortEnvironmentUpdate: `polls` polls in Aborting, then Ready on `label`."""
    return [
        Step(events=[("INFO", "Rolling back instances to the previous application version.")]),
        *idle(polls - 2),
        settled([("WARN", f"Environment update was aborted; {ending}")], "Ok", label),
    ]


class State:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.applications: dict[str, datetime.datetime] = {}
        self.versions: dict[tuple[str, str], Version] = {}
        self.environments: dict[str, Environment] = {}
        # Terminated environments stay visible to DescribeEnvironments (IncludeDeleted) for a while,
        # beside a live one of the same name.
        self.terminated: list[Environment] = []
        self.events: list[Event] = []
        # Version label → OK, FAIL, RED, RECOVERS or STUCK: how a deploy of it goes.
        self.outcomes: dict[str, str] = {}
        # Version label → extra (severity, message) events written when its deploy starts.
        self.deploy_events: dict[str, list[tuple[str, str]]] = {}
        # Polls from UpdateEnvironment until the environment settles (at least 2).
        self.polls_per_deploy = 3
        # RECOVERS: polls from Ready/Degraded until health is back to Ok.
        self.recovery_polls = 3
        # AbortEnvironmentUpdate: polls in Aborting, and whether the abort came too late to undo the
        # update (instances already on the new version stay on it).
        self.abort_polls = 2
        self.abort_keeps_new_version = False
        # CreateApplicationVersion with Process=true: polls in Processing, and labels whose bundle
        # fails validation (status Failed).
        self.processing_polls = 2
        self.failing_bundles: set[str] = set()
        # Application versions the account may hold (TooManyApplicationVersionsException beyond).
        self.version_quota = 1000
        # Describe* actions the caller has no IAM permission for: AWS answers them with empty lists.
        self.describe_denied: set[str] = set()
        # Platform versions by ARN; every environment runs on one (Environment.platform_arn).
        self.platforms: dict[str, Platform] = {DEFAULT_PLATFORM_ARN: Platform(DEFAULT_PLATFORM_ARN)}
        # DescribePlatformVersion answers a describe of one platform, not a list: a caller without the
        # permission gets an error, with this code (AccessDenied from IAM, or the model's
        # InsufficientPrivilegesException); None: allowed.
        self.platform_denied: str | None = None

    # Set-up, as the test's "existing infrastructure".
    def put_platform(self, environment: "Environment", **description) -> Platform:
        """Move `environment` onto a platform version of its own, described by `description`."""
        with self.lock:
            number = len(self.platforms)
            platform = Platform(DEFAULT_PLATFORM_ARN.replace("/4.3.0", f"/4.3.{number}"), **description)
            platform.version = platform.arn.rsplit("/", 1)[1]
            self.platforms[platform.arn] = platform
            environment.platform_arn = platform.arn
            return platform

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

    def terminate(self, name: str, replaced: bool = False) -> Environment:
        """Terminate `name` (it stays listed as Terminated); `replaced`: a new one of the same name
        runs beside it, as after a rebuild by terminate-and-create."""
        with self.lock:
            old = self.environments.pop(name)
            old.status, old.health, old.health_status = "Terminated", "Grey", ""
            old.timeline.clear()
            self.terminated.append(old)
            if replaced:
                return self.create_environment(old.application, name, old.version_label)
            return old

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

    def update(
        self, environment: Environment, label: str, request_id: str, bundle: bytes | None = None
    ) -> None:
        """`bundle`: the version's S3 object read now, at deploy time (what the instances will run)."""
        if environment.status != "Ready":
            raise ApiError(
                "InvalidParameterValue",
                f"Environment named {environment.name} is in an invalid state for this operation. Must be Ready.",
            )
        version = self.versions.get((environment.application, label))
        if version is None:
            raise ApiError("InvalidParameterValue", f"No Application Version named '{label}' found.")
        platform = self.platforms.get(environment.platform_arn)
        if platform is not None and platform.status in PLATFORM_UNDEPLOYABLE:
            raise ApiError(
                "InvalidParameterValue",
                f"Environment named {environment.name} runs on platform {platform.arn}, which is "
                f"{platform.status}; it cannot be updated.",
            )
        status = getattr(version, "status", "Processed")  # unit tests stand a bare object() in
        if status in ("Failed", "Processing", "Building"):
            # Wording not verified against AWS; the refusal itself is documented (a version must be
            # processed successfully before it is deployed).
            raise ApiError(
                "InvalidParameterValue",
                f"Application Version '{label}' is in status {status} and cannot be deployed.",
            )
        environment.previous_label, environment.target_label = environment.version_label, label
        environment.previous_bundle, environment.bundle = environment.bundle, bundle
        environment.status, environment.health, environment.health_status = "Updating", "Grey", "Info"
        environment.request_id = request_id
        environment.updated = now()
        self.event(environment, "INFO", "Environment update is starting.", request_id)
        outcome = self.outcomes.get(label, OK)
        environment.timeline = deque(
            deploy_steps(
                outcome, label, self.polls_per_deploy, self.recovery_polls, self.deploy_events.get(label)
            )
        )

    def settle_version(self, version: Version) -> None:
        """One DescribeApplicationVersions poll of a version being processed."""
        if version.status in ("Processing", "Building"):
            version.processing_polls -= 1
            if version.processing_polls <= 0:
                version.status = version.settles_as

    def abort(self, environment: Environment, request_id: str) -> None:
        if environment.status != "Updating":
            raise ApiError(
                "InvalidParameterValue",
                f"Environment named {environment.name} is in an invalid state for this operation. Must be Updating.",
            )
        environment.status = "Aborting"
        environment.request_id = request_id
        self.event(environment, "INFO", "Aborting environment update.", request_id)
        if self.abort_keeps_new_version:
            label = environment.target_label  # too late: the instances have it already
            ending = "instances that had the new version keep it."
        else:
            label = environment.previous_label or environment.version_label
            ending = "instances run the previous version."
            environment.bundle = environment.previous_bundle
        environment.timeline = deque(abort_steps(label, ending, self.abort_polls))
