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
_lock = threading.Lock()

logger = logging.getLogger(LOGGER_NAME)


def register_secret(value: str | None) -> None:
    """Mask `value`, and its base64 forms, wherever it appears in output from now on."""
    global _known_pattern
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    raw = value.encode()
    forms = {
        value,
        base64.b64encode(raw).decode().rstrip("="),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    }
    with _lock:
        _known_secrets.update(forms)
        ordered = sorted(_known_secrets, key=len, reverse=True)
        _known_pattern = re.compile("|".join(re.escape(s) for s in ordered))


def redact(text: str) -> str:
    if _known_pattern is not None:
        text = _known_pattern.sub(MASK, text)
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


def emit(text: str) -> None:
    """Print a document for the user (a policy, a template) on stdout, redacted like the log."""
    sys.stderr.flush()
    print(redact(text), flush=True)
