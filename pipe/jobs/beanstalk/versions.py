"""Application versions: the bundle on S3 and the version that points at it, made once per label.

A label that exists already is reused when its bundle has the same content (the MD5 stored in the
object's metadata at upload, else its ETag, single-part or multipart, else its size where neither can
tell), and refused when the content differs: one label must always mean one bundle.

Bundles are immutable: a version deploys from its S3 object as it is at deploy time, so an object
at the key is never replaced. A key that holds the same bundle is reused; one that holds anything
else (or anything the pipe cannot compare) is refused before an upload, and S3 itself refuses the
upload (IfNoneMatch) if an object appears there in between.
"""

from dataclasses import dataclass
from typing import Any

from pipe.aws import errors
from pipe.common.errors import PipeError
from pipe.common.etag import METADATA_MD5, MULTIPART_CHUNKSIZE, MULTIPART_THRESHOLD
from pipe.common.log import logger
from pipe.jobs.beanstalk.bundle import Bundle


@dataclass(frozen=True)
class Outcome:
    label: str
    bucket: str
    key: str
    uploaded: bool  # the bundle was sent to S3 by this run
    created: bool  # the version was created by this run


def storage_bucket(eb: Any) -> str:
    """The region's Elastic Beanstalk bucket (elasticbeanstalk-<region>-<account>), made if missing."""
    bucket: str = eb.create_storage_location()["S3Bucket"]
    return bucket


def find_version(eb: Any, application: str, label: str) -> dict[str, Any] | None:
    answer = eb.describe_application_versions(ApplicationName=application, VersionLabels=[label])
    found: list[dict[str, Any]] = [
        item for item in answer.get("ApplicationVersions", []) if item.get("VersionLabel") == label
    ]
    return found[0] if found else None


def _same_content(head: dict[str, Any], bundle: Bundle) -> bool | None:
    """True or False when the object's metadata or ETag can tell; None when they cannot."""
    stored = head.get("Metadata", {}).get(METADATA_MD5)
    if stored:
        return bool(stored == bundle.md5)
    if head.get("ContentLength") != bundle.size:
        return False
    etag = head.get("ETag", "").strip('"')
    if etag == bundle.etag or etag == bundle.md5:
        return True
    if "-" in etag or head.get("ServerSideEncryption") == "aws:kms":
        return None  # another part size, or SSE-KMS: the ETag is not one the pipe can reproduce
    return False


def _head(s3: Any, bucket: str, key: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        head: dict[str, Any] = s3.head_object(Bucket=bucket, Key=key)
        return head
    except ClientError as error:
        if errors.is_not_found(error):
            return None
        if errors.is_access_denied(error):
            raise PipeError(errors.access_denied_line(error, f"s3://{bucket}/{key}")) from None
        raise


def _check_existing(s3: Any, version: dict[str, Any], application: str, label: str, bundle: Bundle) -> None:
    source = version.get("SourceBundle") or {}
    bucket, key = source.get("S3Bucket"), source.get("S3Key")
    where = f"s3://{bucket}/{key}"
    head = _head(s3, bucket, key) if bucket and key else None
    if head is None:
        raise PipeError(
            f"Version {label!r} already exists in application {application!r}, but its bundle {where} is "
            "gone, so it cannot be compared with this one; set a new VERSION_LABEL."
        )
    same = _same_content(head, bundle)
    if same is None:
        same = head.get("ContentLength") == bundle.size
        logger.warning(
            "The bundle at %s has no content hash the pipe can compare; compared sizes only.", where
        )
    if not same:
        raise PipeError(
            f"Version {label!r} already exists in application {application!r} with a different bundle "
            f"({where}); a label must mean one bundle: set a new VERSION_LABEL."
        )


def _refuse_overwrite(bucket: str, key: str, same: bool | None) -> PipeError:
    what = "an object the pipe cannot compare with this bundle" if same is None else "a different object"
    return PipeError(
        f"s3://{bucket}/{key} already holds {what}; the pipe never overwrites a bundle (a version deploys "
        "from its S3 object as it is at deploy time, so an older version or a rollback would ship this "
        "one): set S3_KEY to a key of its own, or leave S3_KEY unset (APPLICATION_NAME/VERSION_LABEL.zip)."
    )


# The S3 calls that put an object in place: a single-part upload, or the end of a multipart one.
_WRITES = ("PutObject", "CompleteMultipartUpload")


# What S3 answers a conditional write when the key is taken (or, for a repeated CompleteMultipartUpload,
# when the first attempt completed the upload).
_TAKEN = ("PreconditionFailed", "412", "ConditionalRequestConflict", "NoSuchUpload")


def _only_if_absent(params: dict[str, Any], **_kwargs: Any) -> None:
    params["IfNoneMatch"] = "*"


def _upload(s3: Any, bucket: str, key: str, bundle: Bundle) -> None:
    """One upload through s3transfer's classic manager: a single PUT below etag.MULTIPART_THRESHOLD,
    parts of etag.MULTIPART_CHUNKSIZE above it, so that the ETag is the one bundle.etag predicts.
    S3 refuses the write (412) if an object appeared at the key since it was looked at: s3transfer
    does not pass IfNoneMatch through, so it is added to the two calls that write the object."""
    from s3transfer.manager import TransferConfig, TransferManager

    extra: dict[str, Any] = {"ContentType": "application/zip", "Metadata": {METADATA_MD5: bundle.md5}}
    if bundle.crc32:  # multipart uploads carry per-part checksums instead
        extra |= {"ChecksumAlgorithm": "CRC32", "ChecksumCRC32": bundle.crc32}
    config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD, multipart_chunksize=MULTIPART_CHUNKSIZE)
    events = s3.meta.events
    for operation in _WRITES:
        events.register(f"before-parameter-build.s3.{operation}", _only_if_absent)
    try:
        with TransferManager(s3, config) as manager:
            manager.upload(str(bundle.path), bucket, key, extra_args=extra).result()
    finally:
        for operation in _WRITES:
            events.unregister(f"before-parameter-build.s3.{operation}", _only_if_absent)


def _place_bundle(s3: Any, bucket: str, key: str, bundle: Bundle) -> bool:
    """Put the bundle at bucket/key unless it is there already; True when this run uploaded it.
    Whatever the key holds is never replaced."""
    from botocore.exceptions import ClientError

    head = _head(s3, bucket, key)
    if head is not None:
        same = _same_content(head, bundle)
        if not same:
            raise _refuse_overwrite(bucket, key, same)
        logger.info("s3://%s/%s already holds this bundle; not uploading it again.", bucket, key)
        return False
    logger.info(
        "Uploading the bundle (%d bytes, MD5 %s) to s3://%s/%s.", bundle.size, bundle.md5, bucket, key
    )
    try:
        _upload(s3, bucket, key, bundle)
    except ClientError as error:
        if errors.code(error) not in _TAKEN:
            raise
        # Another writer got there between the look and the upload, or this upload's own first
        # attempt did (its answer lost, the retry refused).
        head = _head(s3, bucket, key)
        same = _same_content(head, bundle) if head is not None else None
        if not same:
            raise _refuse_overwrite(bucket, key, same) from None
        return False
    return True


def _remove_unused(s3: Any, bucket: str, key: str, bundle: Bundle) -> None:
    """The bundle this run uploaded backs no version (creating it failed): remove it, so that a
    failed run leaves nothing behind."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        head = _head(s3, bucket, key)
        if head is None or head.get("Metadata", {}).get(METADATA_MD5) != bundle.md5:
            return
        extra = {"VersionId": head["VersionId"]} if head.get("VersionId") else {}
        s3.delete_object(Bucket=bucket, Key=key, **extra)
        logger.info("Removed s3://%s/%s, uploaded by this run: no version uses it.", bucket, key)
    except (ClientError, BotoCoreError, PipeError) as error:
        logger.warning(
            "Could not remove s3://%s/%s, which no version uses: %s", bucket, key, errors.summary(error)
        )


def upload_and_create(
    eb: Any,
    s3: Any,
    application: str,
    label: str,
    description: str,
    bucket: str,
    key: str,
    bundle: Bundle,
    existing: dict[str, Any] | None,
) -> Outcome:
    """`existing`: the version `label` as looked up before (None: there was none)."""
    if existing is not None:
        _check_existing(s3, existing, application, label, bundle)
        source = existing.get("SourceBundle") or {}
        logger.info(
            "Version %s already exists with this bundle (MD5 %s); nothing uploaded.", label, bundle.md5
        )
        return Outcome(label, source.get("S3Bucket", bucket), source.get("S3Key", key), False, False)

    uploaded = _place_bundle(s3, bucket, key, bundle)

    from botocore.exceptions import ClientError

    try:
        eb.create_application_version(
            ApplicationName=application,
            VersionLabel=label,
            Description=description,
            SourceBundle={"S3Bucket": bucket, "S3Key": key},
            Process=False,
        )
    except ClientError as error:
        # "Application Version x already exists." comes as InvalidParameterValue: whether it is there
        # is looked up, not read from the message.
        again = (
            find_version(eb, application, label) if errors.code(error) == "InvalidParameterValue" else None
        )
        if again is None:
            if uploaded:
                _remove_unused(s3, bucket, key, bundle)
            raise
        # Made by a run in parallel since we looked: fine if it is the same bundle.
        _check_existing(s3, again, application, label, bundle)
        return Outcome(label, bucket, key, uploaded, False)
    logger.info("Created version %s of application %s from s3://%s/%s.", label, application, bucket, key)
    return Outcome(label, bucket, key, uploaded, True)


def plan_bundle(
    s3: Any,
    application: str,
    label: str,
    bucket: str,
    key: str,
    bundle: Bundle,
    existing: dict[str, Any] | None,
) -> Outcome:
    """What upload_and_create would do, found by reading only (DRY_RUN): the same refusals, nothing
    uploaded or created."""
    if existing is not None:
        _check_existing(s3, existing, application, label, bundle)
        source = existing.get("SourceBundle") or {}
        return Outcome(label, source.get("S3Bucket", bucket), source.get("S3Key", key), False, False)
    head = _head(s3, bucket, key)
    if head is not None:
        same = _same_content(head, bundle)
        if not same:
            raise _refuse_overwrite(bucket, key, same)
        logger.info("s3://%s/%s already holds this bundle: a deploy would not upload it again.", bucket, key)
    return Outcome(label, bucket, key, uploaded=head is None, created=True)
