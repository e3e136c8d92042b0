"""Logging for the pipe: one named logger, one handler, and a filter that redacts secrets.

Every logger that can see a secret (ours, botocore, urllib3, s3transfer, the root logger) writes
only through the handler made here, so the redacting filter sees every line.
"""

import logging
import os
import re
import sys
import threading
from collections.abc import Mapping
from typing import Any, TextIO
from urllib.parse import unquote

from pipe.common import line_safe, secret_forms

LOGGER_NAME = "aws-oidc-deploy"
MASK = "****"

# A JWT header always starts with '{"', which base64url-encodes to "eyJ".
_JWT = r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
_SECRET_FIELDS = "|".join(  # names of the fields whose values are secret
    (
        "SecretAccessKey",
        "SessionToken",
        "WebIdentityToken",
        "secret_access_key",
        "session_token",
        "aws_secret_access_key",
        "aws_session_token",
        "X-Amz-Security-Token",
        "BITBUCKET_STEP_OIDC_TOKEN",
    )
)
# EKS bearer tokens: a presigned STS URL, base64url-encoded, behind this prefix.
_EKS_BEARER = r"k8s-aws-v1\.[A-Za-z0-9_-]+"
_PATTERNS = (
    re.compile(f"{_JWT}|{_EKS_BEARER}"),
    # XML bodies as botocore logs them before it parses credentials out of a response.
    re.compile(rf"(<(?:{_SECRET_FIELDS})>)[^<]*(</)", re.IGNORECASE),
    # key=value, key: value, 'key': 'value', header lines and presigned query strings.
    re.compile(rf"((?:{_SECRET_FIELDS})['\"]?\s*[:=]\s*b?['\"]?)[^'\"\s&,}}<]+", re.IGNORECASE),
)
# Shorter values are not secrets we know of, and masking them would mangle ordinary words.
_MIN_SECRET_LENGTH = 8
# The user-info of a URL (`scheme://user:password@host`), whatever carries the URL: a proxy variable,
# an error message that quotes it, a program's output. The authority ends at `/`, `?`, `#` (RFC 3986)
# or ASCII white space, so an `@` in a path (`https://host/@scope/pkg`) is not user-info; anything
# else up to the last `@` before it is, escapes and non-ASCII included. `:\/\/` is the same URL
# inside a JSON string. Found from the `://`, not from a scheme, so a long run of letters costs one pass.
_URL_USER_INFO = re.compile(r"(:(?:\\?/){2})[^ \t\n\r\f\v/?#]*@")

# The registered secrets' needles (pipe.common.secret_forms), replaced whole, never changed in
# place, so redact() needs no lock.
_table = secret_forms.Table()
_lock = threading.Lock()

logger = logging.getLogger(LOGGER_NAME)


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in output from now on, in every form
    pipe.common.secret_forms finds (encoded, escaped, wrapped over lines, cut short)."""
    global _table
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if all(known != value for _name, known in _table.secrets):
            _table = _table.adding("registered secret", value)


def secrets() -> secret_forms.Table:
    """The registered secrets' needles, for code that redacts a text as it arrives (process.py)."""
    return _table


def mask_secrets(text: str) -> str:
    """`text` with every registered secret masked, in any form (no shapes: see redact)."""
    table = _table
    if not table:
        return text
    return secret_forms.masked(text, secret_forms.spans(text, table), MASK)


def register_url_passwords(env: Mapping[str, str]) -> None:
    """Mask, in every form, the user-info of any URL the environment holds (HTTPS_PROXY, a package
    index): in output it may appear without its URL (a header, a decoded error message)."""
    for name, value in env.items():
        if "@" not in value:
            continue
        # A proxy variable may leave out its scheme (`user:pass@proxy:3128`): clients assume http://.
        scheme_left_out = "://" not in value and name.upper().endswith("_PROXY")
        for url in [f"http://{value.strip()}"] if scheme_left_out else value.split():
            if "://" not in url:
                continue
            after_scheme = url.partition("://")[2]
            authority = re.split("[/?#]", after_scheme)[0]
            # A password written with a raw '/' or '?' (not percent-encoded) ends the authority early
            # for a URL parser, but a person meant it as the password: mask that reading too.
            meant = after_scheme.rpartition("@")[0]
            for user_info in dict.fromkeys((authority.rpartition("@")[0], meant if ":" in meant else "")):
                for secret in (user_info, user_info.partition(":")[2]):
                    register_secret(secret)
                    register_secret(unquote(secret))


def redact(text: str) -> str:
    return redact_shapes(mask_secrets(text))


def redact_all(value: Any) -> Any:
    """Every string in `value` (a JSON-shaped document; keys too) redacted: it stays the same shape."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_all(key): redact_all(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(item) for item in value]
    return value


def redact_shapes(text: str) -> str:
    """`text` with what looks secret masked: URL user-info, JWTs, EKS tokens, secret fields' values."""
    # Each pattern runs only when the text holds what it starts with: a program's output is redacted
    # whole, and a case-insensitive alternation tried at every character costs seconds per 10 MB.
    if "@" in text and (":/" in text or ":\\/" in text):
        text = _URL_USER_INFO.sub(lambda match: match.group(1) + MASK + "@", text)
    if "eyJ" in text or "k8s-aws-v1." in text:
        text = _PATTERNS[0].sub(MASK, text)
    lower = text.lower()
    if "secret" in lower or "token" in lower:  # every name in _SECRET_FIELDS holds one of them
        for pattern in _PATTERNS[1:]:
            text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(2) if m.lastindex == 2 else ""), text)
    return text


def _exception_chain(error: BaseException | None) -> list[str]:
    """`Type: message` of `error` and of each error that caused it, outermost first."""
    lines: list[str] = []
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        lines.append(("caused by " if lines else "") + f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return lines


class RedactingFilter(logging.Filter):
    """Rewrites each record's final text, traceback included, before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in someone's log call must not crash the pipe
            message = f"{record.msg!r} {record.args!r}"
        if record.exc_info and not record.name.startswith(LOGGER_NAME):
            # A library's DEBUG line about an error it handles (botocore before a retry): the error and
            # its causes, one line each, not a traceback a user would read as the pipe crashing.
            message += "".join(
                f"\n  {line_safe.escape(line)}" for line in _exception_chain(record.exc_info[1])
            )
            record.exc_info = None
        if record.exc_info:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            message += "\n" + record.exc_text
        record.exc_text = None
        if record.stack_info:
            message += "\n" + record.stack_info
            record.stack_info = None
        record.msg = redact(message)
        record.args = None
        return True


# Loggers of libraries that log request and response bodies at DEBUG.
_LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "kubernetes")
# botocore's hook and loader chatter is hundreds of lines per call and says nothing a user can act on.
_QUIET_LOGGERS = ("botocore.hooks", "botocore.loaders", "botocore.utils", "botocore.regions")


def _wants_color(stream: TextIO) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    # Bitbucket's log viewer renders ANSI colours although the pipe's output is not a terminal.
    return stream.isatty() or "BITBUCKET_BUILD_NUMBER" in os.environ


# Each level's colour, by colorlog's names (as the pipe's lines were coloured before 1.0.0).
LEVEL_COLOURS = {"DEBUG": "white", "INFO": "blue", "WARNING": "yellow", "ERROR": "red", "CRITICAL": "red"}
# The `extra` key of a log call whose line takes this colour (colorlog's names) instead of its level's:
# pipe.report colours plan lines by what they change.
COLOUR = "colour"
_FORMAT = "%(levelname)s: %(message)s"


class LevelFormatter(logging.Formatter):
    """`LEVEL: message`; when `colour` is on, colorlog's ColoredFormatter paints the whole line.

    The decision is the pipe's (_wants_color), passed to colorlog as force_color: left to itself,
    colorlog lets FORCE_COLOR beat NO_COLOR and drops colour on a non-TTY such as Bitbucket's log.
    With colour off colorlog is never asked, and it is imported at the first line formatted."""

    def __init__(self, colour: bool):
        super().__init__(_FORMAT)
        self.colour = colour
        self._coloured: dict[str | None, logging.Formatter] = {}

    def format(self, record: logging.LogRecord) -> str:
        if not self.colour:
            return super().format(record)
        wanted = getattr(record, COLOUR, None)
        formatter = self._coloured.get(wanted)
        if formatter is None:
            formatter = self._coloured[wanted] = _coloured_formatter(wanted)
        return formatter.format(record)


def _coloured_formatter(colour: str | None) -> logging.Formatter:
    # colorlog imports colorama whenever it can, for Windows' console only; colorama loads ctypes, which
    # cost trust-policy's start ~10 ms, five times colorlog itself. Held back for that one import, so
    # that a library that needs colorama (bitbucket-pipes-toolkit) still gets it.
    held_back = sys.platform != "win32" and "colorama" not in sys.modules
    if held_back:
        sys.modules["colorama"] = None  # type: ignore[assignment]
    try:
        import colorlog
    finally:
        if held_back:
            del sys.modules["colorama"]
    colours = LEVEL_COLOURS if colour is None else dict.fromkeys(LEVEL_COLOURS, colour)
    return colorlog.ColoredFormatter(f"%(log_color)s{_FORMAT}%(reset)s", log_colors=colours, force_color=True)


_handler: logging.Handler | None = None


def setup(debug: bool = False) -> logging.Logger:
    """Route every logger through one redacting handler. Safe to call again (e.g. once DEBUG is known)."""
    global _handler
    if _handler is None:
        stream = sys.stderr
        _handler = logging.StreamHandler(stream)
        _handler.addFilter(line_safe.LineSafeFilter())  # first: it escapes the values redaction then sees
        _handler.addFilter(RedactingFilter())
        _handler.setFormatter(LevelFormatter(colour=_wants_color(stream)))
    # A library may put an unfiltered handler on the root logger (bitbucket-pipes-toolkit did on import).
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(_handler)
    root.setLevel(logging.WARNING)

    for name in (LOGGER_NAME, *_LIBRARY_LOGGERS):
        library_logger = logging.getLogger(name)
        library_logger.handlers = [_handler]
        library_logger.propagate = False
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    for name in _LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.WARNING)
    for name in _QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    logging.captureWarnings(True)
    return logger


def emit(*lines: str) -> None:
    """Print a document for the user (a plan, a policy, a template) on stdout, redacted like the log.

    Each argument is one line: whatever a value inside it holds is shown escaped, never as a line
    of its own (pipe.common.line_safe). A document that is safe to split (JSON) is passed as
    `*text.split("\\n")`."""
    sys.stderr.flush()
    print(redact("\n".join(line_safe.escape(line) for line in lines)), flush=True)


def final_line(text: str) -> str:
    """The pipe's last line (✔ or ✖): one line whatever the values in it hold, redacted."""
    return redact(line_safe.escape(text))


# The pipe's own lines as a reader (or a script reading the step log) tells them: the last line (✔ or ✖)
# and log lines (`INFO: `), each after an optional colour. A program's line starts with
# pipe.common.process.PROGRAM_FRAME instead, so it can never be taken for one of these.
_PIPE_LINE = re.compile(r"(?:\x1b\[[0-9;]*m)*(✔|✖|(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)(?=: ))")


def pipe_mark(line: str) -> str | None:
    """`✔`, `✖` or the level when `line` reads as one of the pipe's own lines, else None."""
    match = _PIPE_LINE.match(line)
    return match.group(1) if match else None


# The last line of a run, as bitbucket-pipes-toolkit prints it (the same colours and marks), written
# here so that no run imports the toolkit, whose import of `requests` was most of the start-up time.
_GREEN, _RED, _RESET = "\x1b[32m", "\x1b[31m", "\x1b[0m"


def success(message: str, do_exit: bool = True) -> None:
    print(f"{_GREEN}✔ {message}{_RESET}", flush=True)
    if do_exit:
        sys.exit(0)


def fail(message: str, do_exit: bool = True) -> None:
    print(f"{_RED}✖ {message}{_RESET}", flush=True)
    if do_exit:
        sys.exit(1)
