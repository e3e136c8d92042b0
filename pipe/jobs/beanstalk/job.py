"""COMMAND: beanstalk — upload an application version and deploy it to an Elastic Beanstalk
environment the way an operator would: wait for a busy environment instead of failing, stream its
events, stop at DEPLOY_TIMEOUT, fail on the deploy's ERROR events or Red health, and optionally roll
back to the version that ran before.

One DEPLOY_TIMEOUT covers waiting for Ready before the update and the update itself; the pipe
ends within that time plus one WAIT_INTERVAL (and one API call).
"""

import re
import time
import zipfile
from pathlib import Path

from pipe.common import private_dir, shared_storage
from pipe.common.errors import PipeError
from pipe.common.log import emit, logger
from pipe.common.variables import Variable, boolean, choice, integer, matching
from pipe.jobs import Context
from pipe.jobs.beanstalk import bundle
from pipe.jobs.beanstalk import versions as beanstalk_versions
from pipe.jobs.beanstalk.watch import Deadline, EnvironmentState, WaitFailed, Watcher, event_line

SIGNS_IN = True
COMMANDS = ("all", "upload-only", "deploy-only")
DEFAULT_WAIT_INTERVAL_SECONDS = 10.0
# Below this a poll loop is a busy loop; Elastic Beanstalk throttles (botocore retries throttling).
MIN_WAIT_INTERVAL_SECONDS = 0.1
MAX_WAIT_INTERVAL_SECONDS = 300.0
DEFAULT_DEPLOY_TIMEOUT_SECONDS = 1800
MAX_DEPLOY_TIMEOUT_SECONDS = 86400
# Elastic Beanstalk's limits.
MAX_DESCRIPTION = 200
MAX_LABEL = 100
MAX_BUNDLE_BYTES = 500 * 1024 * 1024
SHORT_COMMIT = 7
RESULT_FILE = "aws-oidc-deploy/beanstalk.json"
_INVALID_STATE = re.compile(r"invalid state for this operation", re.IGNORECASE)
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


def _in_clone(name: str, raw: str, env) -> Path:
    path = private_dir.in_clone(name, raw, env)
    if not path.exists():
        raise PipeError(
            f"{name} {raw.strip()!r} does not exist in {private_dir.clone_dir(env)}; build it before this step."
        )
    return path


def _bundle(values, env) -> bundle.Bundle:
    if values["ZIP_FILE"]:
        path = _in_clone("ZIP_FILE", values["ZIP_FILE"], env)
        if not path.is_file() or not zipfile.is_zipfile(path):
            raise PipeError(
                f"ZIP_FILE {values['ZIP_FILE']!r} is not a zip archive; point it at the bundle (.zip)."
            )
    else:
        source = _in_clone("SOURCE_PATH", values["SOURCE_PATH"], env)
        if not source.is_dir():
            raise PipeError(
                f"SOURCE_PATH {values['SOURCE_PATH']!r} is not a directory; use ZIP_FILE for a file."
            )
        # Outside the clone: the clone may be cached or saved as an artifact.
        path = private_dir.create(env) / "bundle.zip"
        count = bundle.make_zip(source, path)
        logger.info("Zipped %d file(s) from %s (without .git).", count, values["SOURCE_PATH"])
    made = bundle.digest(path)
    if made.size > MAX_BUNDLE_BYTES:
        raise PipeError(
            f"The bundle is {made.size // (1024 * 1024)} MiB; Elastic Beanstalk takes at most 500 MiB. "
            "Leave build caches and dependencies the platform installs out of it."
        )
    return made


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
    if code in ("NoSuchBucket",):
        return PipeError(f"{operation} failed: the bucket does not exist ({text}); check S3_BUCKET.")
    hint = ""
    if "No Application named" in text:
        hint = " Create the application first, or check APPLICATION_NAME and AWS_DEFAULT_REGION."
    elif "Unable to download from S3" in text:
        hint = " Elastic Beanstalk must be able to read the bundle: check S3_BUCKET's region and policy."
    return PipeError(f"{operation} failed: {text}.{hint}".replace("..", "."))


def _events_detail(events: list[dict]) -> str:
    if not events:
        return ""
    return "Last events:\n" + "\n".join(f"  {event_line(event)}" for event in events)


def _retried(error) -> bool:
    """botocore sent the call more than once: an attempt before may have been carried out by Elastic
    Beanstalk although its answer never arrived (a connection dropped on the way back)."""
    return error.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) > 0


def _update(
    eb,
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
            if _INVALID_STATE.search(beanstalk_versions.error_text(error)) and deadline.remaining() > 0:
                waited = True
                if _retried(error):
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


def _rollback(eb, watcher: Watcher, values, previous: str, failed: WaitFailed) -> EnvironmentState:
    application, environment = values["APPLICATION_NAME"], values["ENVIRONMENT_NAME"]
    deadline = Deadline(values["DEPLOY_TIMEOUT"])
    logger.warning("ROLLBACK_ON_FAILURE: rolling %s back to version %s.", environment, previous)
    current = watcher.state()
    if failed.timed_out and current.status == "Updating" and current.abortable:
        from botocore.exceptions import ClientError

        logger.warning("Aborting the update still in progress (AbortEnvironmentUpdate).")
        try:
            eb.abort_environment_update(EnvironmentName=environment)
        except ClientError as error:
            # Sent again after a lost answer, it finds the environment Aborting: the first one worked.
            if not (_retried(error) and _INVALID_STATE.search(beanstalk_versions.error_text(error))):
                raise
            logger.info("AbortEnvironmentUpdate was sent again (no answer came); the abort is under way.")
    state = watcher.until_ready(deadline, "to roll back")
    if state.version_label == previous and not state.unhealthy():
        return state
    _, request_id = _update(eb, watcher, application, environment, previous, deadline, "to roll back")
    logger.info("Rollback started: %s → %s (request %s).", state.version_label, previous, request_id)
    return watcher.until_deployed(deadline, request_id, previous)


def _deploy_failed(eb, watcher, values, label: str, previous: str | None, failed: WaitFailed) -> PipeError:
    environment = values["ENVIRONMENT_NAME"]
    if failed.timed_out:
        head = f"Deploy of {label} to {environment} timed out (DEPLOY_TIMEOUT {values['DEPLOY_TIMEOUT']} s): {failed.reason}."
    else:
        head = f"Deploy of {label} to {environment} failed: {failed.reason.rstrip('.')}."
    details = _events_detail(failed.events)
    if not values["ROLLBACK_ON_FAILURE"]:
        return PipeError(head, details)
    if not previous or previous == label:
        return PipeError(f"{head} No rollback: no other version ran before.", details)
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        state = _rollback(eb, watcher, values, previous, failed)
    except WaitFailed as again:
        return PipeError(f"{head} The rollback to {previous} failed too: {again.reason}.", details)
    except (ClientError, BotoCoreError) as error:
        return PipeError(
            f"{head} The rollback to {previous} failed too: {beanstalk_versions.error_text(error).rstrip('.')}.",
            details,
        )
    return PipeError(f"{head} Rolled back to {previous}: the environment is {state.describe()}.", details)


def _write_result(env, result: dict) -> None:
    shared_storage.write_json(env, RESULT_FILE, result)


def _deploy(eb, values, label: str, result: dict, env, started: float) -> str:
    application, environment = values["APPLICATION_NAME"], values["ENVIRONMENT_NAME"]
    watcher = Watcher(eb, application, environment, values["WAIT_INTERVAL"])
    arrived = watcher.state()  # a missing environment is reported before anything waits
    watcher.events.mark()
    deadline = Deadline(values["DEPLOY_TIMEOUT"])
    try:
        before, request_id = _update(
            eb, watcher, application, environment, label, deadline, "before deploying", arrived
        )
    except WaitFailed as failed:
        raise PipeError(
            f"Could not deploy {label} to {environment}: {failed.reason}; DEPLOY_TIMEOUT is "
            f"{values['DEPLOY_TIMEOUT']} s.",
            _events_detail(failed.events),
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
    if not values["WAIT"]:
        result |= {"status": "Updating", "previous_version_label": previous}
        _write_result(env, result)
        return f"Deploy of {label} to {environment} started (WAIT is false, not waiting)."
    try:
        state = watcher.until_deployed(deadline, request_id, label)
    except WaitFailed as failed:
        raise _deploy_failed(eb, watcher, values, label, previous, failed) from None

    url = f"http://{state.cname}" if state.cname else None
    seconds = round(time.monotonic() - started, 1)
    emit(
        "\n".join(
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
    _write_result(env, result)
    return (
        f"Deployed {label} to {environment} in {seconds:g} s: {state.status}, health {state.health}, {url}."
    )


def run(context: Context) -> str:
    started = time.monotonic()
    values, env, identity = context.values, context.env, context.identity
    assert identity is not None
    _check(values)
    application, command = values["APPLICATION_NAME"], values["BEANSTALK_COMMAND"]
    label = values["VERSION_LABEL"] or default_label(application, env)
    uploads = command != "deploy-only"
    key = (values["S3_KEY"] or default_key(application, label)) if uploads else None
    made = _bundle(values, env) if uploads else None

    from botocore.exceptions import BotoCoreError, ClientError

    eb = identity.client("elasticbeanstalk")
    result = {"application": application, "environment": values["ENVIRONMENT_NAME"], "version_label": label}
    try:
        if made is not None:
            s3 = identity.client("s3")
            bucket = values["S3_BUCKET"] or beanstalk_versions.storage_bucket(eb)
            description = values["DESCRIPTION"] or default_description(env)
            outcome = beanstalk_versions.upload_and_create(
                eb, s3, application, label, description, bucket, key, made
            )
            result |= {"s3_bucket": outcome.bucket, "s3_key": outcome.key, "uploaded": outcome.uploaded}
            if command == "upload-only":
                _write_result(env, result)
                done = "uploaded" if outcome.uploaded else "already there, nothing uploaded"
                return f"Version {label} of {application} is ready at s3://{outcome.bucket}/{outcome.key} ({done})."
        elif beanstalk_versions.find_version(eb, application, label) is None:
            raise PipeError(
                f"Version {label!r} does not exist in application {application!r}: upload it first "
                "(BEANSTALK_COMMAND upload-only or all), or set VERSION_LABEL to an existing one."
            )
        return _deploy(eb, values, label, result, env, started)
    except (ClientError, BotoCoreError) as error:
        raise _aws_error(error) from None
