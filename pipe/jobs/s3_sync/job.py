"""COMMAND: s3-sync — upload what changed in content under LOCAL_PATH to S3_BUCKET, in an order that
never serves a page pointing at a missing asset, then optionally delete and invalidate CloudFront.

Change detection ignores modification times (a fresh clone touches every file): a file is
uploaded when its size differs, or when its size is equal and neither the ETag nor the MD5 the
pipe stored in the object's metadata matches the local content.
"""

import contextlib
import datetime
import email.utils
import mimetypes
import os
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipe.common import etag, shared_storage
from pipe.common.errors import PipeError
from pipe.common.local_tree import Filters, LocalFile, Skipped, walk
from pipe.common.log import emit, logger
from pipe.common.private_dir import clone_dir, in_clone
from pipe.common.variables import Variable, boolean, choice, integer, matching
from pipe.jobs import Context
from pipe.jobs.s3_sync import cache_rules, cloudfront
from pipe.jobs.s3_sync import keys as s3_keys

# Uploads are network-bound: several per core keep the pipe busy; the cap keeps the connection
# pool and S3's per-prefix request rate reasonable.
DEFAULT_CONCURRENCY = min(32, (os.cpu_count() or 2) * 8)
MAX_CONCURRENCY = 128
PROGRESS_SECONDS = 5
# DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000
HTML_SUFFIXES = (".html", ".htm")
SUMMARY_FILE = "aws-oidc-deploy/s3-sync-summary.json"
FALLBACK_CONTENT_TYPE = "application/octet-stream"
# Types missing from Python's built-in table (which is used instead of /etc/mime.types so that the
# result does not depend on the image).
_EXTRA_TYPES = {
    ".js": "text/javascript",  # RFC 9239; Python before 3.12 says application/javascript
    ".webmanifest": "application/manifest+json",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".mjs": "text/javascript",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".map": "application/json",
    ".wasm": "application/wasm",
}
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


SIGNS_IN = True
VARIABLES = (
    Variable("S3_BUCKET", parse=_location, required=True, fix="set it to the bucket, or bucket/prefix."),
    Variable("LOCAL_PATH", required=True, fix="set it to the directory (or file) to upload, such as build."),
    Variable("DELETE_FLAG", parse=boolean, default=False),
    Variable("INCLUDE", is_list=True),
    Variable("EXCLUDE", is_list=True),
    Variable("ACL", parse=choice(ACLS)),
    # A YAML list of rules, or a plain value with one rule per line (commas belong inside values).
    Variable(
        "CACHE_CONTROL",
        is_list=True,
        split=cache_rules.split_items,
        combine=cache_rules.cache_control,
        default=cache_rules.Rules(),
    ),
    Variable(
        "CONTENT_TYPE",
        is_list=True,
        split=cache_rules.split_items,
        combine=cache_rules.content_type,
        default=cache_rules.Rules(),
    ),
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
    Variable(
        "CLOUDFRONT_DISTRIBUTION_ID", parse=matching(r"[A-Z0-9]{1,64}", "a distribution id such as E2EXAMPLE")
    ),
    Variable("CLOUDFRONT_PATHS", is_list=True, parse=cloudfront.parse_path),
    Variable("CLOUDFRONT_WAIT", parse=boolean, default=False),
)


@dataclass
class Summary:
    scanned: int = 0
    uploaded: int = 0
    skipped_unchanged: int = 0
    deleted: int = 0
    bytes_uploaded: int = 0
    seconds: float = 0.0
    invalidation_id: str | None = None
    dry_run: bool = False
    head_requests: int = 0
    skipped_links: int = 0


@dataclass
class Plan:
    new: list[LocalFile] = field(default_factory=list)
    changed: list[LocalFile] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)


def _content_type(relative: str, overrides: cache_rules.Rules, table: mimetypes.MimeTypes) -> str:
    override = overrides.value_for(relative)
    if override:
        return override
    suffix = os.path.splitext(relative)[1].lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = table.guess_type(relative, strict=False)
    return guessed or FALLBACK_CONTENT_TYPE


def _local_root(values: dict, env) -> tuple[Path, bool]:
    clone = clone_dir(env)
    raw = values["LOCAL_PATH"].strip()
    path = in_clone("LOCAL_PATH", raw, env)
    if not path.exists():
        raise PipeError(f"LOCAL_PATH {raw!r} does not exist in {clone}; build the site before this step.")
    if not (path.is_dir() or path.is_file()):
        raise PipeError(f"LOCAL_PATH {raw!r} is neither a directory nor a regular file.")
    return path, path.is_dir()


def _scan(values: dict, root: Path, is_dir: bool, prefix: str, summary: Summary) -> dict[str, LocalFile]:
    filters = Filters(tuple(values["INCLUDE"]), tuple(values["EXCLUDE"]))
    skipped = Skipped()
    if is_dir:
        files = walk(root, values["FOLLOW_SYMLINKS"], filters, skipped)
    else:
        files = iter([LocalFile(relative=root.name, path=root, size=root.stat().st_size)])
    local: dict[str, LocalFile] = {}
    for item in files:
        try:
            key = s3_keys.key_for(prefix, item.relative)
        except s3_keys.UnsafeKey as error:
            logger.warning("Skipped %r: as an S3 key it %s.", item.relative, error)
            continue
        local[key] = item
    summary.scanned = len(local)
    summary.skipped_links = skipped.symlinks + skipped.outside
    if skipped.outside:
        logger.warning("%d symbolic link(s) point outside LOCAL_PATH and were not followed.", skipped.outside)
    return local


class _Digests:
    """MD5s of local files, computed once, on demand."""

    def __init__(self):
        self._cache: dict[str, etag.Digest] = {}
        self._lock = threading.Lock()

    def of(self, key: str, item: LocalFile) -> etag.Digest:
        with self._lock:
            found = self._cache.get(key)
        if found is None:
            try:
                found = etag.digest_file(item.path, item.size)
            except OSError as error:
                raise PipeError(f"Cannot read {item.relative}: {error.strerror}.") from None
            with self._lock:
                self._cache[key] = found
        return found


def _compare(s3, bucket, local, digests, values, prefix, is_dir, summary) -> Plan:
    """Stream the listing page by page; only the local side is held in memory."""
    plan = Plan()
    seen: set[str] = set()
    undecided: list[str] = []
    filters = Filters(tuple(values["INCLUDE"]), tuple(values["EXCLUDE"]))
    listing = s3_keys.listing_prefix(prefix) if is_dir else next(iter(local), "")
    paginator = s3.get_paginator("list_objects_v2")
    listed = 0
    reported = time.monotonic()
    for page in paginator.paginate(Bucket=bucket, Prefix=listing):
        listed += len(page.get("Contents", ()))
        if time.monotonic() - reported >= PROGRESS_SECONDS:
            reported = time.monotonic()
            logger.info("Compared %d remote keys with %d local files...", listed, len(local))
        for remote in page.get("Contents", ()):
            key = remote["Key"]
            item = local.get(key)
            if item is None:
                relative = s3_keys.relative_of(prefix, key)
                # Only keys under the prefix, and not those the filters leave out (as aws s3 sync).
                if is_dir and relative is not None and filters.selects(relative):
                    plan.deletions.append(key)
                continue
            seen.add(key)
            if remote["Size"] != item.size:
                plan.changed.append(item)
            elif etag.same_content(remote.get("ETag", ""), digests.of(key, item)):
                summary.skipped_unchanged += 1
            else:
                undecided.append(key)
    plan.new = [item for key, item in local.items() if key not in seen]
    if undecided:
        _decide_by_metadata(s3, bucket, local, digests, undecided, values, plan, summary)
    return plan


def _decide_by_metadata(s3, bucket, local, digests, keys, values, plan, summary) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    def head(key: str) -> tuple[str, str | None]:
        try:
            answer = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return key, None  # deleted since it was listed: upload it again
            raise
        return key, answer.get("Metadata", {}).get(etag.METADATA_MD5)

    summary.head_requests += len(keys)
    with ThreadPoolExecutor(max_workers=values["MAX_CONCURRENCY"]) as pool:
        for key, stored in pool.map(head, keys):
            if stored and stored == digests.of(key, local[key]).md5:
                summary.skipped_unchanged += 1
            else:
                plan.changed.append(local[key])


class _Progress:
    """A line every few seconds while uploads run (CI logs have no terminal for a bar)."""

    def __init__(self, total_files: int, total_bytes: int):
        self.total_files, self.total_bytes = total_files, total_bytes
        self.files = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._report, daemon=True)
        self._started = time.monotonic()

    def done(self, size: int) -> None:
        with self._lock:
            self.files += 1
            self.bytes += size

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc):
        self._stop.set()
        self._thread.join()

    def _report(self):
        while not self._stop.wait(PROGRESS_SECONDS):
            with self._lock:
                files, sent = self.files, self.bytes
            logger.info(
                "Uploaded %d of %d files, %s of %s (%.0f s).",
                files,
                self.total_files,
                _size(sent),
                _size(self.total_bytes),
                time.monotonic() - self._started,
            )


def _size(count: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count} B"


def _extra_args(item: LocalFile, digest: etag.Digest, values: dict, table) -> dict:
    args = {
        "ContentType": _content_type(item.relative, values["CONTENT_TYPE"], table),
        "Metadata": {etag.METADATA_MD5: digest.md5},
    }
    cache = values["CACHE_CONTROL"].value_for(item.relative)
    if cache:
        args["CacheControl"] = cache
    optional = {
        "ACL": "ACL",
        "CONTENT_ENCODING": "ContentEncoding",
        "STORAGE_CLASS": "StorageClass",
        "EXPIRES": "Expires",
        "SSE": "ServerSideEncryption",
        "SSE_KMS_KEY_ID": "SSEKMSKeyId",
    }
    for name, argument in optional.items():
        if values[name] is not None:
            args[argument] = values[name]
    return args


def _upload(s3, bucket, files, digests, values, summary, identity, env) -> None:
    from pipe.jobs.s3_sync import engine as s3_upload

    engine = s3_upload.engine_for(values["S3_TRANSFER_CLIENT"], env)
    if engine == "classic" and values["S3_TRANSFER_CLIENT"] == "auto":
        logger.info("A proxy is configured: uploading with the classic transfer client, which honours it.")
    table = mimetypes.MimeTypes()
    html = [(k, i) for k, i in files if i.relative.lower().endswith(HTML_SUFFIXES)]
    other = [(k, i) for k, i in files if not i.relative.lower().endswith(HTML_SUFFIXES)]
    total = sum(item.size for _, item in files)
    manager = s3_upload.transfer_manager(engine, s3, identity, values["MAX_CONCURRENCY"], env)
    with _Progress(len(files), total) as progress, manager as uploader:
        # HTML last: a page goes live only once every asset it may point at is there.
        for batch in (other, html):
            futures = []
            for key, item in batch:
                digest = digests.of(key, item)
                extra = _extra_args(item, digest, values, table) | s3_upload.checksum_args(digest, item.size)
                with _explained(item):
                    futures.append((item, uploader.upload(str(item.path), bucket, key, extra_args=extra)))
            for item, future in futures:
                with _explained(item):
                    future.result()
                progress.done(item.size)
                summary.uploaded += 1
                summary.bytes_uploaded += item.size


@contextlib.contextmanager
def _explained(item: LocalFile):
    try:
        yield
    except FileNotFoundError:
        raise PipeError(f"{item.relative} disappeared while it was being uploaded.") from None
    except s3_error_types() as error:
        raise PipeError(f"Upload of {item.relative} failed: {_describe(error)}") from None


def s3_error_types():
    from awscrt.exceptions import AwsCrtError
    from botocore.exceptions import BotoCoreError, ClientError
    from s3transfer.exceptions import S3UploadFailedError

    return (ClientError, BotoCoreError, S3UploadFailedError, AwsCrtError)


def _describe(error: Exception) -> str:
    response = getattr(error, "response", None)
    if response:
        detail = response.get("Error", {})
        return f"{detail.get('Code', 'Error')}: {detail.get('Message', '')}".rstrip(": ") + "."
    return f"{error}".rstrip(".") + "."


def _delete(s3, bucket, keys, summary) -> None:
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        errors = answer.get("Errors", [])
        if errors:
            first = errors[0]
            raise PipeError(
                f"Could not delete {len(errors)} key(s), e.g. {first.get('Key')!r}: "
                f"{first.get('Code')}: {first.get('Message', '')}"
            )
        summary.deleted += len(batch)


def _invalidation_paths(values, plan: Plan, prefix: str, uploaded_keys: list[str]) -> list[str]:
    if values["CLOUDFRONT_PATHS"]:
        return list(values["CLOUDFRONT_PATHS"])
    relatives = [s3_keys.relative_of(prefix, key) or key for key in uploaded_keys + plan.deletions]
    return cloudfront.paths_for(relatives) if relatives else []


def _check(values: dict) -> None:
    if values["SSE_KMS_KEY_ID"] and values["SSE"] not in ("aws:kms", "aws:kms:dsse"):
        raise PipeError("SSE_KMS_KEY_ID needs SSE: 'aws:kms' (or 'aws:kms:dsse').")
    if values["CLOUDFRONT_PATHS"] and not values["CLOUDFRONT_DISTRIBUTION_ID"]:
        raise PipeError("CLOUDFRONT_PATHS needs CLOUDFRONT_DISTRIBUTION_ID.")
    if values["CLOUDFRONT_WAIT"] and not values["CLOUDFRONT_DISTRIBUTION_ID"]:
        raise PipeError("CLOUDFRONT_WAIT needs CLOUDFRONT_DISTRIBUTION_ID.")


def _client_error(error: Exception, bucket: str) -> PipeError:
    response = getattr(error, "response", None) or {}
    code = response.get("Error", {}).get("Code", "")
    if code in ("NoSuchBucket", "404"):
        return PipeError(f"Bucket {bucket} does not exist (or is in another account); check S3_BUCKET.")
    if code in ("AccessDenied", "403"):
        return PipeError(
            f"The role may not list or write s3://{bucket}: AccessDenied. Grant s3:ListBucket, "
            "s3:PutObject (and s3:DeleteObject with DELETE_FLAG) on it."
        )
    return PipeError(f"S3 call on bucket {bucket} failed: {_describe(error)}")


def _write_summary(env, summary: Summary) -> None:
    shared_storage.write_json(env, SUMMARY_FILE, asdict(summary))


def run(context: Context) -> str:
    started = time.monotonic()
    values = dict(context.values)
    _check(values)
    bucket, prefix = values["S3_BUCKET"]
    root, is_dir = _local_root(values, context.env)
    if values["DELETE_FLAG"] and not is_dir:
        raise PipeError("DELETE_FLAG needs LOCAL_PATH to be a directory; it is a single file.")
    summary = Summary(dry_run=values["DRY_RUN"])
    local = _scan(values, root, is_dir, prefix, summary)
    if not local and not is_dir:
        raise PipeError(f"LOCAL_PATH {values['LOCAL_PATH']!r} has a file name that cannot be an S3 key.")
    if not local and values["DELETE_FLAG"]:
        # An empty build directory is far more often a failed build than a wish to empty the site.
        raise PipeError(
            f"LOCAL_PATH {values['LOCAL_PATH']!r} holds no files to sync; refusing to delete everything."
        )

    identity = context.identity
    assert identity is not None
    concurrency = values["MAX_CONCURRENCY"]
    # Checksums only where S3 requires them: TLS already protects the content in transit, and a
    # per-request checksum is CPU spent on every small file.
    s3 = identity.client(
        "s3", max_pool_connections=concurrency + 2, request_checksum_calculation="when_required"
    )
    digests = _Digests()
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        plan = _compare(s3, bucket, local, digests, values, prefix, is_dir, summary)
    except (ClientError, BotoCoreError) as error:
        raise _client_error(error, bucket) from None
    if not values["DELETE_FLAG"]:
        plan.deletions = []
    uploads = sorted(
        ((s3_keys.key_for(prefix, i.relative), i) for i in plan.new + plan.changed), key=lambda p: p[0]
    )
    uploaded_keys = [key for key, _ in uploads]
    paths = (
        _invalidation_paths(values, plan, prefix, uploaded_keys)
        if values["CLOUDFRONT_DISTRIBUTION_ID"]
        else []
    )

    where = f"s3://{bucket}/{s3_keys.listing_prefix(prefix)}"
    if values["DRY_RUN"]:
        lines = [f"Plan for {where} (dry run, nothing changed):"]
        changed = {id(item) for item in plan.changed}
        lines += [f"  upload ({'changed' if id(i) in changed else 'new'}): {k}" for k, i in uploads]
        lines += [f"  delete: {key}" for key in plan.deletions]
        if paths:
            lines.append(f"  invalidate on {values['CLOUDFRONT_DISTRIBUTION_ID']}: {' '.join(paths)}")
        emit("\n".join(lines))
        summary.seconds = round(time.monotonic() - started, 2)
        _write_summary(context.env, summary)
        return (
            f"Dry run: {len(uploads)} to upload, {summary.skipped_unchanged} unchanged, "
            f"{len(plan.deletions)} to delete of {summary.scanned} files; nothing changed."
        )

    logger.info("%d of %d files to upload, %d to delete.", len(uploads), summary.scanned, len(plan.deletions))
    try:
        _upload(s3, bucket, uploads, digests, values, summary, identity, context.env)
        _delete(s3, bucket, plan.deletions, summary)
    except (ClientError, BotoCoreError) as error:
        raise _client_error(error, bucket) from None

    wait_note = ""
    if paths:
        distribution = values["CLOUDFRONT_DISTRIBUTION_ID"]
        cdn = identity.client("cloudfront")
        summary.invalidation_id = cloudfront.invalidate(cdn, distribution, paths)
        logger.info("Invalidation %s created for %d path(s).", summary.invalidation_id, len(paths))
        if values["CLOUDFRONT_WAIT"]:
            waited = cloudfront.wait(cdn, distribution, summary.invalidation_id)
            wait_note = f" (completed in {waited:.0f} s)"
    summary.seconds = round(time.monotonic() - started, 2)
    emit(
        "\n".join(
            [
                f"Scanned:           {summary.scanned}",
                f"Uploaded:          {summary.uploaded} ({_size(summary.bytes_uploaded)})",
                f"Skipped unchanged: {summary.skipped_unchanged}",
                f"Deleted:           {summary.deleted}",
                f"Seconds:           {summary.seconds}",
                f"Invalidation:      {(summary.invalidation_id or 'none') + wait_note}",
            ]
        )
    )
    _write_summary(context.env, summary)
    return (
        f"Synced {where}: {summary.uploaded} uploaded, {summary.skipped_unchanged} unchanged, "
        f"{summary.deleted} deleted in {summary.seconds} s."
    )
