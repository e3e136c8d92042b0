"""Uploads in an order that never serves a page pointing at a missing asset (HTML last), with the
metadata each object gets, and deletions in DeleteObjects batches."""

import collections
import contextlib
import functools
import mimetypes
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from pipe.aws import errors
from pipe.common import etag
from pipe.common.errors import PipeError
from pipe.common.local_tree import LocalFile
from pipe.common.log import logger
from pipe.jobs.s3_sync import cache_rules
from pipe.jobs.s3_sync import keys as s3_keys
from pipe.jobs.s3_sync.progress import Progress
from pipe.jobs.s3_sync.settings import ObjectMetadata

# DeleteObjects takes at most this many keys per request.
DELETE_BATCH = 1000
HTML_SUFFIXES = (".html", ".htm")
IN_FLIGHT_PER_CONNECTION = 8
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


def content_type(relative: str, overrides: cache_rules.Rules, table: mimetypes.MimeTypes) -> str:
    override = overrides.value_for(relative)
    if override:
        return override
    suffix = os.path.splitext(relative)[1].lower()
    if suffix in _EXTRA_TYPES:
        return _EXTRA_TYPES[suffix]
    guessed, _ = table.guess_type(relative, strict=False)
    return guessed or FALLBACK_CONTENT_TYPE


def _extra_args(
    item: LocalFile, digest: etag.Digest, metadata: ObjectMetadata, table: mimetypes.MimeTypes
) -> dict[str, Any]:
    args = {
        "ContentType": content_type(item.relative, metadata.content_type, table),
        "Metadata": {etag.METADATA_MD5: digest.md5},
    }
    cache = metadata.cache_control.value_for(item.relative)
    if cache:
        args["CacheControl"] = cache
    return args | metadata.common


def upload(
    s3: Any,
    where: tuple[str, str],
    files: list[LocalFile],
    digests: Any,
    metadata: ObjectMetadata,
    transfer_client: str,
    concurrency: int,
    summary: Any,
    identity: Any,
    env: Mapping[str, str],
) -> None:
    """`files` in key order, to `where` (bucket, prefix), with `concurrency` connections through the
    `transfer_client` (auto, crt or classic)."""
    bucket, prefix = where
    if not files:
        return  # no transfer manager, no CRT: a run with nothing to send pays for neither
    # Imported here: the transfer engine loads the CRT, which a run with nothing to send never needs.
    from pipe.jobs.s3_sync import engine, stall

    client_kind = engine.engine_for(transfer_client, env)
    if client_kind == "classic" and transfer_client == "auto":
        logger.info("A proxy is configured: uploading with the classic transfer client, which honours it.")
    table = mimetypes.MimeTypes()
    html = [item for item in files if item.relative.lower().endswith(HTML_SUFFIXES)]
    other = [item for item in files if not item.relative.lower().endswith(HTML_SUFFIXES)]
    total = sum(item.size for item in files)
    # A future and its request per file in flight: bounded so that memory does not grow with the
    # number of files, and deep enough that the connections never wait for the next request.
    in_flight_limit = concurrency * IN_FLIGHT_PER_CONNECTION
    manager = engine.transfer_manager(client_kind, s3, identity, concurrency, env)
    watch = stall.Watch()
    with Progress(len(files), total) as progress, _closed_in_time(manager, s3) as uploader:
        # HTML last: a page goes live only once every asset it may point at is there.
        for batch in (other, html):
            in_flight: collections.deque[Any] = collections.deque()
            for item in batch:
                key = s3_keys.key_for(prefix, item.relative)
                if len(in_flight) >= in_flight_limit:
                    _finish(in_flight, watch, progress, summary)
                digest = digests.of(key, item)
                extra = _extra_args(item, digest, metadata, table) | engine.checksum_args(digest, item.size)
                done = watch.subscriber()
                with _explained(item):
                    future = uploader.upload(item.location, bucket, key, extra_args=extra, subscribers=[done])
                in_flight.append((item, future, done))
            while in_flight:
                _finish(in_flight, watch, progress, summary)


def _finish(in_flight: collections.deque[Any], watch: Any, progress: Progress, summary: Any) -> None:
    """Wait for the oldest upload in flight, within the stall bound (pipe.jobs.s3_sync.stall)."""
    from pipe.jobs.s3_sync import stall

    item, future, done = in_flight[0]
    try:
        watch.wait(done)
    except stall.Stalled:
        for _item, waiting, _done in in_flight:
            waiting.cancel()
        raise stall.Stalled(item.relative) from None
    in_flight.popleft()
    with _explained(item):
        future.result()  # ended: returns at once, or raises the transfer's error
    progress.done(item.size)
    summary.uploaded += 1
    summary.bytes_uploaded += item.size


@contextlib.contextmanager
def _closed_in_time(manager: Any, s3: Any) -> Iterator[Any]:
    """The transfer manager `manager` makes, closed as usual, but after a stall closed with a bound
    (its close waits for every transfer) and the stall told in one line."""
    from pipe.jobs.s3_sync import stall

    uploader = manager.__enter__()
    try:
        yield uploader
    except stall.Stalled as stalled:
        if not stall.close_within(functools.partial(manager.__exit__, stall.Stalled, stalled, None)):
            logger.debug(
                "The transfer manager did not close within %.0f s; left behind.", stall.CLOSE_SECONDS
            )
        where = urlsplit(s3.meta.endpoint_url)
        endpoint = f"{where.scheme}://{where.netloc.rpartition('@')[2]}"
        raise PipeError(
            f"Upload of {stalled.message} to {endpoint} stalled: no byte was sent and no "
            f"upload finished for {stall.STALL_SECONDS:.0f} s, the limit for a transfer that makes no "
            "progress. Check that the endpoint accepts uploads from the step (a firewall or proxy that "
            "holds requests, AWS_ENDPOINT_URL), then run the step again: what was uploaded is kept."
        ) from None
    except BaseException:
        if not manager.__exit__(*sys.exc_info()):
            raise
    else:
        manager.__exit__(None, None, None)


@contextlib.contextmanager
def _explained(item: LocalFile) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise PipeError(f"{item.relative} disappeared while it was being uploaded.") from None
    except s3_error_types() as error:
        raise PipeError(f"Upload of {item.relative} failed: {describe(error)}") from None


def s3_error_types() -> tuple[Any, ...]:
    from botocore.exceptions import BotoCoreError, ClientError
    from s3transfer.exceptions import S3UploadFailedError

    types = (ClientError, BotoCoreError, S3UploadFailedError)
    try:
        from awscrt.exceptions import AwsCrtError
    except ImportError:  # the classic client's run holds the CRT back (pipe.common.crt): no CRT errors
        return types
    return (*types, AwsCrtError)


def describe(error: Exception) -> str:
    if errors.is_access_denied(error):
        return errors.access_denied_line(error)
    return errors.sentence(error)


def delete(s3: Any, bucket: str, keys: list[str], summary: Any) -> None:
    for start in range(0, len(keys), DELETE_BATCH):
        batch = keys[start : start + DELETE_BATCH]
        answer = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
        )
        failed = answer.get("Errors", [])
        if failed:
            first = failed[0]
            head = f"Could not delete {len(failed)} key(s), e.g. {first.get('Key')!r}"
            if first.get("Code") in errors.ACCESS_DENIED:
                raise PipeError(
                    f"{head}. {errors.refusal('s3:DeleteObject', f'the keys under s3://{bucket}')}"
                )
            raise PipeError(f"{head}: {first.get('Code')}: {first.get('Message', '')}")
        summary.deleted += len(batch)
