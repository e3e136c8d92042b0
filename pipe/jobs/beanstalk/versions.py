"""Application versions: the bundle on S3 and the version that points at it, made once per label.

A label that exists already is reused when its bundle has the same content (the MD5 stored in the
object's metadata at upload, else its single-part ETag, else its size where neither can tell), and
refused when the content differs: one label must always mean one bundle.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from pipe.common.errors import PipeError
from pipe.common.etag import METADATA_MD5
from pipe.common.log import logger
from pipe.jobs.beanstalk.bundle import Bundle


@dataclass(frozen=True)
class Outcome:
    label: str
    bucket: str
    key: str
    uploaded: bool  # the bundle was sent to S3 by this run
    created: bool  # the version was created by this run


def error_code(error: Exception) -> str:
    return getattr(error, "response", {}).get("Error", {}).get("Code", "")


def error_text(error: Exception) -> str:
    detail = getattr(error, "response", {}).get("Error", {})
    if detail:
        return f"{detail.get('Code', 'Error')}: {detail.get('Message', '')}".rstrip(": ")
    return str(error)


def storage_bucket(eb: Any) -> str:
    """The region's Elastic Beanstalk bucket (elasticbeanstalk-<region>-<account>), made if missing."""
    return eb.create_storage_location()["S3Bucket"]


def find_version(eb: Any, application: str, label: str) -> dict | None:
    answer = eb.describe_application_versions(ApplicationName=application, VersionLabels=[label])
    found = [item for item in answer.get("ApplicationVersions", []) if item.get("VersionLabel") == label]
    return found[0] if found else None


def _same_content(head: dict, bundle: Bundle) -> bool | None:
    """True or False when the object's metadata or ETag can tell; None when they cannot."""
    stored = head.get("Metadata", {}).get(METADATA_MD5)
    if stored:
        return stored == bundle.md5
    if head.get("ContentLength") != bundle.size:
        return False
    etag = head.get("ETag", "").strip('"')
    if "-" in etag or head.get("ServerSideEncryption") == "aws:kms":
        return None  # multipart or SSE-KMS: the ETag is not the content's MD5
    return etag == bundle.md5


def _head(s3: Any, bucket: str, key: str) -> dict | None:
    from botocore.exceptions import ClientError

    try:
        return s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error_code(error) in ("404", "NoSuchKey", "NotFound"):
            return None
        if error_code(error) in ("403", "AccessDenied", "Forbidden"):
            raise PipeError(
                f"The role may not read s3://{bucket}/{key} (AccessDenied): grant s3:GetObject on the "
                "bundle bucket."
            ) from None
        raise


def _check_existing(s3: Any, version: dict, application: str, label: str, bundle: Bundle) -> None:
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


def upload_and_create(
    eb: Any, s3: Any, application: str, label: str, description: str, bucket: str, key: str, bundle: Bundle
) -> Outcome:
    existing = find_version(eb, application, label)
    if existing is not None:
        _check_existing(s3, existing, application, label, bundle)
        source = existing.get("SourceBundle") or {}
        logger.info(
            "Version %s already exists with this bundle (MD5 %s); nothing uploaded.", label, bundle.md5
        )
        return Outcome(label, source.get("S3Bucket", bucket), source.get("S3Key", key), False, False)

    head = _head(s3, bucket, key)
    uploaded = False
    if head is not None and _same_content(head, bundle):
        logger.info("s3://%s/%s already holds this bundle; not uploading it again.", bucket, key)
    else:
        logger.info(
            "Uploading the bundle (%d bytes, MD5 %s) to s3://%s/%s.", bundle.size, bundle.md5, bucket, key
        )
        with bundle.path.open("rb") as body:
            s3.put_object(
                Bucket=bucket,
                Key=key,
                Body=body,
                ContentType="application/zip",
                ContentMD5=base64.b64encode(binascii.unhexlify(bundle.md5)).decode(),
                Metadata={METADATA_MD5: bundle.md5},
            )
        uploaded = True

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
        again = find_version(eb, application, label) if "already exists" in error_text(error) else None
        if again is None:
            raise
        # Made by a run in parallel since we looked: fine if it is the same bundle.
        _check_existing(s3, again, application, label, bundle)
        return Outcome(label, bucket, key, uploaded, False)
    logger.info("Created version %s of application %s from s3://%s/%s.", label, application, bucket, key)
    return Outcome(label, bucket, key, uploaded, True)
