"""Running a program the pipe depends on: an argument list (never a shell), output streamed, redacted
as one text across its lines, and framed.

A program's output is outside text. Each of its lines is printed behind PROGRAM_FRAME, escaped
(pipe.common.line_safe): no line a program prints can pass for one of the pipe's own (`✔`, `✖`,
`INFO:`). Before that, the output is redacted as a whole, not line by line: a secret wrapped over
lines (base64 at 76 columns, hex at 60, a folded line) is found across them (pipe.common.secret_forms).
"""

import codecs
import io
import re
import shlex
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path

from pipe.common import line_safe, log, secret_forms
from pipe.common.errors import PipeError
from pipe.common.log import logger

# Enough of a failing program's output to explain the failure afterwards.
TAIL_LINES = 40
# After SIGTERM, how long a child may take to stop before it is killed.
STOP_GRACE_SECONDS = 10
# What every line a program prints starts with in the pipe's output.
PROGRAM_FRAME = secret_forms.PROGRAM_FRAME
# A line is held back, not printed, while its end could be the first this many characters of a
# secret's form: the next line may finish the secret. A shorter start is printed, and the rest of
# the secret masked when it arrives (fewer characters than this, which no scan takes for the secret).
HOLD_FROM_CHARACTERS = 4
# Text already printed that is searched again with the next lines, for a secret that starts in it.
CONTEXT_CHARACTERS = 1024
# Held-back text, or a line without its end, is printed anyway beyond this (memory stays bounded).
MAX_HELD_CHARACTERS = 1024 * 1024
_READ_BYTES = 64 * 1024


class Overran(PipeError):
    """A program ran past its deadline and was stopped."""


def run(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    limit_seconds: float,
    limit_name: str,
) -> tuple[int, list[str]]:
    """Run `args`, print its output (stdout and stderr merged, in order) redacted and framed; return
    the status and the last lines, redacted (never cut before redaction).

    Every program has a deadline (no default: a caller names it, as docs/security.md's limits table does):
    one still running after `limit_seconds` is stopped (SIGTERM, then SIGKILL after
    STOP_GRACE_SECONDS) and Overran names the limit (`limit_name`)."""
    logger.debug("Running: %s", shlex.join(args))
    process = subprocess.Popen(
        args,
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    assert isinstance(process.stdout, io.BufferedReader)  # stdout=PIPE, buffered: read1 is there
    relay = Relay(print_framed)
    overran = threading.Event()
    timer = threading.Timer(limit_seconds, _stop, (process, overran))
    timer.daemon = True
    timer.start()
    try:
        while chunk := process.stdout.read1(_READ_BYTES):
            relay.feed(chunk)
        relay.close()
        status = process.wait()
        if overran.is_set():
            program = Path(args[0]).name
            raise Overran(
                f"{program} did not finish within {limit_seconds:g} s ({limit_name}); the pipe stopped it. "
                "See its output above."
            )
        return status, list(relay.tail)
    finally:
        timer.cancel()
        if process.poll() is None:  # interrupted: do not leave the child running
            process.terminate()
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()


def framed(lines: list[str]) -> str:
    """Program lines as the pipe prints them: each behind the frame, escaped, one line each."""
    text = "\n".join(lines)
    if line_safe.is_safe(text.replace("\n", "")):  # the usual case, one pass for the whole block
        return f"{PROGRAM_FRAME}{text.replace(chr(10), chr(10) + PROGRAM_FRAME)}\n" if lines else ""
    return "".join(f"{PROGRAM_FRAME}{line_safe.escape(line)}\n" for line in lines)


def print_framed(lines: list[str]) -> None:
    sys.stderr.flush()
    sys.stdout.write(framed(lines))
    sys.stdout.flush()


class Relay:
    """A program's output on its way to `write`: bytes in, redacted lines out.

    Lines end at "\\n" only: a carriage return or another separator inside a line is shown escaped.
    The text is searched as a window across lines: what was printed last (masked) as context, the
    lines held back, and the new ones. A line is printed once no secret can go on from it."""

    def __init__(self, write: Callable[[list[str]], None]) -> None:
        self.write = write
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._context = ""  # printed, masked
        self._held = ""  # whole lines not printed yet, as the program wrote them
        self._unended = ""  # the start of a line whose end has not arrived

    def feed(self, data: bytes) -> None:
        self._unended += self._decoder.decode(data)
        end = self._unended.rfind("\n") + 1
        if not end and len(self._unended) <= MAX_HELD_CHARACTERS:
            return
        if not end:
            end = len(self._unended)
        complete, self._unended = self._unended[:end], self._unended[end:]
        self._release(self._held + complete, final=False)

    def close(self) -> None:
        self._unended += self._decoder.decode(b"", final=True)
        self._release(self._held + self._unended, final=True)
        self._unended = ""

    def _release(self, text: str, final: bool) -> None:
        if not text:
            return
        table = log.secrets()
        start = len(self._context)
        window = self._context + text
        found = secret_forms.views(window, table) if table else []
        ranges = [
            (max(begin, start), end)
            for begin, end in secret_forms.spans(window, table, secret_forms.hits_in(found, table))
            if end > start
        ]
        cut = len(window)
        if not final and len(text) <= MAX_HELD_CHARACTERS and table:
            pending = secret_forms.pending_from(found, table, HOLD_FROM_CHARACTERS)
            if pending is not None:
                cut = self._line_start(window, max(pending, start), start)
            # A secret that goes on past the cut is held whole: its rest alone would not be found.
            moved = True
            while moved:
                moved = False
                for begin, end in ranges:
                    if begin < cut < end:
                        cut, moved = self._line_start(window, begin, start), True
        released = secret_forms.masked(
            window[start:cut],
            [(begin - start, end - start) for begin, end in ranges if end <= cut],
            log.MASK,
        )
        self._held = window[cut:]
        if not released:
            return
        released = log.redact_shapes(released)
        self._context = (self._context + released)[-CONTEXT_CHARACTERS:]
        lines = released.split("\n")
        if lines[-1] == "":
            lines.pop()
        lines = [line.removesuffix("\r") for line in lines]  # a CRLF line end is a line end
        self.tail.extend(lines)
        self.write(lines)

    @staticmethod
    def _line_start(window: str, position: int, floor: int) -> int:
        return max(window.rfind("\n", floor, position) + 1, floor)


def _stop(process: "subprocess.Popen[bytes]", overran: threading.Event) -> None:
    overran.set()
    process.terminate()
    try:
        process.wait(STOP_GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()


# What `capture` keeps of a program's error output, shown redacted and framed like `run`'s output.
CAPTURE_ERROR_BYTES = 64 * 1024


def capture(
    args: list[str],
    env: Mapping[str, str],
    cwd: Path,
    limit_seconds: float,
    limit_name: str,
    output: Path,
    max_bytes: int,
    quiet: "re.Pattern[bytes] | None" = None,
    what: str | None = None,
    stdin_text: str | None = None,
    errors_to: Callable[[list[str]], None] | None = None,
    logged_as: str | None = None,
) -> tuple[int, str]:
    """Run `args` for its output (JSON, a render): stdout into the file `output` (in a private
    directory: it may hold what must never be printed) and returned, read within `max_bytes`; stderr
    printed as `run` prints output (its last CAPTURE_ERROR_BYTES, redacted, framed; lines matching
    `quiet`, noise the caller knows, left out). Returns the
    status and stdout ("" when the status is not 0). Bounded like `run`: Overran names the limit.
    The pipe's own lines about it (overran, output over `max_bytes`, not UTF-8) name `what`, by
    default the program: a caller names the call where the program alone would not tell which it
    was (`kubectl kustomize k8s`, not `kubectl`).
    `stdin_text` (a password for a login) is the program's standard input, never an argument, never
    logged. `errors_to` takes the redacted stderr lines instead of the printer, for a caller that
    reads them (Helm's "not found": no release yet) and shows them itself when they are a failure.
    `logged_as` is what the DEBUG line says runs, instead of the arguments, when they may hold a secret
    not registered yet (Helm's SET values, until the render shows which are a Secret's)."""
    from pipe.common import bounded_read

    logger.debug("Running: %s", shlex.join(args) if logged_as is None else logged_as)
    what = what or Path(args[0]).name
    errors = output.with_name(output.name + ".stderr")
    with output.open("wb") as out, errors.open("w+b") as err:
        try:
            completed = subprocess.run(
                args,
                env=dict(env),
                cwd=cwd,
                input=None if stdin_text is None else stdin_text.encode(),
                stdin=subprocess.DEVNULL if stdin_text is None else None,
                stdout=out,
                stderr=err,
                check=False,
                timeout=limit_seconds,
            )
        except subprocess.TimeoutExpired:
            raise Overran(
                f"{what} did not finish within {limit_seconds:g} s ({limit_name}); the pipe stopped it."
            ) from None
        err.seek(max(0, err.tell() - CAPTURE_ERROR_BYTES))
        said = err.read()
    if quiet is not None:
        said = b"".join(line for line in said.splitlines(keepends=True) if not quiet.search(line))
    relay = Relay(errors_to or print_framed)
    relay.feed(said)
    relay.close()
    if completed.returncode != 0:
        return completed.returncode, ""
    try:
        return 0, bounded_read.read_text(output, max_bytes, f"{what}'s output")
    except UnicodeDecodeError:
        raise PipeError(f"{what} printed output that is not UTF-8.") from None
