"""The delete guard's arithmetic: DELETE_FLAG may delete at most DELETE_GUARD_PERCENT of what is
there, exactly that share passing and one object more failing, whatever the numbers. (End to end,
against the bucket, in test_report.py.)"""

from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from pipe.jobs.s3_sync import delete_guard

WHERE = "s3://site/www/"


@st.composite
def _plans(draw):
    present = draw(st.integers(0, 10**6))
    return draw(st.integers(0, present)), present, draw(st.integers(0, 100))


@given(_plans(), st.booleans())
@example((1, 2, 50), False)  # exactly half
@example((2, 3, 50), False)  # one more than half
@example((501, 1000, 50), False)
@example((0, 0, 50), False)  # an empty bucket: nothing to delete
@example((0, 0, 0), True)
@example((1, 1, 99), False)
@example((1, 10**6, 0), True)
def test_refused_exactly_when_the_share_is_above_the_limit(plan, dry_run):
    deleting, present, percent = plan
    refusal = delete_guard.refusal(deleting, present, percent, WHERE, dry_run)
    above = present > 0 and Fraction(deleting, present) > Fraction(percent, 100)
    assert (refusal is not None) == above
    if refusal is None:
        return
    # The share shown is above the limit it broke, and the line says how to allow it.
    shown = int(refusal.split(f"{WHERE} (", 1)[1].split("%)", 1)[0])
    assert percent < shown <= 100
    assert f"delete {deleting} of the {present} objects under {WHERE}" in refusal
    assert f"more than DELETE_GUARD_PERCENT allows ({percent}%)" in refusal
    assert "set DELETE_GUARD_PERCENT: '100'" in refusal and "\n" not in refusal
    assert refusal.startswith("Dry run: ") == dry_run
    assert ("nothing was uploaded or deleted" in refusal) != dry_run


@given(st.integers(1, 10**6))
def test_the_default_lets_half_through_and_no_more(present):
    half = present // 2
    assert delete_guard.refusal(half, present, delete_guard.DEFAULT_PERCENT, WHERE, False) is None
    assert delete_guard.refusal(half + 1, present, delete_guard.DEFAULT_PERCENT, WHERE, False)


@given(st.integers(0, 10**6))
def test_a_hundred_percent_never_refuses(present):
    assert delete_guard.refusal(present, present, 100, WHERE, False) is None
