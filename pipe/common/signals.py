"""SIGINT and SIGTERM from the first line the pipe runs: one `✖` line and exit 130 or 143, whether the
signal lands while Python loads the SDK (the first half second) or mid-deploy.

The entry point (pipe.entry) installs `stop` before it imports anything heavy; pipe.main installs it
again and turns `Stopped` into the final line. This module imports nothing heavy.
"""

import signal
from types import FrameType

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class Stopped(BaseException):
    """SIGTERM (a step timeout, `docker stop`): unwind so that atexit clean-up still runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def stop(signum: int, _frame: FrameType | None) -> None:
    raise Stopped(signum)


def stopped_line(stop: Stopped) -> str:
    return f"Stopped by {signal.Signals(stop.signum).name}."
