"""beanstalk's plan and result for the reviewer (pipe.report): the plan before UpdateEnvironment
(environment, the version running and the one to deploy, the bundle new or reused, health now), the
result after it (final health, duration, rolled back or not, the ERROR events), FAILED when the
deploy fails.

Event messages are instances' command output: each is escaped to one line and redacted here, before
it is recorded (the log and the publisher redact again)."""

from collections.abc import Iterable
from typing import Any

from pipe.common.line_safe import escape
from pipe.common.log import redact
from pipe.jobs.beanstalk.settings import Deployment
from pipe.jobs.beanstalk.watch import EnvironmentState, event_line
from pipe.report import Change, Field, Item, Outcome, Report, record

JOB = "beanstalk"


def _clean(text: str) -> str:
    return redact(escape(text))


def _health(state: EnvironmentState | None) -> str:
    if state is None:
        return "unknown"
    return f"{state.health} ({state.health_status})" if state.health_status else state.health


def record_plan(deployment: Deployment, label: str, now: EnvironmentState, result: dict[str, Any]) -> None:
    environment, running = deployment.environment, now.version_label
    bundle = "new" if result.get("uploaded") else "reused"
    where = f"s3://{result['s3_bucket']}/{result['s3_key']}" if result.get("s3_key") else f"version {label}"
    change: Change
    if running == label:
        change, moves = "unchanged", f"{label} (already running: deployed again)"
    else:
        change, moves = ("replaced" if running else "added"), f"{running or 'no version'} → {label}"
    record(
        Report(
            JOB,
            "plan",
            "PENDING",
            f"Elastic Beanstalk plan: {label} to {environment}",
            f"Deploy {label} to {environment} (application {deployment.application}), which runs "
            f"{running or 'no version'} with health {_health(now)}; the bundle is {bundle}.",
            fields=[
                Field("Environment", environment),
                Field("Version running", running or "none"),
                Field("Version to deploy", label),
                Field("Bundle", bundle),
                Field("Health now", _health(now)),
            ],
            items=[
                Item(change, f"{environment}: version", moves),
                Item("added" if bundle == "new" else "unchanged", f"bundle {where}", bundle),
            ],
            document={
                "application": deployment.application,
                "environment": environment,
                "status": now.status,
                "health": now.health,
                "health_status": now.health_status,
                "running_version_label": running,
                "version_label": label,
                "bundle": bundle,
            },
        )
    )


def record_upload_plan(application: str, label: str, result: dict[str, Any]) -> None:
    """The plan of BEANSTALK_COMMAND upload-only with DRY_RUN: the version and its bundle, no environment."""
    bundle = "new" if result.get("uploaded") else "reused"
    where = f"s3://{result['s3_bucket']}/{result['s3_key']}"
    record(
        Report(
            JOB,
            "plan",
            "PENDING",
            f"Elastic Beanstalk plan: version {label}",
            f"Upload version {label} of application {application}; the bundle is {bundle} ({where}).",
            fields=[Field("Version", label), Field("Bundle", bundle)],
            items=[Item("added" if bundle == "new" else "unchanged", f"bundle {where}", bundle)],
            document={"application": application, "version_label": label, "bundle": bundle},
        )
    )


def record_result(
    deployment: Deployment,
    label: str,
    seconds: float,
    state: EnvironmentState | None,
    error_events: Iterable[dict[str, Any]],
    rolled_back: bool = False,
    failure: str | None = None,
    waited: bool = True,
) -> None:
    """The result: PASSED, FAILED with `failure` (the user's line), or PENDING when not waited for."""
    environment = deployment.environment
    events = [_clean(event_line(event)) for event in error_events]
    running = state.version_label if state else None
    outcome: Outcome = "FAILED" if failure is not None else ("PASSED" if waited else "PENDING")
    if failure is not None:
        summary = _clean(failure)
    elif not waited:
        summary = f"Deploy of {label} to {environment} started; not waited for (WAIT is false)."
    else:
        summary = f"Deployed {label} to {environment} in {seconds:g} s: health {_health(state)}."
    items = [Item("failed", "ERROR event", line, severity="HIGH") for line in events]
    if waited:
        items.insert(0, Item("failed" if failure else "done", f"{environment}: version", running or "none"))
    record(
        Report(
            JOB,
            "result",
            outcome,
            f"Elastic Beanstalk result: {label} to {environment}",
            summary,
            fields=[
                Field("Health", _health(state)),
                Field("Duration", round(seconds * 1000), "DURATION"),
                Field("Rolled back", rolled_back, "BOOLEAN"),
                Field("Version running", running or "unknown"),
                Field("ERROR events", len(events), "NUMBER"),
            ],
            items=items,
            document={
                "application": deployment.application,
                "environment": environment,
                "version_label": label,
                "status": state.status if state else None,
                "health": state.health if state else None,
                "health_status": state.health_status if state else None,
                "running_version_label": running,
                "rolled_back": rolled_back,
                "seconds": round(seconds, 1),
                "error_events": events,
            },
        )
    )
