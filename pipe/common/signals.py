"""SIGINT and SIGTERM from the first line the pipe runs: one `✖` line and exit 130 or 143, whether the
signal lands while Python loads the SDK (the first half second) or mid-deploy; the first signal
decides both when a second follows it.

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


# The signal the pipe is stopping for; None until the first arrives.
_first_signal: int | None = None


def stop(signum: int, _frame: FrameType | None) -> None:
    """The handler of SIGINT and SIGTERM. The first signal decides the line and the status: a second
    one while the pipe unwinds (Ctrl-C then a step's SIGTERM) is ignored, not a second exception that
    would replace the first half way through its `✖` line."""
    global _first_signal
    if _first_signal is not None:
        return
    _first_signal = signum
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


def install() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)


def stopped_line(stop: Stopped) -> str:
    return f"Stopped by {signal.Signals(stop.signum).name}."
