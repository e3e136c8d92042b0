"""A bound on silence in s3-sync's transfer phase, the same for both engines.

The CRT S3 client has a connect timeout but no read timeout: an endpoint that answers the listing
and never answers a PUT would hold the run for ever, and s3transfer's classic futures wait without a
bound. So the transfers are watched instead of timed: progress is any byte sent or any transfer
done, reported by s3transfer's subscribers (`on_progress`, `on_done`), which both managers call. A
run with no progress at all for STALL_SECONDS stops; a big file on a slow link still moves bytes, so
it is never cut short, however long it takes.
"""

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from s3transfer.subscribers import BaseSubscriber

from pipe.aws import call_budget
from pipe.common.errors import PipeError

# As long as one whole AWS call may take, retries included (pipe.aws.call_budget): a transfer
# phase in which no byte moves and nothing finishes for that long is waiting on an endpoint that
# will not answer, not on a slow one.
STALL_SECONDS = call_budget.CALL_BUDGET_SECONDS
# Closing a manager waits for its cancelled transfers; a cancelled CRT request ends at once, so a
# close that takes longer than this is stuck on the same silent endpoint and is left behind.
CLOSE_SECONDS = 10.0


class Stalled(PipeError):
    """No transfer made progress for STALL_SECONDS; the message is the file waited for."""


class Watch:
    """When a transfer last made progress, as reported by every transfer's subscriber."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, limit: float = STALL_SECONDS):
        self._clock = clock
        self.limit = limit
        self._last = clock()
        self._lock = threading.Lock()

    def moved(self) -> None:
        with self._lock:
            self._last = self._clock()

    def time_left(self) -> float:
        with self._lock:
            return self.limit - (self._clock() - self._last)

    def subscriber(self) -> "Done":
        return Done(self)

    def wait(self, done: "Done", wait: Callable[[threading.Event, float], bool] | None = None) -> None:
        """Until `done`'s transfer ends, or raise Stalled once no transfer moved for the limit.

        Waits on the transfer's own event, for at most the time left before the limit: each wake-up
        is either the transfer's end or a moment to look again at the last progress."""
        waiting = wait or (lambda event, timeout: event.wait(timeout))
        while not done.event.is_set():
            left = self.time_left()
            if left <= 0:
                raise Stalled("a file")
            waiting(done.event, left)


class Done(BaseSubscriber):
    """One transfer's subscriber: its bytes and its end are progress, and its end sets `event`."""

    def __init__(self, watch: Watch):
        self._watch = watch
        self.event = threading.Event()

    def on_progress(self, future: Any, bytes_transferred: int, **kwargs: Any) -> None:
        # A retry rewinds its body with a negative amount: only bytes sent are progress.
        if bytes_transferred > 0:
            self._watch.moved()

    def on_done(self, future: Any, **kwargs: Any) -> None:
        self._watch.moved()
        self.event.set()


def close_within(close: Callable[[], None], seconds: float = CLOSE_SECONDS) -> bool:
    """Run `close` (a manager's close after a stall), waiting for it at most `seconds`: True if it
    ended. A close still waiting on a silent endpoint is left to a daemon thread."""
    ended = threading.Event()

    def closing() -> None:
        # The stall is the error to report: a close that fails as well adds nothing to it.
        try:
            with contextlib.suppress(Exception):
                close()
        finally:
            ended.set()

    threading.Thread(target=closing, name="s3-sync-close", daemon=True).start()
    return ended.wait(seconds)
