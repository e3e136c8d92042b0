"""Running a program the pipe depends on: an argument list (never a shell), output streamed and redacted."""

import io
import shlex
import subprocess
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from pipe.common import log
from pipe.common.errors import PipeError
from pipe.common.log import logger

# Enough of a failing program's output to explain the failure afterwards.
TAIL_LINES = 40
# After SIGTERM, how long a child may take to stop before it is killed.
STOP_GRACE_SECONDS = 10


class Overran(PipeError):
    """A program ran past its deadline and was stopped."""


def run(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    limit_seconds: float | None = None,
    limit_name: str = "",
) -> tuple[int, list[str]]:
    """Run `args`, print each output line (stdout and stderr merged, in order); return status and last lines.

    With `limit_seconds`, a program still running then is stopped (SIGTERM, then SIGKILL after
    STOP_GRACE_SECONDS) and Overran names the limit (`limit_name`, as the README's limits table does)."""
    logger.debug("Running: %s", shlex.join(args))
    process = subprocess.Popen(
        args,
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    # Lines end at "\n" only: a carriage return or another separator inside a line is shown escaped
    # (log.emit), not taken as a line of its own.
    lines = io.TextIOWrapper(process.stdout, encoding="utf-8", errors="replace", newline="\n")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    overran = threading.Event()
    timer = None
    if limit_seconds is not None:
        timer = threading.Timer(limit_seconds, _stop, (process, overran))
        timer.daemon = True
        timer.start()
    try:
        for line in lines:
            text = line.rstrip("\r\n")
            log.emit(text)
            tail.append(text)
        status = process.wait()
        if overran.is_set():
            program = Path(args[0]).name
            raise Overran(
                f"{program} did not finish within {limit_seconds:g} s ({limit_name}); the pipe stopped it. "
                "See its output above."
            )
        return status, list(tail)
    finally:
        if timer is not None:
            timer.cancel()
        if process.poll() is None:  # interrupted: do not leave the child running
            process.terminate()
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()


def _stop(process: subprocess.Popen, overran: threading.Event) -> None:
    overran.set()
    process.terminate()
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
