"""What to upload and what to delete: the local tree against the bucket's listing, by content.

A file is uploaded when its size differs, or when its size is equal and neither the ETag nor the
MD5 the pipe stored in the object's metadata matches the local content. Modification times are
ignored: a fresh clone touches every file.
"""

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from pipe.aws import cloudfront, errors
from pipe.common import etag
from pipe.common.errors import PipeError
from pipe.common.local_tree import Filters, LocalFile, Skipped, walk
from pipe.common.log import logger
from pipe.common.private_dir import clone_dir, in_clone
from pipe.jobs.s3_sync import keys as s3_keys
from pipe.jobs.s3_sync import pages
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


class Remote(NamedTuple):
    """An object to delete: its size is what the plan reports."""

    key: str
    size: int


@dataclass
class Plan:
    new: list[LocalFile] = field(default_factory=list)
    changed: list[LocalFile] = field(default_factory=list)
    deletions: list[Remote] = field(default_factory=list)
    # The objects under the prefix that the sync manages (the filters select them): what DELETE_FLAG
    # may delete from, and what the delete guard measures a deletion against.
    present: int = 0


def local_root(local_path: str, env: Mapping[str, str]) -> tuple[Path, bool]:
    clone = clone_dir(env)
    raw = local_path.strip()
    path = in_clone("LOCAL_PATH", raw, env)
    if not path.exists():
        raise PipeError(f"LOCAL_PATH {raw!r} does not exist in {clone}; build the site before this step.")
    if not (path.is_dir() or path.is_file()):
        raise PipeError(f"LOCAL_PATH {raw!r} is neither a directory nor a regular file.")
    return path, path.is_dir()


def scan(
    filters: Filters, follow_symlinks: bool, root: Path, is_dir: bool, prefix: str, summary: Summary
) -> Iterator[tuple[str, LocalFile]]:
    """(key, file) for each local file, in key order, as the walk finds them: never the whole tree."""
    skipped = Skipped()
    if is_dir:
        files = walk(root, follow_symlinks, filters, skipped)
    else:
        files = iter([LocalFile(relative=root.name, root=str(root.parent), size=root.stat().st_size)])
    summary.scanned = 0
    for item in files:
        try:
            key = s3_keys.key_for(prefix, item.relative)
        except s3_keys.UnsafeKey as error:
            logger.warning("Skipped '%s': as an S3 key it %s.", item.relative, error)
            continue
        summary.scanned += 1
        yield key, item
    summary.skipped_links = skipped.symlinks + skipped.outside
    if skipped.outside:
        logger.warning("%d symbolic link(s) point outside LOCAL_PATH and were not followed.", skipped.outside)


class Digests:
    """The digests of local files, read when needed and not kept: kept, they would grow with the tree.
    A same-size file whose ETag does not decide is read twice (compared, then uploaded): rare."""

    def of(self, key: str, item: LocalFile) -> etag.Digest:
        try:
            return etag.digest_file(item.location, item.size)
        except OSError as error:
            raise PipeError(f"Cannot read {item.relative}: {error.strerror}.") from None


class _Unordered(Exception):
    """The listing is not in key order (S3 directory buckets list in no particular order)."""


def compare(
    s3: Any,
    bucket: str,
    scan_local: Callable[[], Iterator[tuple[str, LocalFile]]],
    digests: Any,
    filters: Filters,
    concurrency: int,
    prefix: str,
    is_dir: bool,
    summary: "Summary",
) -> Plan:
    """Two sorted streams side by side: the local walk and the bucket's listing (fetched ahead, page
    by page). Neither side is held in memory, only what is to be uploaded or deleted.

    `scan_local()` gives a fresh (key, file) stream in key order. A listing out of key order is
    compared again against a map of the local tree.
    """
    listing = s3_keys.listing_prefix(prefix) if is_dir else next(scan_local(), ("", None))[0]
    judge = _Judge(digests, filters, prefix, is_dir, summary)
    try:
        _merge(scan_local(), pages.listed(s3, bucket, listing), judge)
    except _Unordered:
        logger.info("The bucket lists keys out of order: comparing against a map of the local tree.")
        judge = _Judge(digests, filters, prefix, is_dir, summary)
        _by_map(dict(scan_local()), pages.listed(s3, bucket, listing), judge)
    if judge.undecided:
        decide_by_metadata(s3, bucket, digests, judge.undecided, concurrency, judge.plan, summary)
    # In key order, as `new` is: the uploads merge the two.
    judge.plan.changed.sort(key=lambda item: item.relative)
    return judge.plan


class _Judge:
    """What one local file against its listed object means, and a progress line now and then."""

    def __init__(self, digests: Any, filters: Filters, prefix: str, is_dir: bool, summary: "Summary") -> None:
        self.plan = Plan()
        self.undecided: list[tuple[str, LocalFile]] = []
        self.digests, self.filters, self.prefix, self.is_dir, self.summary = (
            digests,
            filters,
            prefix,
            is_dir,
            summary,
        )
        summary.skipped_unchanged = 0
        self.listed = 0
        self.reported = time.monotonic()

    def remote(self, key: str, remote: dict[str, Any], item: LocalFile | None) -> None:
        self.listed += 1
        if time.monotonic() - self.reported >= PROGRESS_SECONDS:
            self.reported = time.monotonic()
            logger.info("Compared %d remote keys and %d local files...", self.listed, self.summary.scanned)
        if item is None:
            relative = s3_keys.relative_of(self.prefix, key)
            # Only keys under the prefix, and not those the filters leave out (as aws s3 sync).
            if self.is_dir and relative is not None and self.filters.selects(relative):
                self.plan.present += 1
                self.plan.deletions.append(Remote(key, remote["Size"]))
            return
        self.plan.present += 1
        if remote["Size"] != item.size:
            self.plan.changed.append(item)
        elif etag.same_content(remote.get("ETag", ""), self.digests.of(key, item)):
            self.summary.skipped_unchanged += 1
        else:
            self.undecided.append((key, item))


def _merge(local: Iterator[tuple[str, LocalFile]], listed: Iterator[dict[str, Any]], judge: _Judge) -> None:
    current = next(local, None)
    previous = ""
    for remote in listed:
        key = remote["Key"]
        if key < previous:
            raise _Unordered
        previous = key
        while current is not None and current[0] < key:
            judge.plan.new.append(current[1])
            current = next(local, None)
        if current is not None and current[0] == key:
            judge.remote(key, remote, current[1])
            current = next(local, None)
        else:
            judge.remote(key, remote, None)
    while current is not None:
        judge.plan.new.append(current[1])
        current = next(local, None)


def _by_map(local: dict[str, LocalFile], listed: Iterator[dict[str, Any]], judge: _Judge) -> None:
    for remote in listed:
        key = remote["Key"]
        judge.remote(key, remote, local.pop(key, None))
    judge.plan.new = list(local.values())


def decide_by_metadata(
    s3: Any,
    bucket: str,
    digests: Any,
    undecided: list[tuple[str, LocalFile]],
    concurrency: int,
    plan: Plan,
    summary: "Summary",
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    def head(key: str) -> tuple[str, str | None]:
        try:
            answer = s3.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if errors.is_not_found(error):
                return key, None  # deleted since it was listed: upload it again
            raise
        return key, answer.get("Metadata", {}).get(etag.METADATA_MD5)

    summary.head_requests += len(undecided)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for (key, stored), (_, item) in zip(
            pool.map(head, [k for k, _ in undecided]), undecided, strict=True
        ):
            if stored and stored == digests.of(key, item).md5:
                summary.skipped_unchanged += 1
            else:
                plan.changed.append(item)


def invalidation_paths(given: list[str], plan: Plan, prefix: str, uploaded_keys: list[str]) -> list[str]:
    """The user's own paths when given, else those of what was uploaded or deleted."""
    if given:
        return cloudfront.given_paths(given)
    deleted_keys = [remote.key for remote in plan.deletions]
    relatives = [s3_keys.relative_of(prefix, key) or key for key in uploaded_keys + deleted_keys]
    return cloudfront.paths_for(relatives) if relatives else []
