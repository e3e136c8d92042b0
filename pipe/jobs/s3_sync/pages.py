"""The bucket's listing as one stream of objects, the next page fetched while this one is compared.

ListObjectsV2 hands out one page of at most 1,000 keys per request, and each request needs the
previous page's continuation token, so pages cannot be fetched in parallel; fetching the next while
the local side of this one is hashed overlaps the two waits. A bounded queue keeps at most a few
pages in memory however large the bucket.
"""

import queue
import threading
from collections.abc import Iterator

# Pages held ahead of the comparison: one being compared, the next ones already fetched.
PAGES_AHEAD = 2
# How often a fetcher blocked on a full queue checks whether the comparison has stopped.
_STOP_POLL_SECONDS = 0.5


class _End:
    pass


def listed(s3, bucket: str, prefix: str) -> Iterator[dict]:
    """Every object under `prefix`, in the order S3 lists them; an error fetching a page is raised
    here, in the caller's thread."""
    ahead: queue.Queue = queue.Queue(maxsize=PAGES_AHEAD)
    stopped = threading.Event()

    def put(item) -> bool:
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
