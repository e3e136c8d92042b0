"""SIGINT and SIGTERM from the first line the pipe runs: one `✖` line and exit 130 or 143, whether the
signal lands while Python loads the SDK (the first half second) or mid-deploy; the first signal
decides both when a second follows it.

This module imports nothing heavy: the console script and `python -m pipe` enter here, and only
then is pipe.main (boto3, the toolkit, ...) imported, inside the handlers' reach.
"""

import importlib
import signal
import sys

EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class Stopped(BaseException):
    """SIGTERM (a step timeout, `docker stop`): unwind so that atexit clean-up still runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


# The signal the pipe is stopping for; None until the first arrives.
_first_signal: int | None = None


def stop(signum: int, _frame) -> None:
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


def entry() -> None:
    """The console script's target: install the handlers, then load and run the pipe."""
    try:
        install()
        main = importlib.import_module("pipe.main").main
    except KeyboardInterrupt:
        _early_exit("Interrupted.", EXIT_INTERRUPTED)
    except Stopped as stopped:
        _early_exit(stopped_line(stopped), 128 + stopped.signum)
    main()


def _early_exit(message: str, status: int) -> None:
    # Before the log and the toolkit exist: the same line the toolkit's fail() would print.
    print(f"✖ {message}", flush=True)
    sys.exit(status)
