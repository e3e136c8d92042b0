"""The bucket's listing as one stream of objects in key order, listed in parallel by prefix.

ListObjectsV2 hands out one page of at most 1,000 keys per request, and each request needs the
previous page's continuation token, so one listing's pages come one after another. So the sync's
prefix is listed once with a delimiter (its own objects and its top-level "directories"), and each
of those directories is listed on its own thread, a few at once, each its next pages fetched while
earlier ones are compared. Bounded queues keep at most a few pages per listing in memory however
large the bucket.

The streams are joined back into S3's order (UTF-8 byte order, which is str order): the keys under
a common prefix `P/` all start with `P/`, so they sort as one run at the place `P/` sorts among
the delimiter listing's own objects (e.g. "a.html" < "a/..." < "a0").

Each page is read for what the comparison uses — Key, Size, ETag — and what the paginator and the
key decoding need, by one pass of expat over the body: botocore's own parser builds every field of
every object (a third of a 20,000-key no-change run's CPU even with dates left as text). botocore
still signs, retries, raises its errors (with their codes) and decodes the URL-encoded keys; any
body this reader does not expect is left to botocore's parser.
"""

import heapq
import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from xml.parsers import expat

from pipe.common.errors import PipeError

# Pages held ahead of the comparison, per listing: one being compared, the next ones already fetched.
PAGES_AHEAD = 2
# Directories listed at once: rclone's default --checkers, and what keeps the memory flat (this
# many listings' pages ahead at most) while their request waits overlap.
PREFIX_LISTINGS = 8
# Entries of the delimiter listing read ahead to find the next directories to start: one page's
# worth, so that a flat bucket (all objects, no directories) is not read into memory.
ENTRIES_AHEAD = 1000
DELIMITER = "/"
# How often a fetcher blocked on a full queue checks whether the comparison has stopped.
_STOP_POLL_SECONDS = 0.5


class _End:
    pass


LISTING_EVENT = "before-parse.s3.ListObjectsV2"
# 1,000 keys of at most 1,024 bytes, URL-encoded (3 bytes a byte at worst), with their other fields
# fit in 4 MB: a larger page is not a ListObjectsV2 page, and is not parsed into memory.
MAX_PAGE_BYTES = 8 * 1024 * 1024
_OBJECT_FIELDS = frozenset(("Key", "Size", "ETag"))
_PAGE_FIELDS = frozenset(("IsTruncated", "NextContinuationToken", "EncodingType"))
# botocore's parser then sees an empty result; the lean reading is merged over it.
_EMPTY_RESULT = b"<ListBucketResult/>"


def read_lean(s3) -> None:
    """Have this client read listing pages with the lean reader."""
    s3.meta.events.register(LISTING_EVENT, _read_page_lean)


def _read_page_lean(response_dict: dict, customized_response_dict: dict, **_) -> None:
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


def read_page(body: bytes) -> dict | None:
    """A ListObjectsV2 body as botocore would parse it, with only Key, Size and ETag per object; None
    when the body is not a listing of the expected shape."""
    objects: list[dict] = []
    prefixes: list[dict] = []
    page: dict = {}
    text: list[str] = []
    depth = 0
    in_object = in_prefix = False
    current: dict = {}

    def start(name: str, _attributes) -> None:
        nonlocal depth, in_object, in_prefix
        depth += 1
        text.clear()
        if depth == 2:
            in_object, in_prefix = name == "Contents", name == "CommonPrefixes"
        if depth == 1 and name != "ListBucketResult":
            raise _NotLean

    def end(name: str) -> None:
        nonlocal depth, current
        if depth == 3 and in_object and name in _OBJECT_FIELDS:
            current[name] = "".join(text)
        elif depth == 3 and in_prefix and name == "Prefix":
            prefixes.append({"Prefix": "".join(text)})
        elif depth == 2 and name == "Contents":
            current["Size"] = int(current["Size"])
            if "Key" not in current:
                raise _NotLean
            objects.append(current)
            current = {}
        elif depth == 2 and name in _PAGE_FIELDS:
            page[name] = "".join(text)
        depth -= 1

    def no_document_types(*_):
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
    if prefixes:
        page["CommonPrefixes"] = prefixes
    return page


def listed(s3, bucket: str, prefix: str, page_keys: int | None = None) -> Iterator[dict]:
    """Every object under `prefix`, in the order S3 lists them; an error in any listing is raised
    here, in the caller's thread, when the stream reaches it. `page_keys`: fewer keys a page than
    S3's 1,000."""

    def pages(**arguments) -> Callable[[], Iterable[list]]:
        config = {"PaginationConfig": {"PageSize": page_keys}} if page_keys else {}
        paginator = s3.get_paginator("list_objects_v2")
        return lambda: paginator.paginate(Bucket=bucket, **arguments, **config)

    top = _Ahead(_entries(pages(Prefix=prefix, Delimiter=DELIMITER)), "s3-listing")
    waiting: deque = deque()  # objects to yield and directory listings started, in key order
    running: set[_Ahead] = {top}
    started = 0
    entries = top.items()
    try:
        while True:
            while started < PREFIX_LISTINGS and len(waiting) < ENTRIES_AHEAD:
                entry = next(entries, None)
                if entry is None:
                    break
                if "Prefix" in entry:
                    entry = _Ahead(_contents(pages(Prefix=entry["Prefix"])), "s3-listing-prefix")
                    running.add(entry)
                    started += 1
                waiting.append(entry)
            if not waiting:
                return
            entry = waiting.popleft()
            if isinstance(entry, _Ahead):
                yield from entry.items()
                entry.stop()
                running.discard(entry)
                started -= 1
            else:
                yield entry
    finally:
        for listing in running:
            listing.stop()


def _entries(pages: Callable[[], Iterable[dict]]) -> Callable[[], Iterator[list]]:
    """A delimiter listing's objects and common prefixes, each page's two lists merged in key order."""

    def merged() -> Iterator[list]:
        for page in pages():
            objects, prefixes = page.get("Contents", ()), page.get("CommonPrefixes", ())
            yield list(
                heapq.merge(objects, prefixes, key=lambda entry: entry.get("Key", entry.get("Prefix")))
            )

    return merged


def _contents(pages: Callable[[], Iterable[dict]]) -> Callable[[], Iterator[list]]:
    return lambda: (page.get("Contents", ()) for page in pages())


class _Ahead:
    """One listing's pages fetched on a thread of its own, at most PAGES_AHEAD of them waiting."""

    def __init__(self, pages: Callable[[], Iterable[list]], name: str):
        self._ahead: queue.Queue = queue.Queue(maxsize=PAGES_AHEAD)
        self._stopped = threading.Event()
        self._pages = pages
        threading.Thread(target=self._fetch, name=name, daemon=True).start()

    def _put(self, item) -> bool:
        while not self._stopped.is_set():
            try:
                self._ahead.put(item, timeout=_STOP_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def _fetch(self) -> None:
        try:
            for page in self._pages():
                if not self._put(page):
                    return
            self._put(_End)
        except BaseException as error:  # handed to the caller, who decides what it means
            self._put(error)

    def items(self) -> Iterator[dict]:
        while True:
            item = self._ahead.get()
            if item is _End:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    def stop(self) -> None:
        self._stopped.set()
