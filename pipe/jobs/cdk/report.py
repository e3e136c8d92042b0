"""The cdk job's reports (pipe.report): the plan of a diff (pipe.jobs.cdk.plan) and the result of a
deploy: the stacks deployed, their outputs and the duration, or the failure.

Stack outputs may hold secrets (a connection string, a generated password): every string of a report
is redacted here as the log redacts (pipe.common.log.redact) before it is recorded, so that what the
report keeps, and whatever later writes or posts it, never holds a secret the log would mask.
"""

from pathlib import Path
from typing import Any

from pipe import report as reports
from pipe.common import log
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.cdk import outputs as cdk_outputs
from pipe.jobs.cdk import plan, replacement, settings
from pipe.report import Field, Item, Report

JOB = "cdk"


def redacted(report: Report) -> Report:
    return Report(
        report.job,
        report.phase,
        report.outcome,
        log.redact(report.title),
        log.redact(report.summary),
        [Field(log.redact(f.title), log.redact_all(f.value), f.type) for f in report.fields],
        [
            item._replace(
                name=log.redact(item.name), detail=log.redact(item.detail), path=log.redact_all(item.path)
            )
            for item in report.items
        ],
        log.redact_all(report.document),
    )


def record(report: Report) -> Report:
    kept = redacted(report)
    reports.record(kept)
    return kept


def record_plan(
    identity: Any, chosen: settings.Settings, cli_path: Path, assembly: Path, environment: str
) -> Report:
    """Compare every stack the diff took with what is deployed and record the plan. A comparison that
    cannot be made is a FAILED plan and a warning: the CLI's diff above still stands."""
    try:
        taken = plan.compared_stacks(assembly, chosen.stacks, chosen.arguments)
        rules = replacement.read(cli_path)
        compared = [plan.compare(identity, stack, rules) for stack in taken]
    except PipeError as error:
        reason = str(error).rstrip(".")
        logger.warning("The CDK plan report is incomplete: %s.", reason)
        return record(plan.failed(environment, reason))
    made = record(plan.report(compared, environment, chosen.allow_security_changes, bool(rules)))
    if made.outcome == "FAILED":
        logger.warning("%s", made.summary)
    return made


def deployed(outputs: cdk_outputs.Outputs, environment: str, seconds: float) -> Report:
    items = []
    for stack, values in sorted(outputs.items()):
        items.append(Item("done", stack, f"deployed to {environment}, {len(values)} output(s)"))
        items += [Item("done", f"{stack}.{name}", value) for name, value in sorted(values.items())]
    names = ", ".join(sorted(outputs)) or "no stack"
    return Report(
        JOB,
        "result",
        "PASSED",
        "CDK deploy",
        f"Deployed {names} to {environment} in {seconds:.0f} s.",
        [
            Field("Stacks", len(outputs), "NUMBER"),
            Field("Outputs", sum(len(values) for values in outputs.values()), "NUMBER"),
            Field("Duration", round(seconds * 1000), "DURATION"),
            Field("Environment", environment),
        ],
        items,
        {"environment": environment, "seconds": round(seconds, 3), "outputs": outputs},
    )


def deploy_failed(message: str, environment: str, seconds: float) -> Report:
    return Report(
        JOB,
        "result",
        "FAILED",
        "CDK deploy",
        message,
        [Field("Duration", round(seconds * 1000), "DURATION"), Field("Environment", environment)],
        [Item("failed", environment, message, severity="HIGH")],
        {"environment": environment, "seconds": round(seconds, 3), "error": message},
    )
