"""What to upload and what to delete: the local tree against the bucket's listing, by content.

A file is uploaded when its size differs, or when its size is equal and neither the ETag nor the
MD5 the pipe stored in the object's metadata matches the local content. Modification times are
ignored: a fresh clone touches every file.
"""

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipe.common import cloudfront, etag
from pipe.common.errors import PipeError
from pipe.common.local_tree import Filters, LocalFile, Skipped, walk
from pipe.common.log import logger
from pipe.common.private_dir import clone_dir, in_clone
from pipe.jobs.s3_sync import keys as s3_keys
from pipe.jobs.s3_sync.progress import PROGRESS_SECONDS


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


def local_root(values: dict, env) -> tuple[Path, bool]:
    clone = clone_dir(env)
    raw = values["LOCAL_PATH"].strip()
    path = in_clone("LOCAL_PATH", raw, env)
    if not path.exists():
        raise PipeError(f"LOCAL_PATH {raw!r} does not exist in {clone}; build the site before this step.")
    if not (path.is_dir() or path.is_file()):
        raise PipeError(f"LOCAL_PATH {raw!r} is neither a directory nor a regular file.")
    return path, path.is_dir()


def scan(values: dict, root: Path, is_dir: bool, prefix: str, summary: Summary) -> dict[str, LocalFile]:
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
            logger.warning("Skipped '%s': as an S3 key it %s.", item.relative, error)
            continue
        local[key] = item
    summary.scanned = len(local)
    summary.skipped_links = skipped.symlinks + skipped.outside
    if skipped.outside:
        logger.warning("%d symbolic link(s) point outside LOCAL_PATH and were not followed.", skipped.outside)
    return local


class Digests:
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


def compare(s3, bucket, local, digests, values, prefix, is_dir, summary) -> Plan:
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
        decide_by_metadata(s3, bucket, local, digests, undecided, values, plan, summary)
    return plan


def decide_by_metadata(s3, bucket, local, digests, keys, values, plan, summary) -> None:
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


def invalidation_paths(values, plan: Plan, prefix: str, uploaded_keys: list[str]) -> list[str]:
    if values["CLOUDFRONT_PATHS"]:
        return cloudfront.given_paths(values["CLOUDFRONT_PATHS"])
    relatives = [s3_keys.relative_of(prefix, key) or key for key in uploaded_keys + plan.deletions]
    return cloudfront.paths_for(relatives) if relatives else []
