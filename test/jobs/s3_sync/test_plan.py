"""COMMAND=s3-sync reads the remote listing page by page: memory does not grow with the bucket."""

import tracemalloc

from pipe.jobs.s3_sync import plan as s3_plan

PAGE = 1000


class FakeS3:
    """A bucket of `count` keys outside the local tree, listed lazily, one page at a time."""

    def __init__(self, count: int):
        self.count = count

    def get_paginator(self, _name):
        return self

    def paginate(self, Bucket, Prefix):
        for start in range(0, self.count, PAGE):
            yield {
                "Contents": [
                    {"Key": f"{Prefix}other/{n:08d}.html", "Size": 10, "ETag": '"x"'}
                    for n in range(start, min(start + PAGE, self.count))
                ]
            }


def peak_bytes(count: int) -> int:
    values = {"INCLUDE": [], "EXCLUDE": ["other/*"], "MAX_CONCURRENCY": 1}
    tracemalloc.start()
    plan = s3_plan.compare(FakeS3(count), "b", {}, s3_plan.Digests(), values, "www", True, s3_plan.Summary())
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert plan.deletions == [] and plan.new == []
    return peak


def test_memory_stays_flat_as_the_listing_grows():
    small, large = peak_bytes(2 * PAGE), peak_bytes(100 * PAGE)
    assert large < small * 2, (small, large)
