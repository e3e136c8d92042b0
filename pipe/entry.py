"""The console script's target and `python -m pipe`'s: install the signal handlers, then load and run
the pipe, so that a SIGINT or SIGTERM while Python loads the SDK (the first half second) still ends
in one `✖` line and exit 130 or 143.

This module imports nothing heavy: only after the handlers are in place is pipe.main (boto3, the
toolkit, ...) imported, inside their reach.
"""

import importlib
import sys

from pipe.common.signals import EXIT_INTERRUPTED, Stopped, install, stopped_line


def entry() -> None:
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
