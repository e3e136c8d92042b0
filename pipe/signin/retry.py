"""Retries for transient AWS faults only, with full-jitter backoff and a hard deadline.

botocore's own retries are switched off for the calls wrapped here, so that every retry is logged,
IDPCommunicationError counts as transient, and no attempt starts after the deadline (for sign-in,
the OIDC token's expiry).
"""

import random
import time
from collections.abc import Callable
from typing import TypeVar

from pipe.aws import errors
from pipe.common.log import logger

T = TypeVar("T")

MAX_ATTEMPTS = 6
BASE_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 8.0
# The sign-in's time budget: a step that cannot reach STS is told so within this, retries included.
TOTAL_BUDGET_SECONDS = 30.0
# One sign-in attempt at most (pipe.signin.identity.SIGN_IN_CONNECT/READ_TIMEOUT_SECONDS): an attempt
# that could not end within the budget is not started.
ATTEMPT_SECONDS = 15.0

# Which faults are transient, and how one is named in a line: pipe.aws.errors, for every job.
is_transient = errors.is_transient
describe = errors.name


def call(
    action: str,
    attempt: Callable[[], T],
    deadline: float | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    attempt_seconds: float = 0.0,
) -> T:
    """Run `attempt` until it succeeds, a non-transient error occurs, or attempts or time run out.
    `attempt_seconds` is how long one attempt may take (its timeouts): none starts that could not end in time."""
    started = time.monotonic()
    stop_at = started + TOTAL_BUDGET_SECONDS
    if deadline is not None:
        stop_at = min(stop_at, started + max(0.0, deadline - time.time()))
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            return attempt()
        except Exception as error:
            if not is_transient(error) or number == MAX_ATTEMPTS:
                raise
            delay = random.uniform(0, min(MAX_DELAY_SECONDS, BASE_DELAY_SECONDS * 2**number))
            if time.monotonic() + delay + attempt_seconds >= stop_at:
                logger.warning("%s failed with %s; no time left to retry.", action, describe(error))
                raise
            logger.warning(
                "%s failed with %s (transient); retry %d of %d in %.1f s.",
                action,
                describe(error),
                number,
                MAX_ATTEMPTS - 1,
                delay,
            )
            sleep(delay)
    raise AssertionError("unreachable")
