"""What is checked before anything is made: the application, the environment and its platform, the
version's status and the bucket's region. A check that fails leaves no object on S3 and no version behind (a version
counts against the account's quota of application versions).
"""

from typing import Any

from pipe.aws import errors
from pipe.common.deadline import Deadline
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.jobs.beanstalk import versions as beanstalk_versions
from pipe.jobs.beanstalk.watch import GONE, NOT_FOUND_OR_DENIED, describe

# ApplicationVersionStatus values (botocore's elasticbeanstalk model): Unprocessed and Processed
# deploy; these are waited for; Failed is refused by UpdateEnvironment.
IN_PROGRESS = ("Processing", "Building")
FAILED = "Failed"
# PlatformStatus values (botocore's elasticbeanstalk model) of a platform Elastic Beanstalk cannot
# deploy to: its build failed, or it is being or has been deleted.
PLATFORM_UNUSABLE = ("Failed", "Deleting", "Deleted")
# PlatformBranchLifecycleState values of a branch past its support, and what that means (AWS's
# "platform support policy"): deploys still work — a retired branch stays usable through the API for
# environments already on it — so these warn rather than fail.
PLATFORM_BRANCH_ENDING = {
    "Deprecated": "it is no longer recommended and may miss security updates",
    "Retired": "it gets no more updates, security updates included, and Elastic Beanstalk's API may stop "
    "working for it",
}
# S3's LocationConstraint for the regions it reports by an old name.
_LEGACY_LOCATIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


def before_creating(
    eb: Any,
    s3: Any | None,
    application_name: str,
    environment_name: str | None,
    label: str,
    bucket: str | None,
) -> dict[str, Any] | None:
    """Everything that can refuse the deploy, asked before anything is uploaded or created. `s3` is
    None when nothing is uploaded (deploy-only): then the version must exist. Returns the version
    `label` if it exists."""
    application(eb, application_name)
    if environment_name:
        environment(eb, application_name, environment_name)
    existing = beanstalk_versions.find_version(eb, application_name, label)
    if existing is not None:
        not_failed(existing, application_name)
    elif s3 is None:
        raise PipeError(
            f"Version {label!r} does not exist in application {application_name!r}: upload it first "
            "(BEANSTALK_COMMAND upload-only or all), or set VERSION_LABEL to an existing one."
        )
    if s3 is not None and bucket:
        bucket_region(s3, bucket, eb.meta.region_name)
    return existing


def application(eb: Any, name: str) -> None:
    answer = eb.describe_applications(ApplicationNames=[name])
    if any(item.get("ApplicationName") == name for item in answer.get("Applications", [])):
        return
    raise PipeError(
        f"Elastic Beanstalk application {name!r} was not found in {eb.meta.region_name}; create it first, "
        "or check APPLICATION_NAME and AWS_DEFAULT_REGION. "
        + NOT_FOUND_OR_DENIED.format(action="DescribeApplications")
    )


def environment(eb: Any, application_name: str, name: str) -> None:
    state = describe(eb, application_name, name)
    if state.status in GONE:
        raise PipeError(
            f"Elastic Beanstalk environment {name!r} is {state.status}: it is being deleted and cannot be "
            "deployed to; check ENVIRONMENT_NAME."
        )
    if state.platform_arn:
        platform(eb, name, state.platform_arn)


def platform(eb: Any, environment_name: str, arn: str) -> None:
    """Refuse an environment whose platform version cannot take a deploy; warn about a platform
    branch past its support. Without elasticbeanstalk:DescribePlatformVersion the check is skipped
    with a warning: UpdateEnvironment still refuses what cannot be deployed, so a role that was
    enough before this check existed stays enough."""
    from botocore.exceptions import ClientError

    try:
        described = eb.describe_platform_version(PlatformArn=arn).get("PlatformDescription", {})
    except ClientError as error:
        if not errors.is_access_denied(error):  # the platform check is advisory
            raise
        logger.warning(
            "Could not check the platform of environment %s (%s): the role may not call "
            "elasticbeanstalk:DescribePlatformVersion. Deploying without the check; grant it to have a "
            "failed or deleted platform refused before anything is uploaded.",
            environment_name,
            arn,
        )
        return
    status = described.get("PlatformStatus", "")
    if status in PLATFORM_UNUSABLE:
        raise PipeError(
            f"Elastic Beanstalk environment {environment_name!r} runs on platform {arn}, whose status is "
            f"{status}: Elastic Beanstalk cannot deploy to it. Move the environment to a platform version "
            "that is Ready (console: Update platform version, or `aws elasticbeanstalk update-environment "
            "--platform-arn`), or check ENVIRONMENT_NAME."
        )
    branch_state = described.get("PlatformBranchLifecycleState", "")
    if branch_state in PLATFORM_BRANCH_ENDING:
        logger.warning(
            "Environment %s runs on platform branch %s, which Elastic Beanstalk has marked %s: %s. "
            "Deploying anyway; move the environment to a supported platform branch soon (a blue/green "
            "deployment).",
            environment_name,
            described.get("PlatformBranchName") or arn,
            branch_state,
            PLATFORM_BRANCH_ENDING[branch_state],
        )


def not_failed(version: dict[str, Any], application_name: str) -> None:
    if version.get("Status") == FAILED:
        raise PipeError(
            f"Version {version.get('VersionLabel')!r} of application {application_name!r} has status Failed "
            "(Elastic Beanstalk could not process its bundle) and cannot be deployed: fix the bundle and "
            "upload it under a new VERSION_LABEL."
        )


def until_processed(eb: Any, application_name: str, label: str, deadline: Deadline, interval: float) -> None:
    """Wait while Elastic Beanstalk processes the version (created with Process=true by someone)."""
    said = False
    while True:
        version = beanstalk_versions.find_version(eb, application_name, label)
        if version is None:
            raise PipeError(
                f"Version {label!r} of application {application_name!r} disappeared while waiting for it; "
                "someone deleted it."
            )
        not_failed(version, application_name)
        status = version.get("Status", "")
        if status not in IN_PROGRESS:
            return
        if deadline.remaining() <= 0:
            raise PipeError(
                f"Version {label!r} was still {status} after {deadline.seconds:g} s (DEPLOY_TIMEOUT); "
                "nothing was deployed."
            )
        if not said:
            said = True
            logger.info(
                "Version %s is %s; waiting for Elastic Beanstalk to finish, at most %.0f s.",
                label,
                status,
                deadline.remaining(),
            )
        deadline.sleep(interval)


def bucket_region(s3: Any, bucket: str, region: str) -> None:
    """Elastic Beanstalk reads bundles only from a bucket in its own region."""
    from botocore.exceptions import ClientError

    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint")
    except ClientError as error:
        if errors.code(error) == "NoSuchBucket":
            raise PipeError(
                f"S3_BUCKET {bucket!r} does not exist; create it in {region} or fix the name."
            ) from None
        # Without s3:GetBucketLocation the check is left to Elastic Beanstalk, which refuses too.
        logger.debug("Could not read the region of %s: %s", bucket, errors.summary(error))
        return
    where = _LEGACY_LOCATIONS.get(location, location)
    if where != region:
        raise PipeError(
            f"S3_BUCKET {bucket!r} is in {where}, but Elastic Beanstalk in {region} reads bundles only from "
            f"a bucket in {region}: use a bucket there, or leave S3_BUCKET unset to use Elastic "
            "Beanstalk's own bucket."
        )
