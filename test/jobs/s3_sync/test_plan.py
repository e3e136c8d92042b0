"""COMMAND=s3-sync compares the local walk and the remote listing as two sorted streams: memory does
not grow with the bucket nor with the tree, and the answer is the one a full map would give."""

import random
import tracemalloc

from hypothesis import given, settings
from hypothesis import strategies as st

from pipe.common import etag
from pipe.common.local_tree import Filters, LocalFile
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
    filters = Filters(exclude=("other/*",))
    tracemalloc.start()
    plan = s3_plan.compare(
        FakeS3(count), "b", lambda: iter(()), s3_plan.Digests(), filters, 1, "www", True, s3_plan.Summary()
    )
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert plan.deletions == [] and plan.new == []
    return peak


def test_memory_stays_flat_as_the_listing_grows():
    small, large = peak_bytes(10 * PAGE), peak_bytes(100 * PAGE)
    assert large < small * 2, (small, large)


class SameContent:
    """Digests of files whose listed ETag is their name: no disk needed."""

    def of(self, key, item, keep=True):
        return etag.Digest(md5=item.relative, etag=item.relative)


class Listing:
    """A bucket listed in pages of PAGE, in the order given."""

    def __init__(self, objects: list[dict]):
        self.objects = objects

    def get_paginator(self, _name):
        return self

    def paginate(self, Bucket, Prefix):
        for start in range(0, len(self.objects), PAGE):
            yield {"Contents": self.objects[start : start + PAGE]}


def _local(relatives: list[str], size: int = 10):
    return lambda: ((f"www/{r}", LocalFile(relative=r, root="/nowhere", size=size)) for r in relatives)


def test_memory_stays_flat_as_both_sides_grow():
    """A no-change re-sync: every local file listed with its own ETag, nothing held per file."""

    def peak(count: int) -> int:
        listing = Listing(
            [{"Key": key, "Size": 10, "ETag": f'"{i.relative}"'} for key, i in map(_one, range(count))]
        )
        summary = s3_plan.Summary()
        scan = lambda: map(_one, range(count))  # noqa: E731
        tracemalloc.start()
        plan = s3_plan.compare(listing, "b", scan, SameContent(), Filters(), 1, "www", True, summary)
        found = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert (plan.new, plan.changed, plan.deletions) == ([], [], [])
        assert summary.skipped_unchanged == count
        return found

    small, large = peak(10 * PAGE), peak(100 * PAGE)
    assert large < small * 2, (small, large)


def _one(number: int):
    relative = f"{number:08d}.js"
    return f"www/{relative}", LocalFile(relative=relative, root="/nowhere", size=10)


_RELATIVE = st.text(alphabet="ab-./é", min_size=1, max_size=4).filter(lambda r: r[0] not in "./")


@settings(max_examples=200, deadline=None)
@given(
    local=st.dictionaries(_RELATIVE, st.sampled_from(("same", "edited", "grown"))),
    remote_only=st.sets(_RELATIVE),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_the_streams_decide_as_a_full_map_would(local, remote_only, shuffle, seed):
    """New, changed (by size; same size, other ETag is decided by HeadObject), unchanged and
    deleted: the same answer for a listing in key order and for one in no order (directory buckets)."""
    remote_only -= set(local)
    relatives = sorted(local)
    objects = [
        {
            "Key": f"www/{r}",
            "Size": 11 if state == "grown" else 10,
            "ETag": f'"{r if state == "same" else "x"}"',
        }
        for r, state in local.items()
    ] + [{"Key": f"www/{r}", "Size": 10, "ETag": '"x"'} for r in remote_only]
    objects.sort(key=lambda o: o["Key"])
    if shuffle:
        random.Random(seed).shuffle(objects)
    present = {o["Key"] for o in objects}
    in_bucket = [r for r in relatives if f"www/{r}" in present]
    summary = s3_plan.Summary()
    plan = s3_plan.compare(
        HeadAnswers(objects), "b", _local(relatives), SameContent(), Filters(), 2, "www", True, summary
    )
    assert [i.relative for i in plan.new] == [r for r in relatives if f"www/{r}" not in present]
    assert [i.relative for i in plan.changed] == [r for r in in_bucket if local[r] != "same"]
    assert sorted(plan.deletions) == sorted(s3_plan.Remote(f"www/{r}", 10) for r in remote_only)
    # What DELETE_FLAG may delete from: every listed object the sync manages, deletions included.
    assert plan.present == len(in_bucket) + len(remote_only)
    assert summary.skipped_unchanged == sum(1 for r in in_bucket if local[r] == "same")


class HeadAnswers(Listing):
    """HeadObject finds no stored MD5: a same-size object with another ETag counts as changed."""

    def head_object(self, Bucket, Key):
        return {"Metadata": {}}
