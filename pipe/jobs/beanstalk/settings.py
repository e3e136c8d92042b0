"""beanstalk's settings: the checked variables (pipe.jobs.beanstalk.job.VARIABLES) as the job uses
them, read once before the sign-in. What BEANSTALK_COMMAND means is in the shape: upload-only has no
deployment, deploy-only no upload; the default label, key and description are filled in here."""

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from pipe.common.errors import PipeError

if TYPE_CHECKING:
    from pipe.jobs.beanstalk.bundle import Bundle

# Elastic Beanstalk's limits.
MAX_DESCRIPTION = 200
MAX_LABEL = 100
SHORT_COMMIT = 7


class BundleSource(NamedTuple):
    """Where the bundle comes from: ZIP_FILE (a ready zip) or SOURCE_PATH (a directory to zip)."""

    variable: str  # "ZIP_FILE" or "SOURCE_PATH", as error lines name it
    path: str  # as given, inside the clone (pipe.jobs.beanstalk.bundle checks it)

    @property
    def is_zip(self) -> bool:
        return self.variable == "ZIP_FILE"


class Upload(NamedTuple):
    source: BundleSource
    key: str
    description: str


class Deployment(NamedTuple):
    application: str
    environment: str
    wait: bool
    wait_interval: float
    timeout: int  # DEPLOY_TIMEOUT, seconds
    rollback_on_failure: bool
    health_grace: int  # seconds


class Settings(NamedTuple):
    application: str
    label: str
    environment: str | None  # as given (upload-only may name one, for the result file)
    bucket: str | None  # S3_BUCKET; None: Elastic Beanstalk's own storage bucket
    upload: Upload | None  # None: deploy-only
    deployment: Deployment | None  # None: upload-only
    # The bundle to upload, checked or zipped before the sign-in (pipe.jobs.beanstalk.job.read_settings).
    bundle: "Bundle | None" = None
    dry_run: bool = False  # DRY_RUN: the checks and the plan, then stop before anything is made


def s3_key(raw: str) -> str:
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


def default_label(application: str, env: Mapping[str, str]) -> str:
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
        return s3_key(key)
    except ValueError:
        # An application named '..' would give the key a '..' segment, which S3_KEY refuses too.
        raise PipeError(
            f"The default S3_KEY {key!r} (APPLICATION_NAME/VERSION_LABEL.zip) is not a safe S3 key: "
            "set S3_KEY."
        ) from None


def default_description(env: Mapping[str, str]) -> str:
    repository = env.get("BITBUCKET_REPO_FULL_NAME") or (
        f"{env['BITBUCKET_WORKSPACE']}/{env['BITBUCKET_REPO_SLUG']}"
        if env.get("BITBUCKET_WORKSPACE") and env.get("BITBUCKET_REPO_SLUG")
        else None
    )
    build = env.get("BITBUCKET_BUILD_NUMBER")
    if not repository or not build:
        return "Uploaded by aws-oidc-deploy"
    return f"https://bitbucket.org/{repository}/pipelines/results/{build}"[:MAX_DESCRIPTION]


def _bundle_source(values: Mapping[str, Any], command: str) -> BundleSource | None:
    given = [name for name in ("ZIP_FILE", "SOURCE_PATH") if values[name]]
    if command == "deploy-only":
        if given:
            raise PipeError(
                f"BEANSTALK_COMMAND deploy-only deploys an existing VERSION_LABEL and uploads nothing: "
                f"remove {given[0]}, or use BEANSTALK_COMMAND all."
            )
        return None
    if len(given) == 2:
        raise PipeError(
            "Set ZIP_FILE or SOURCE_PATH, not both: ZIP_FILE is a ready bundle, SOURCE_PATH a directory to zip."
        )
    if not given:
        raise PipeError(
            "ZIP_FILE or SOURCE_PATH is required: set ZIP_FILE to the application bundle (a .zip in the "
            "repository) or SOURCE_PATH to a directory to zip."
        )
    return BundleSource(given[0], values[given[0]])


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    command = values["BEANSTALK_COMMAND"]
    environment = values["ENVIRONMENT_NAME"]
    if command != "upload-only" and not environment:
        raise PipeError(
            "ENVIRONMENT_NAME is required: set it to the Elastic Beanstalk environment to deploy to "
            "(or BEANSTALK_COMMAND: upload-only)."
        )
    source = _bundle_source(values, command)
    application = values["APPLICATION_NAME"]
    label = values["VERSION_LABEL"] or default_label(application, env)
    upload = (
        Upload(
            source,
            key=values["S3_KEY"] or default_key(application, label),
            description=values["DESCRIPTION"] or default_description(env),
        )
        if source is not None
        else None
    )
    deployment = (
        Deployment(
            application,
            environment,
            wait=values["WAIT"],
            wait_interval=values["WAIT_INTERVAL"],
            timeout=values["DEPLOY_TIMEOUT"],
            rollback_on_failure=values["ROLLBACK_ON_FAILURE"],
            health_grace=values["HEALTH_GRACE_PERIOD"],
        )
        if command != "upload-only"
        else None
    )
    return Settings(
        application, label, environment, values["S3_BUCKET"], upload, deployment, dry_run=values["DRY_RUN"]
    )
