"""COMMAND: beanstalk — upload an application version and deploy it to an Elastic Beanstalk
environment the way an operator would: check the application, environment and version before making
anything, never overwrite a bundle, wait for a busy environment instead of failing, stream its
events, give health a grace period to recover, stop at DEPLOY_TIMEOUT, fail on the deploy's ERROR
events or Red health, and optionally roll back to the version that ran before.
"""

import time
from collections.abc import Mapping
from typing import Any, Literal

from pipe.aws import errors
from pipe.common import deploy_wait, private_dir
from pipe.common.errors import PipeError
from pipe.common.variables import Variable, boolean, choice, integer, matching
from pipe.jobs import SignedIn
from pipe.jobs.beanstalk import bundle, checks, deploy, dry_run, settings
from pipe.jobs.beanstalk import versions as beanstalk_versions
from pipe.jobs.beanstalk.settings import MAX_DESCRIPTION
from pipe.jobs.beanstalk.watch import NOT_FOUND_OR_DENIED

SIGNS_IN: Literal[True] = True
COMMANDS = ("all", "upload-only", "deploy-only")
# Enhanced health commonly shows Warning/Degraded for minutes after an update, until instances pass
# the load balancer's healthy threshold; five minutes covers the usual thresholds and intervals.
DEFAULT_HEALTH_GRACE_SECONDS = 300
# Names and labels are printed in log lines: a tab or line break (the only control characters
# pipe.common.variables lets through) would let a value forge a line such as "✔ Deployed ...".
_NAME = r"[^/\t\n\r]{1,100}"
_NAME_RULE = "1 to 100 characters without /, tabs or line breaks"


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
    Variable("S3_KEY", parse=settings.s3_key),
    Variable("VERSION_LABEL", parse=matching(_NAME, _NAME_RULE)),
    Variable("DESCRIPTION", parse=_description),
    Variable("BEANSTALK_COMMAND", parse=choice(COMMANDS), default="all"),
    Variable("DRY_RUN", parse=boolean, default=False),
    *deploy_wait.VARIABLES,
    Variable(
        "HEALTH_GRACE_PERIOD",
        parse=integer(0, deploy_wait.MAX_DEPLOY_TIMEOUT_SECONDS, "seconds"),
        default=DEFAULT_HEALTH_GRACE_SECONDS,
    ),
)


def _aws_error(error: Exception) -> PipeError:
    code = errors.code(error)
    operation = getattr(error, "operation_name", "The call")
    text = errors.summary(error)
    if operation == "CreateApplicationVersion" and "already exists" in errors.message(error):
        # The pipe looked for the version first and was told there is none.
        return PipeError(
            f"{operation} failed: {text}. " + NOT_FOUND_OR_DENIED.format(action="DescribeApplicationVersions")
        )
    if code == "InsufficientPrivilegesException":
        return PipeError(
            f"{operation} was refused ({text}): Elastic Beanstalk acts with the role's own permissions in the "
            "services behind the environment; grant the statement BeanstalkUpdateOnYourBehalf "
            f"({errors.WHERE_POLICIES_ARE})."
        )
    if errors.is_access_denied(error):
        return PipeError(errors.access_denied_line(error, service="elasticbeanstalk"))
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
    return PipeError(f"{operation} failed: {text}.{hint}")


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> settings.Settings:
    """The settings (pipe.jobs.beanstalk.settings), then the bundle (ZIP_FILE checked, or SOURCE_PATH
    zipped outside the clone): all before the sign-in, so that a wrong path costs no AWS call."""
    private_dir.base(env)  # a clone that covers every temporary directory, said before any path in it
    chosen = settings.read(values, env)
    if chosen.upload is None:
        return chosen
    return chosen._replace(bundle=bundle.prepare(chosen.upload.source, env))


def run(context: SignedIn[settings.Settings]) -> str:
    started = time.monotonic()
    chosen, env, identity = context.settings, context.env, context.identity
    application, label, upload = chosen.application, chosen.label, chosen.upload
    made = chosen.bundle

    from botocore.exceptions import BotoCoreError, ClientError

    eb = identity.client("elasticbeanstalk")
    result: dict[str, Any] = {
        "application": application,
        "environment": chosen.environment,
        "version_label": label,
    }
    try:
        s3 = identity.client("s3") if made is not None else None
        deploys_to = chosen.deployment.environment if chosen.deployment is not None else None
        existing = checks.before_creating(eb, s3, application, deploys_to, label, chosen.bucket)
        if chosen.dry_run:
            return dry_run.plan(eb, s3, chosen, existing, identity.account)
        if upload is not None and made is not None:
            bucket = chosen.bucket or beanstalk_versions.storage_bucket(eb)
            outcome = beanstalk_versions.upload_and_create(
                eb, s3, application, label, upload.description, bucket, upload.key, made, existing
            )
            result |= {"s3_bucket": outcome.bucket, "s3_key": outcome.key, "uploaded": outcome.uploaded}
            if chosen.deployment is None:
                deploy.write_result(env, result)
                done = "uploaded" if outcome.uploaded else "already there, nothing uploaded"
                return f"Version {label} of {application} is ready at s3://{outcome.bucket}/{outcome.key} ({done})."
        status = (existing or {}).get("Status", "")
        assert chosen.deployment is not None  # the settings have an upload, a deployment or both
        return deploy.deploy(eb, chosen.deployment, label, result, env, started, status)
    except (ClientError, BotoCoreError) as error:
        raise _aws_error(error) from None
