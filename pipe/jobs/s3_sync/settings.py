"""s3-sync's settings: the checked variables (pipe.jobs.s3_sync.job.VARIABLES) as the job uses them,
read once before the sign-in, so that a combination that cannot work fails before any AWS call."""

from collections.abc import Mapping
from typing import Any, NamedTuple

from pipe.common.errors import PipeError
from pipe.common.local_tree import Filters
from pipe.jobs.s3_sync.cache_rules import Rules

# The variables each uploaded object takes as it is, and the PutObject argument each becomes.
_OBJECT_ARGUMENTS = {
    "ACL": "ACL",
    "CONTENT_ENCODING": "ContentEncoding",
    "STORAGE_CLASS": "StorageClass",
    "EXPIRES": "Expires",
    "SSE": "ServerSideEncryption",
    "SSE_KMS_KEY_ID": "SSEKMSKeyId",
}
_KMS_MODES = ("aws:kms", "aws:kms:dsse")


class ObjectMetadata(NamedTuple):
    """What each uploaded object gets besides its content."""

    content_type: Rules
    cache_control: Rules
    # The PutObject arguments every object gets alike (ACL, StorageClass, ...): only those set.
    common: dict[str, Any]


class Invalidation(NamedTuple):
    distribution: str
    # The user's own paths; empty: the paths of what the sync changed.
    paths: list[str]
    wait: bool


class Settings(NamedTuple):
    bucket: str
    prefix: str
    # As given: resolved inside the clone (and its existence checked) by plan.local_root.
    local_path: str
    delete: bool
    # DELETE_GUARD_PERCENT: the share of the managed objects DELETE_FLAG may delete (delete_guard.py).
    delete_guard_percent: int
    filters: Filters
    follow_symlinks: bool
    metadata: ObjectMetadata
    concurrency: int
    transfer_client: str  # auto, crt or classic (pipe.jobs.s3_sync.engine)
    dry_run: bool
    invalidation: Invalidation | None


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    if values["SSE_KMS_KEY_ID"] and values["SSE"] not in _KMS_MODES:
        raise PipeError("SSE_KMS_KEY_ID needs SSE: 'aws:kms' (or 'aws:kms:dsse').")
    distribution = values["CLOUDFRONT_DISTRIBUTION_ID"]
    if values["CLOUDFRONT_PATHS"] and not distribution:
        raise PipeError("CLOUDFRONT_PATHS needs CLOUDFRONT_DISTRIBUTION_ID.")
    if values["CLOUDFRONT_WAIT"] and not distribution:
        raise PipeError("CLOUDFRONT_WAIT needs CLOUDFRONT_DISTRIBUTION_ID.")
    bucket, prefix = values["S3_BUCKET"]
    return Settings(
        bucket=bucket,
        prefix=prefix,
        local_path=values["LOCAL_PATH"],
        delete=values["DELETE_FLAG"],
        delete_guard_percent=values["DELETE_GUARD_PERCENT"],
        filters=Filters(tuple(values["INCLUDE"]), tuple(values["EXCLUDE"])),
        follow_symlinks=values["FOLLOW_SYMLINKS"],
        metadata=ObjectMetadata(
            content_type=values["CONTENT_TYPE"],
            cache_control=values["CACHE_CONTROL"],
            common={
                argument: values[name]
                for name, argument in _OBJECT_ARGUMENTS.items()
                if values[name] is not None
            },
        ),
        concurrency=values["MAX_CONCURRENCY"],
        transfer_client=values["S3_TRANSFER_CLIENT"],
        dry_run=values["DRY_RUN"],
        invalidation=(
            Invalidation(distribution, list(values["CLOUDFRONT_PATHS"]), values["CLOUDFRONT_WAIT"])
            if distribution
            else None
        ),
    )
