"""The bucket's listing as one stream of objects, the next page fetched while this one is compared.

ListObjectsV2 hands out one page of at most 1,000 keys per request, and each request needs the
previous page's continuation token, so pages cannot be fetched in parallel; fetching the next while
the local side of this one is hashed overlaps the two waits. A bounded queue keeps at most a few
pages in memory however large the bucket.

Each page is read for what the comparison uses — Key, Size, ETag — and what the paginator and the
key decoding need, by one pass of expat over the body, not by botocore's parser, which builds every
field of every object (why: docs/decisions.md, "The lean listing reader"). botocore still signs,
retries, raises its errors (with their codes) and decodes the URL-encoded keys; any body this reader
does not expect is left to botocore's parser.
"""

import queue
import threading
from collections.abc import Iterator
from typing import Any
from xml.parsers import expat

from pipe.aws import sdk_private
from pipe.common.errors import PipeError

# Pages held ahead of the comparison: one being compared, the next ones already fetched.
PAGES_AHEAD = 2
# How often a fetcher blocked on a full queue checks whether the comparison has stopped.
_STOP_POLL_SECONDS = 0.5


class _End:
    pass


# 1,000 keys of at most 1,024 bytes, URL-encoded (3 bytes a byte at worst), with their other fields
# fit in 4 MB: a larger page is not a ListObjectsV2 page, and is not parsed into memory.
MAX_PAGE_BYTES = 8 * 1024 * 1024
_OBJECT_FIELDS = frozenset(("Key", "Size", "ETag"))
_PAGE_FIELDS = frozenset(("IsTruncated", "NextContinuationToken", "EncodingType"))
# Left to botocore: asked for a delimiter (the pipe never is), or a body of another shape.
_NOT_LEAN = frozenset(("CommonPrefixes",))
# botocore's parser then sees an empty result; the lean reading is merged over it.
_EMPTY_RESULT = b"<ListBucketResult/>"


def read_lean(s3: Any) -> None:
    """Have this client read listing pages with the lean reader."""
    sdk_private.on_listing_page(s3, _read_page_lean)


def _read_page_lean(
    response_dict: dict[str, Any], customized_response_dict: dict[str, Any], **_: Any
) -> None:
    body = response_dict.get("body")
    if response_dict.get("status_code", 500) >= 300 or not isinstance(body, bytes):
        return  # botocore's error parsing gives the error its code
    if len(body) > MAX_PAGE_BYTES:
        raise PipeError(
            f"The bucket listing sent a page of {len(body):,} bytes, more than any S3 page of 1,000 keys; "
            "check that AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) is an S3 endpoint."
        )
    page = read_page(body)
    if page is not None:
        customized_response_dict.update(page)
        response_dict["body"] = _EMPTY_RESULT


class _NotLean(Exception):
    pass


def read_page(body: bytes) -> dict[str, Any] | None:
    """A ListObjectsV2 body as botocore would parse it, with only Key, Size and ETag per object; None
    when the body is not a listing of the expected shape."""
    objects: list[dict[str, Any]] = []
    page: dict[str, Any] = {}
    text: list[str] = []
    depth = 0
    in_object = False
    current: dict[str, Any] = {}

    def start(name: str, _attributes: Any) -> None:
        nonlocal depth, in_object
        depth += 1
        text.clear()
        if depth == 2:
            in_object = name == "Contents"
        if (depth == 1 and name != "ListBucketResult") or (depth == 2 and name in _NOT_LEAN):
            raise _NotLean

    def end(name: str) -> None:
        nonlocal depth, current
        if depth == 3 and in_object and name in _OBJECT_FIELDS:
            current[name] = "".join(text)
        elif depth == 2 and name == "Contents":
            current["Size"] = int(current["Size"])
            if "Key" not in current:
                raise _NotLean
            objects.append(current)
            current = {}
        elif depth == 2 and name in _PAGE_FIELDS:
            page[name] = "".join(text)
        depth -= 1

    def no_document_types(*_: Any) -> None:
        raise _NotLean  # S3 sends none; entity definitions are where XML's expansion attacks live

    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text.append
    parser.StartDoctypeDeclHandler = no_document_types
    try:
        parser.Parse(body, True)
    except (_NotLean, expat.ExpatError, KeyError, ValueError):
        return None
    if "IsTruncated" in page:
        page["IsTruncated"] = page["IsTruncated"] == "true"
    if objects:
        page["Contents"] = objects
    return page


def listed(s3: Any, bucket: str, prefix: str) -> Iterator[dict[str, Any]]:
    """Every object under `prefix`, in the order S3 lists them; an error fetching a page is raised
    here, in the caller's thread."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=PAGES_AHEAD)
    stopped = threading.Event()

    def put(item: Any) -> bool:
        while not stopped.is_set():
            try:
                ahead.put(item, timeout=_STOP_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def fetch() -> None:
        try:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                if not put(page.get("Contents", ())):
                    return
            put(_End)
        except BaseException as error:  # handed to the caller, who decides what it means
            put(error)

    fetcher = threading.Thread(target=fetch, name="s3-listing", daemon=True)
    fetcher.start()
    try:
        while True:
            item = ahead.get()
            if item is _End:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item
    finally:
        stopped.set()
