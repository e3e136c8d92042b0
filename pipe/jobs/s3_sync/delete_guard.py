"""The delete guard: DELETE_FLAG may delete at most DELETE_GUARD_PERCENT of the objects the sync
manages under the prefix, judged on the plan before anything is uploaded or deleted.

A build that produced only part of the site (a failed step, a wrong LOCAL_PATH, an INCLUDE that
matches less than meant) looks to a sync like a wish to delete the rest of it.
"""

# Half: a site rarely loses more than half its files in one deploy unless something went wrong.
DEFAULT_PERCENT = 50


def refusal(deleting: int, present: int, percent: int, where: str, dry_run: bool) -> str | None:
    """Why the plan must not run (one line for the user), or None when it may. `present` counts the
    objects the sync manages under the prefix, the `deleting` among them included. Whole numbers
    only: deleting exactly `percent` passes, one object more fails."""
    if deleting * 100 <= percent * present:
        return None
    # Rounded up, so that the share shown is always above the limit it broke (101 of 200: 51%).
    share = -(-deleting * 100 // present)
    broken = (
        f"DELETE_FLAG would delete {deleting} of the {present} objects under {where} ({share}%), "
        f"more than DELETE_GUARD_PERCENT allows ({percent}%)"
    )
    if dry_run:
        return (
            f"Dry run: {broken}; a sync would stop here, before any upload. If that is meant, set "
            "DELETE_GUARD_PERCENT: '100'; if not, check that LOCAL_PATH holds the whole site."
        )
    return (
        f"{broken}; nothing was uploaded or deleted. If that is meant, set DELETE_GUARD_PERCENT: "
        "'100'; if not, check that LOCAL_PATH holds the whole site."
    )
