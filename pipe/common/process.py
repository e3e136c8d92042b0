"""Running a program the pipe depends on: an argument list (never a shell), output streamed and redacted."""

import io
import shlex
import subprocess
from collections import deque
from collections.abc import Mapping
from pathlib import Path

from pipe.common import log
from pipe.common.log import logger

# Enough of a failing program's output to explain the failure afterwards.
TAIL_LINES = 40
# After SIGTERM, how long a child may take to stop before it is killed.
STOP_GRACE_SECONDS = 10


def run(args: list[str], env: Mapping[str, str], cwd: Path) -> tuple[int, list[str]]:
    """Run `args`, print each output line (stdout and stderr merged, in order); return status and last lines."""
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
    assert process.stdout is not None  # stdout=PIPE
    lines = io.TextIOWrapper(process.stdout, encoding="utf-8", errors="replace", newline="\n")
    tail: deque[str] = deque(maxlen=TAIL_LINES)
    try:
        for line in lines:
            text = line.rstrip("\r\n")
            log.emit(text)
            tail.append(text)
        return process.wait(), list(tail)
    finally:
        if process.poll() is None:  # interrupted: do not leave the child running
            process.terminate()
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
