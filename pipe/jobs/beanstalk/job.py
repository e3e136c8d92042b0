"""COMMAND: beanstalk — upload an application version and deploy it to an Elastic Beanstalk
environment the way an operator would: check the application, environment and version before making
anything, never overwrite a bundle, wait for a busy environment instead of failing, stream its
events, give health a grace period to recover, stop at DEPLOY_TIMEOUT, fail on the deploy's ERROR
events or Red health, and optionally roll back to the version that ran before.
"""

import re
import time
from typing import NamedTuple

from pipe.common.errors import PipeError
from pipe.common.variables import Variable, boolean, choice, integer, matching
from pipe.jobs import Context
from pipe.jobs.beanstalk import bundle, checks, deploy
from pipe.jobs.beanstalk import versions as beanstalk_versions

SIGNS_IN = True
COMMANDS = ("all", "upload-only", "deploy-only")
DEFAULT_WAIT_INTERVAL_SECONDS = 10.0
# Below this a poll loop is a busy loop; Elastic Beanstalk throttles (botocore retries throttling).
MIN_WAIT_INTERVAL_SECONDS = 0.1
MAX_WAIT_INTERVAL_SECONDS = 300.0
DEFAULT_DEPLOY_TIMEOUT_SECONDS = 1800
MAX_DEPLOY_TIMEOUT_SECONDS = 86400
# Enhanced health commonly shows Warning/Degraded for minutes after an update, until instances pass
# the load balancer's healthy threshold; five minutes covers the usual thresholds and intervals.
DEFAULT_HEALTH_GRACE_SECONDS = 300
# Elastic Beanstalk's limits.
MAX_DESCRIPTION = 200
MAX_LABEL = 100
SHORT_COMMIT = 7
# Names and labels are printed in log lines: a tab or line break (the only control characters
# pipe.common.variables lets through) would let a value forge a line such as "✔ Deployed ...".
_NAME = r"[^/\t\n\r]{1,100}"
_NAME_RULE = "1 to 100 characters without /, tabs or line breaks"


def _seconds(raw: str) -> float:
    text = raw.strip()
    low, high = MIN_WAIT_INTERVAL_SECONDS, MAX_WAIT_INTERVAL_SECONDS
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) or not low <= float(text) <= high:
        raise ValueError(f"must be a number of seconds from {low:g} to {high:g}")
    return float(text)


def _s3_key(raw: str) -> str:
    key = raw.strip()
    if (
        key.startswith("/")
        or len(key.encode()) > 1024
        or ".." in key.split("/")
        or re.search(r"[\t\n\r]", key)
    ):
        raise ValueError(
            "must be an S3 key of at most 1024 bytes, not starting with /, without '..', tabs or line breaks"
        )
    return key


def _description(raw: str) -> str:
    if len(raw) > MAX_DESCRIPTION:
        raise ValueError(f"must be at most {MAX_DESCRIPTION} characters (Elastic Beanstalk's limit)")
    return raw


VARIABLES = (
    Variable(
        "APPLICATION_NAME",
        required=True,
        parse=matching(_NAME, _NAME_RULE),
        fix="set it to the Elastic Beanstalk application's name.",
    ),
    Variable(
        "ENVIRONMENT_NAME",
        parse=matching(
            r"[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]",
            "4 to 40 letters, digits and hyphens, not starting or ending with a hyphen",
        ),
    ),
    Variable("ZIP_FILE"),
    Variable("SOURCE_PATH"),
    Variable(
        "S3_BUCKET",
        parse=matching(
            r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
            "a bucket name such as my-bundles, without s3:// or a key (the key goes in S3_KEY)",
        ),
    ),
    Variable("S3_KEY", parse=_s3_key),
    Variable("VERSION_LABEL", parse=matching(_NAME, _NAME_RULE)),
    Variable("DESCRIPTION", parse=_description),
    Variable("BEANSTALK_COMMAND", parse=choice(COMMANDS), default="all"),
    Variable("WAIT", parse=boolean, default=True),
    Variable("WAIT_INTERVAL", parse=_seconds, default=DEFAULT_WAIT_INTERVAL_SECONDS),
    Variable(
        "DEPLOY_TIMEOUT",
        parse=integer(1, MAX_DEPLOY_TIMEOUT_SECONDS, "seconds"),
        default=DEFAULT_DEPLOY_TIMEOUT_SECONDS,
    ),
    Variable("ROLLBACK_ON_FAILURE", parse=boolean, default=False),
    Variable(
        "HEALTH_GRACE_PERIOD",
        parse=integer(0, MAX_DEPLOY_TIMEOUT_SECONDS, "seconds"),
        default=DEFAULT_HEALTH_GRACE_SECONDS,
    ),
)


def _check(values) -> None:
    command = values["BEANSTALK_COMMAND"]
    if command != "upload-only" and not values["ENVIRONMENT_NAME"]:
        raise PipeError(
            "ENVIRONMENT_NAME is required: set it to the Elastic Beanstalk environment to deploy to "
            "(or BEANSTALK_COMMAND: upload-only)."
        )
    given = [name for name in ("ZIP_FILE", "SOURCE_PATH") if values[name]]
    if command == "deploy-only":
        if given:
            raise PipeError(
                f"BEANSTALK_COMMAND deploy-only deploys an existing VERSION_LABEL and uploads nothing: "
                f"remove {given[0]}, or use BEANSTALK_COMMAND all."
            )
        return
    if len(given) == 2:
        raise PipeError(
            "Set ZIP_FILE or SOURCE_PATH, not both: ZIP_FILE is a ready bundle, SOURCE_PATH a directory to zip."
        )
    if not given:
        raise PipeError(
            "ZIP_FILE or SOURCE_PATH is required: set ZIP_FILE to the application bundle (a .zip in the "
            "repository) or SOURCE_PATH to a directory to zip."
        )


def default_label(application: str, env) -> str:
    build, commit = env.get("BITBUCKET_BUILD_NUMBER"), env.get("BITBUCKET_COMMIT")
    if not build or not commit:
        raise PipeError(
            "VERSION_LABEL is required here: its default needs BITBUCKET_BUILD_NUMBER and BITBUCKET_COMMIT, "
            "which Bitbucket Pipelines sets."
        )
    suffix = f"-{build}-{commit[:SHORT_COMMIT]}"
    return application[: MAX_LABEL - len(suffix)] + suffix


def default_key(application: str, label: str) -> str:
    key = f"{application}/{label}.zip"
    try:
        return _s3_key(key)
    except ValueError:
        # An application named '..' would give the key a '..' segment, which S3_KEY refuses too.
        raise PipeError(
            f"The default S3_KEY {key!r} (APPLICATION_NAME/VERSION_LABEL.zip) is not a safe S3 key: "
            "set S3_KEY."
        ) from None


def default_description(env) -> str:
    repository = env.get("BITBUCKET_REPO_FULL_NAME") or (
        f"{env['BITBUCKET_WORKSPACE']}/{env['BITBUCKET_REPO_SLUG']}"
        if env.get("BITBUCKET_WORKSPACE") and env.get("BITBUCKET_REPO_SLUG")
        else None
    )
    build = env.get("BITBUCKET_BUILD_NUMBER")
    if not repository or not build:
        return "Uploaded by aws-oidc-deploy"
    return f"https://bitbucket.org/{repository}/pipelines/results/{build}"[:MAX_DESCRIPTION]


def _aws_error(error: Exception) -> PipeError:
    code = beanstalk_versions.error_code(error)
    operation = getattr(error, "operation_name", "The call")
    text = beanstalk_versions.error_text(error)
    if code in ("AccessDenied", "AccessDeniedException", "InsufficientPrivilegesException", "403"):
        return PipeError(
            f"{operation} was refused ({text}). The role needs elasticbeanstalk:* on the application and "
            "environment, s3:GetObject/PutObject on the bundle bucket, and what Elastic Beanstalk does for it "
            "(see the README's list)."
        )
    if code == "TooManyApplicationVersionsException":
        return PipeError(
            f"{operation} failed: {text}. Delete versions you no longer need, or set a version lifecycle "
            "policy on the application; nothing was left behind."
        )
    if code in ("NoSuchBucket",):
        return PipeError(f"{operation} failed: the bucket does not exist ({text}); check S3_BUCKET.")
    hint = ""
    if "No Application named" in text:
        hint = " Create the application first, or check APPLICATION_NAME and AWS_DEFAULT_REGION."
    elif "Unable to download from S3" in text:
        hint = " Elastic Beanstalk must be able to read the bundle: check S3_BUCKET's region and policy."
    return PipeError(f"{operation} failed: {text}.{hint}".replace("..", "."))


class Prepared(NamedTuple):
    label: str
    key: str | None
    made: bundle.Bundle | None


def check_before_sign_in(values, env) -> Prepared:
    """The variables together, the version label and key, and the bundle (ZIP_FILE checked, or
    SOURCE_PATH zipped): all before the sign-in, so that a wrong path costs no AWS call."""
    _check(values)
    application, command = values["APPLICATION_NAME"], values["BEANSTALK_COMMAND"]
    label = values["VERSION_LABEL"] or default_label(application, env)
    uploads = command != "deploy-only"
    key = (values["S3_KEY"] or default_key(application, label)) if uploads else None
    return Prepared(label, key, bundle.prepare(values, env) if uploads else None)


def run(context: Context) -> str:
    started = time.monotonic()
    values, env, identity = context.values, context.env, context.identity
    assert identity is not None
    label, key, made = context.checked or check_before_sign_in(values, env)
    application, command = values["APPLICATION_NAME"], values["BEANSTALK_COMMAND"]

    from botocore.exceptions import BotoCoreError, ClientError

    eb = identity.client("elasticbeanstalk")
    result = {"application": application, "environment": values["ENVIRONMENT_NAME"], "version_label": label}
    try:
        s3 = identity.client("s3") if made is not None else None
        deploys_to = values["ENVIRONMENT_NAME"] if command != "upload-only" else None
        existing = checks.before_creating(eb, s3, application, deploys_to, label, values["S3_BUCKET"])
        if made is not None:
            bucket = values["S3_BUCKET"] or beanstalk_versions.storage_bucket(eb)
            description = values["DESCRIPTION"] or default_description(env)
            outcome = beanstalk_versions.upload_and_create(
                eb, s3, application, label, description, bucket, key, made, existing
            )
            result |= {"s3_bucket": outcome.bucket, "s3_key": outcome.key, "uploaded": outcome.uploaded}
            if command == "upload-only":
                deploy.write_result(env, result)
                done = "uploaded" if outcome.uploaded else "already there, nothing uploaded"
                return f"Version {label} of {application} is ready at s3://{outcome.bucket}/{outcome.key} ({done})."
        status = (existing or {}).get("Status", "")
        return deploy.deploy(eb, values, label, result, env, started, status)
    except (ClientError, BotoCoreError) as error:
        raise _aws_error(error) from None
