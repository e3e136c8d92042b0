"""COMMAND: s3-sync — upload what changed in content under LOCAL_PATH to S3_BUCKET, in an order that
never serves a page pointing at a missing asset, then optionally delete and invalidate CloudFront.

Change detection ignores modification times (a fresh clone touches every file): a file is
uploaded when its size differs, or when its size is equal and neither the ETag nor the MD5 the
pipe stored in the object's metadata matches the local content.
"""

import datetime
import email.utils
import heapq
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict
from typing import Any, Literal

from pipe.aws import cloudfront, errors
from pipe.common import shared_storage
from pipe.common.errors import PipeError
from pipe.common.local_tree import LocalFile
from pipe.common.log import emit, logger
from pipe.common.variables import Variable, boolean, choice, integer, matching
from pipe.jobs import SignedIn
from pipe.jobs.s3_sync import cache_rules, delete_guard, pages, plan, report, settings, uploads
from pipe.jobs.s3_sync import keys as s3_keys
from pipe.jobs.s3_sync.progress import size
from pipe.jobs.s3_sync.uploads import describe

# Uploads are network-bound: several per core keep the pipe busy; the cap keeps the connection
# pool and S3's per-prefix request rate reasonable.
DEFAULT_CONCURRENCY = min(32, (os.cpu_count() or 2) * 8)
MAX_CONCURRENCY = 128
SUMMARY_FILE = "aws-oidc-deploy/s3-sync-summary.json"
ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)
STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
)
SSE_MODES = ("AES256", "aws:kms", "aws:kms:dsse")
# Put in front of an invalidation failure: the files themselves are published.
SYNCED = "The files are synced, but "
# As AWS CLI v2's preferred_transfer_client: auto is the CRT client unless a proxy is configured.
TRANSFER_CLIENTS = ("auto", "crt", "classic")


def _location(raw: str) -> tuple[str, str]:
    try:
        return s3_keys.parse_location(raw)
    except s3_keys.UnsafeKey as error:
        raise ValueError(f"has a prefix that {error}") from None


def _expires(raw: str) -> datetime.datetime:
    text = raw.strip()
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise ValueError("must be a date such as 2030-01-01T00:00:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _rule_list(name: str, combine: Callable[[list[str]], cache_rules.Rules]) -> Variable:
    """A list of glob=value rules: a YAML list, or a plain value with one rule per line (commas
    belong inside values)."""
    return Variable(
        name, is_list=True, split=cache_rules.split_items, combine=combine, default=cache_rules.Rules()
    )


SIGNS_IN: Literal[True] = True
VARIABLES = (
    Variable("S3_BUCKET", parse=_location, required=True, fix="set it to the bucket, or bucket/prefix."),
    Variable("LOCAL_PATH", required=True, fix="set it to the directory (or file) to upload, such as build."),
    Variable("DELETE_FLAG", parse=boolean, default=False),
    Variable("DELETE_GUARD_PERCENT", parse=integer(0, 100), default=delete_guard.DEFAULT_PERCENT),
    Variable("INCLUDE", is_list=True),
    Variable("EXCLUDE", is_list=True),
    Variable("ACL", parse=choice(ACLS)),
    _rule_list("CACHE_CONTROL", cache_rules.cache_control),
    _rule_list("CONTENT_TYPE", cache_rules.content_type),
    Variable(
        "CONTENT_ENCODING", parse=matching(r"[A-Za-z0-9-]+(\s*,\s*[A-Za-z0-9-]+)*", "such as gzip or br")
    ),
    Variable("STORAGE_CLASS", parse=choice(STORAGE_CLASSES)),
    Variable("EXPIRES", parse=_expires),
    Variable("SSE", parse=choice(SSE_MODES)),
    Variable("SSE_KMS_KEY_ID", parse=matching(r"[A-Za-z0-9:/_+=.@-]{1,2048}", "a KMS key id, ARN or alias")),
    Variable("FOLLOW_SYMLINKS", parse=boolean, default=False),
    Variable("MAX_CONCURRENCY", parse=integer(1, MAX_CONCURRENCY), default=DEFAULT_CONCURRENCY),
    Variable("S3_TRANSFER_CLIENT", parse=choice(TRANSFER_CLIENTS), default="auto"),
    Variable("DRY_RUN", parse=boolean, default=False),
    Variable("CLOUDFRONT_DISTRIBUTION_ID", parse=cloudfront.parse_distribution_id),
    Variable("CLOUDFRONT_PATHS", is_list=True, parse=cloudfront.parse_path),
    Variable("CLOUDFRONT_WAIT", parse=boolean, default=False),
)


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> settings.Settings:
    """The settings (pipe.jobs.s3_sync.settings), then LOCAL_PATH (inside the clone, what it is):
    before the sign-in, so that a wrong path costs no AWS call."""
    chosen = settings.read(values, env)
    _local_files(chosen, env, plan.Summary(dry_run=chosen.dry_run))
    return chosen


def _client_error(error: Exception, bucket: str) -> PipeError:
    if errors.is_not_found(error):
        return PipeError(f"Bucket {bucket} does not exist (or is in another account); check S3_BUCKET.")
    if errors.is_access_denied(error):
        return PipeError(errors.access_denied_line(error, f"s3://{bucket}"))
    return PipeError(f"S3 call on bucket {bucket} failed: {describe(error)}")


def _write_summary(env: Mapping[str, str], summary: plan.Summary) -> None:
    shared_storage.write_json(env, SUMMARY_FILE, asdict(summary))


def _local_files(
    chosen: settings.Settings, env: Mapping[str, str], summary: plan.Summary
) -> tuple[Callable[[], Iterator[tuple[str, LocalFile]]], bool]:
    """A function giving a fresh stream of (key, file) in key order, and whether LOCAL_PATH is a
    directory."""
    root, is_dir = plan.local_root(chosen.local_path, env)
    if chosen.delete and not is_dir:
        raise PipeError("DELETE_FLAG needs LOCAL_PATH to be a directory; it is a single file.")

    def scan() -> Iterator[tuple[str, LocalFile]]:
        return plan.scan(chosen.filters, chosen.follow_symlinks, root, is_dir, chosen.prefix, summary)

    if not is_dir and next(scan(), None) is None:
        raise PipeError(f"LOCAL_PATH {chosen.local_path!r} has a file name that cannot be an S3 key.")
    return scan, is_dir


def _refuse_empty_delete(chosen: settings.Settings, summary: plan.Summary) -> None:
    if chosen.delete and summary.scanned == 0:
        # An empty build directory is far more often a failed build than a wish to empty the site.
        raise PipeError(
            f"LOCAL_PATH {chosen.local_path!r} holds no files to sync; refusing to delete everything."
        )


def _s3_client(identity: Any, concurrency: int) -> Any:
    # Checksums only where S3 requires them: TLS already protects the content in transit, and a
    # per-request checksum is CPU spent on every small file.
    # Dates left as text: the pipe never reads LastModified, and parsing it was a quarter of the CPU
    # of a 20,000-key no-change run. Listing pages are read for Key, Size and ETag alone.
    s3 = identity.client(
        "s3",
        parse_timestamps=False,
        max_pool_connections=concurrency + 2,
        request_checksum_calculation="when_required",
    )
    pages.read_lean(s3)
    return s3


def _invalidate(
    identity: Any, invalidation: settings.Invalidation | None, paths: list[str], summary: plan.Summary
) -> str:
    """Returns the note on waiting for the invalidation for the summary line ('' without a wait)."""
    if invalidation is None or not paths:
        return ""
    distribution = invalidation.distribution
    cdn = identity.client("cloudfront")
    summary.invalidation_id = cloudfront.invalidate(cdn, distribution, paths, after=SYNCED)
    logger.info("Invalidation %s created for %d path(s).", summary.invalidation_id, len(paths))
    if not invalidation.wait:
        return ""
    waited = cloudfront.wait(cdn, distribution, summary.invalidation_id, after=SYNCED)
    return f" (completed in {waited:.0f} s)"


def _show_summary(summary: plan.Summary, wait_note: str) -> None:
    emit(
        *(
            [
                f"Scanned:           {summary.scanned}",
                f"Uploaded:          {summary.uploaded} ({size(summary.bytes_uploaded)})",
                f"Skipped unchanged: {summary.skipped_unchanged}",
                f"Deleted:           {summary.deleted}",
                f"Seconds:           {summary.seconds}",
                f"Invalidation:      {(summary.invalidation_id or 'none') + wait_note}",
            ]
        )
    )


def run(context: SignedIn[settings.Settings]) -> str:
    started = time.monotonic()
    chosen = context.settings
    bucket, prefix = chosen.bucket, chosen.prefix
    summary = plan.Summary(dry_run=chosen.dry_run)
    scan_local, is_dir = _local_files(chosen, context.env, summary)

    identity = context.identity
    s3 = _s3_client(identity, chosen.concurrency)
    digests = plan.Digests()
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        changes = plan.compare(
            s3, bucket, scan_local, digests, chosen.filters, chosen.concurrency, prefix, is_dir, summary
        )
    except (ClientError, BotoCoreError) as error:
        raise _client_error(error, bucket) from None
    _refuse_empty_delete(chosen, summary)
    if not chosen.delete:
        changes.deletions = []
    # Both lists are in key order already; keys sort as the relative paths under one prefix do.
    # Files, not (key, file) pairs: a key is made when it is needed, not held for every file.
    to_upload = list(heapq.merge(changes.new, changes.changed, key=lambda item: item.relative))
    invalidation = chosen.invalidation
    paths = (
        plan.invalidation_paths(
            invalidation.paths, changes, prefix, [s3_keys.key_for(prefix, i.relative) for i in to_upload]
        )
        if invalidation is not None
        else []
    )
    planned = report.Planned(
        bucket,
        prefix,
        changes,
        summary.skipped_unchanged,
        summary.scanned,
        paths,
        invalidation.distribution if invalidation is not None else "",
        chosen.delete_guard_percent,
    )
    where = planned.where
    # Before anything is uploaded: a half-built site must not replace the whole one.
    refusal = delete_guard.refusal(
        len(changes.deletions), changes.present, chosen.delete_guard_percent, where, chosen.dry_run
    )
    if chosen.dry_run or refusal:
        report.record_plan(planned, chosen.dry_run, refusal)
    if refusal:
        raise PipeError(refusal)

    if chosen.dry_run:
        summary.seconds = round(time.monotonic() - started, 2)
        _write_summary(context.env, summary)
        return (
            f"Dry run: {len(to_upload)} to upload, {summary.skipped_unchanged} unchanged, "
            f"{len(changes.deletions)} to delete of {summary.scanned} files; nothing changed."
        )

    logger.info(
        "%d of %d files to upload, %d to delete.", len(to_upload), summary.scanned, len(changes.deletions)
    )
    try:
        wait_note = _sync(context, s3, to_upload, digests, changes, paths, summary)
    except PipeError as error:
        summary.seconds = round(time.monotonic() - started, 2)
        report.record_result(planned, summary, completed=False, failure=error.message)
        raise
    summary.seconds = round(time.monotonic() - started, 2)
    report.record_result(planned, summary, completed=bool(wait_note))
    _show_summary(summary, wait_note)
    _write_summary(context.env, summary)
    return (
        f"Synced {where}: {summary.uploaded} uploaded, {summary.skipped_unchanged} unchanged, "
        f"{summary.deleted} deleted in {summary.seconds} s."
    )


def _sync(
    context: SignedIn[settings.Settings],
    s3: Any,
    to_upload: list[LocalFile],
    digests: plan.Digests,
    changes: plan.Plan,
    paths: list[str],
    summary: plan.Summary,
) -> str:
    """Uploads, deletions, invalidation; the note on waiting for the invalidation ('' without)."""
    from botocore.exceptions import BotoCoreError, ClientError

    chosen = context.settings
    try:
        uploads.upload(
            s3,
            (chosen.bucket, chosen.prefix),
            to_upload,
            digests,
            chosen.metadata,
            chosen.transfer_client,
            chosen.concurrency,
            summary,
            context.identity,
            context.env,
        )
        uploads.delete(s3, chosen.bucket, [gone.key for gone in changes.deletions], summary)
    except (ClientError, BotoCoreError) as error:
        raise _client_error(error, chosen.bucket) from None
    return _invalidate(context.identity, chosen.invalidation, paths, summary)
