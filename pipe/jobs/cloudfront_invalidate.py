"""COMMAND: cloudfront-invalidate — invalidate paths of a CloudFront distribution (a site that
s3-sync does not publish, or a purge on its own), and optionally wait until it has completed.

The same invalidation code as s3-sync (pipe/aws/cloudfront.py): the same variables, checks,
error lines and bounded, case-insensitive wait.
"""

import time
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from pipe.aws import cloudfront
from pipe.common import shared_storage
from pipe.common.errors import PipeError
from pipe.common.log import emit, logger
from pipe.common.variables import Variable, boolean
from pipe.jobs import SignedIn

SIGNS_IN: Literal[True] = True
SUMMARY_FILE = "aws-oidc-deploy/cloudfront-invalidation.json"
VARIABLES = (
    Variable(
        "CLOUDFRONT_DISTRIBUTION_ID",
        parse=cloudfront.parse_distribution_id,
        required=True,
        fix="set it to the distribution's ID, such as E2EXAMPLE (CloudFront console, or "
        "`aws cloudfront list-distributions`).",
    ),
    # The whole site unless told otherwise, as Atlassian's invalidation pipe does.
    Variable("CLOUDFRONT_PATHS", is_list=True, parse=cloudfront.parse_path, default=[cloudfront.WILDCARD]),
    Variable("CLOUDFRONT_WAIT", parse=boolean, default=False),
)


class Settings(NamedTuple):
    distribution: str
    paths: list[str]  # each once, as CloudFront takes them (cloudfront.given_paths)
    wait: bool


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    return Settings(
        distribution=values["CLOUDFRONT_DISTRIBUTION_ID"],
        paths=cloudfront.given_paths(values["CLOUDFRONT_PATHS"]),
        wait=values["CLOUDFRONT_WAIT"],
    )


def run(context: SignedIn[Settings]) -> str:
    distribution, paths, wait = context.settings
    cdn = context.identity.client("cloudfront")

    invalidation_id = None
    try:
        invalidation_id = cloudfront.invalidate(cdn, distribution, paths)
        logger.info(
            "Invalidation %s created on %s for %d path(s).", invalidation_id, distribution, len(paths)
        )
        waited = cloudfront.wait(cdn, distribution, invalidation_id) if wait else None
    except PipeError as error:
        _record_result(distribution, paths, invalidation_id, None, failure=error.message)
        raise
    _record_result(distribution, paths, invalidation_id, waited)
    status = f"completed in {waited:.0f} s" if waited is not None else "created, not waited for"
    emit(
        f"Distribution: {distribution}",
        f"Invalidation: {invalidation_id}",
        f"Paths:        {' '.join(paths)}",
        f"Status:       {status}",
    )
    shared_storage.write_json(
        context.env,
        SUMMARY_FILE,
        {
            "distribution_id": distribution,
            "invalidation_id": invalidation_id,
            "paths": paths,
            "completed": waited is not None,
            "seconds_waited": round(waited, 2) if waited is not None else None,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        },
    )
    if waited is None:
        return f"Invalidation {invalidation_id} of {distribution} created for {len(paths)} path(s)."
    return f"Invalidation {invalidation_id} of {distribution} completed for {len(paths)} path(s) in {waited:.0f} s."


def _record_result(
    distribution: str,
    paths: list[str],
    invalidation_id: str | None,
    waited: float | None,
    failure: str | None = None,
) -> None:
    """The result report (pipe.report): the paths, the invalidation's ID, completed or not; FAILED with
    the failure's line when CloudFront refused it or it did not complete in time."""
    from pipe.report import Field, Item, Report, record

    completed = waited is not None
    state = "completed" if completed else "created, not waited for" if invalidation_id else "not created"
    if failure is not None:
        summary = failure  # the run's last line, as a failed job's result says it (pipe.report.publish)
    else:
        timing = f" in {waited:.0f} s" if waited is not None else ""
        summary = f"Invalidation {invalidation_id} on {distribution} {state}{timing}, {len(paths)} path(s)."
    record(
        Report(
            "cloudfront-invalidate",
            "result",
            "FAILED" if failure is not None else "PASSED",
            f"CloudFront invalidation on {distribution}",
            summary,
            fields=[
                Field("Distribution", distribution),
                Field("Invalidation", invalidation_id or "none"),
                Field("Paths", len(paths), "NUMBER"),
                Field("Completed", completed, "BOOLEAN"),
                *([Field("Waited", round(waited * 1000), "DURATION")] if waited is not None else []),
            ],
            items=[Item("done" if failure is None else "failed", path, state) for path in paths],
            document={
                "distribution_id": distribution,
                "invalidation_id": invalidation_id,
                "paths": paths,
                "completed": completed,
                "seconds_waited": round(waited, 2) if waited is not None else None,
                "failure": failure,
            },
        )
    )
