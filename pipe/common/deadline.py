"""A wait's end: the time left, a part of it, and a sleep that never passes it. Shared by every job
that polls AWS until a deploy settles (beanstalk, ecs)."""

import time
from collections.abc import Callable


class Deadline:
    """`clock` and `sleep` are the process's own unless a test drives the wait with a clock it controls."""

    def __init__(
        self,
        seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.seconds = seconds
        self._clock = clock
        self._sleep = sleep
        self._end = clock() + seconds

    def remaining(self) -> float:
        return self._end - self._clock()

    def part(self, seconds: float) -> "Deadline":
        """A wait of `seconds` inside this one: it ends with this one if that comes first."""
        return Deadline(max(0.0, min(seconds, self.remaining())), clock=self._clock, sleep=self._sleep)

    def sleep(self, interval: float) -> None:
        """Sleep one interval, or until the deadline if that comes first."""
        self._sleep(max(0.0, min(interval, self.remaining())))
