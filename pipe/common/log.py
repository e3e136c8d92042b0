"""Logging for the pipe: one named logger, one handler, and a filter that redacts secrets.

Every logger that can see a secret (ours, botocore, urllib3, s3transfer, the toolkit's root logger)
writes only through the handler made here, so the redacting filter sees every line.
"""

import base64
import logging
import os
import re
import sys
import threading

import colorlog

from pipe.common import line_safe

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

_known_secrets: set[str] = set()
_known_pattern: re.Pattern[str] | None = None
_encoded_cores: set[str] = set()
_encoded_pattern: re.Pattern[str] | None = None
_lock = threading.Lock()
# Characters of standard and URL-safe base64: a run of them around a secret's encoding is one blob.
_BASE64_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")

logger = logging.getLogger(LOGGER_NAME)


def _base64_cores(raw: bytes) -> set[str]:
    """What base64 of a blob holding `raw` contains whatever surrounds `raw`, standard and URL-safe.

    `raw` may start at any byte of a blob (`user:secret`, a kubeconfig); modulo 3 that is one of three
    alignments. At alignment k the first 0, 2 or 3 characters also encode the bytes before it, and
    the last character encodes bytes after it unless the blob ends evenly: those are left out."""
    cores = set()
    for offset, mixed_at_start in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        mixed_at_end = 1 if (offset + len(raw)) % 3 else 0
        core = encoded[mixed_at_start : len(encoded) - mixed_at_end]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores


def _alternation(values: set[str]) -> re.Pattern[str]:
    return re.compile("|".join(re.escape(value) for value in sorted(values, key=len, reverse=True)))


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in output from now on, and any base64 blob that holds it."""
    global _known_pattern, _encoded_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        _known_secrets.add(value)
        _encoded_cores.update(_base64_cores(value.encode()))
        # Compiled when next needed: a run registers several secrets before it logs anything, and
        # each compile of these long alternations costs milliseconds of start-up.
        _known_pattern = _encoded_pattern = None


def _compiled() -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    global _known_pattern, _encoded_pattern
    with _lock:
        if _known_pattern is None and _known_secrets:
            _known_pattern = _alternation(_known_secrets)
            _encoded_pattern = _alternation(_encoded_cores)
        return _known_pattern, _encoded_pattern


def _mask_encoded(text: str, encoded_pattern: re.Pattern[str] | None) -> str:
    """Replace each run of base64 characters that holds a secret's encoding by the mask.

    Found by the cores alone, then widened by hand to the run around them: a pattern that matched
    the run itself would backtrack over every long base64 body botocore logs."""
    if encoded_pattern is None:
        return text
    pieces = []
    done = 0
    for match in encoded_pattern.finditer(text):
        start, end = match.start(), match.end()
        if start < done:
            continue  # inside a run already masked
        while start > done and text[start - 1] in _BASE64_CHARACTERS:
            start -= 1
        while end < len(text) and text[end] in _BASE64_CHARACTERS:
            end += 1
        pieces += [text[done:start], MASK]
        done = end
    return "".join(pieces) + text[done:] if pieces else text


def redact(text: str) -> str:
    known_pattern, encoded_pattern = _compiled()
    text = _mask_encoded(text, encoded_pattern)
    if known_pattern is not None:
        text = known_pattern.sub(MASK, text)
    text = _PATTERNS[0].sub(MASK, text)
    for pattern in _PATTERNS[1:]:
        text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(2) if m.lastindex == 2 else ""), text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final text, traceback included, before any formatter sees it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string in someone's log call must not crash the pipe
            message = f"{record.msg!r} {record.args!r}"
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


def _wants_color(stream) -> bool:
    if "NO_COLOR" in os.environ:
        return False
    # Bitbucket's log viewer renders ANSI colours although the pipe's output is not a terminal.
    return stream.isatty() or "BITBUCKET_BUILD_NUMBER" in os.environ


_handler: logging.Handler | None = None


def setup(debug: bool = False) -> logging.Logger:
    """Route every logger through one redacting handler. Safe to call again (e.g. once DEBUG is known)."""
    global _handler
    if _handler is None:
        stream = sys.stderr
        _handler = logging.StreamHandler(stream)
        _handler.addFilter(line_safe.LineSafeFilter())  # first: it escapes the values redaction then sees
        _handler.addFilter(RedactingFilter())
        _handler.setFormatter(
            colorlog.ColoredFormatter(
                "%(log_color)s%(levelname)s: %(message)s",
                log_colors={"DEBUG": "white", "INFO": "blue", "WARNING": "yellow", "ERROR": "red"},
                no_color=not _wants_color(stream),
            )
        )
    # bitbucket-pipes-toolkit puts an unfiltered handler on the root logger when imported.
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
