"""DRY_RUN: everything a deploy does up to its first change — the checks, the version and its bundle
compared with what is there, health now — then the plan (pipe.jobs.beanstalk.reports), and stop.
Only reading calls are made: no CreateStorageLocation, no upload, no CreateApplicationVersion, no
UpdateEnvironment. Nothing is written to the shared-storage result file: that holds the last deploy."""

from typing import Any

from pipe.common.log import logger
from pipe.jobs.beanstalk import reports, versions
from pipe.jobs.beanstalk.settings import Settings
from pipe.jobs.beanstalk.watch import describe


def storage_bucket_name(region: str, account: str) -> str:
    """The bucket CreateStorageLocation makes and answers (AWS documents its name), computed here
    because asking for it would create it."""
    return f"elasticbeanstalk-{region}-{account}"


def plan(eb: Any, s3: Any | None, chosen: Settings, existing: dict[str, Any] | None, account: str) -> str:
    application, label = chosen.application, chosen.label
    result: dict[str, Any] = {
        "application": application,
        "environment": chosen.environment,
        "version_label": label,
    }
    if chosen.upload is not None and chosen.bundle is not None and s3 is not None:
        bucket = chosen.bucket or storage_bucket_name(eb.meta.region_name, account)
        outcome = versions.plan_bundle(
            s3, application, label, bucket, chosen.upload.key, chosen.bundle, existing
        )
        result |= {"s3_bucket": outcome.bucket, "s3_key": outcome.key, "uploaded": outcome.uploaded}
    bundle = "new" if result.get("uploaded") else "reused"
    if chosen.deployment is None:
        reports.record_upload_plan(application, label, result)
        where = f"s3://{result['s3_bucket']}/{result['s3_key']}"
        return f"Plan recorded: version {label} of {application} from {where} (bundle {bundle}); nothing changed (dry run)."
    deployment = chosen.deployment
    now = describe(eb, application, deployment.environment)
    if now.status != "Ready":
        logger.info(
            "Environment %s is %s now: a deploy would wait for it to be Ready (DEPLOY_TIMEOUT %d s).",
            deployment.environment,
            now.status,
            deployment.timeout,
        )
    reports.record_plan(deployment, label, now, result)
    return (
        f"Plan recorded: {label} to {deployment.environment} ({now.describe()}); bundle {bundle}; "
        "nothing changed (dry run)."
    )
