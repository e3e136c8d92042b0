"""What the CDK CLI's last lines say: how many stacks a diff found different, and why a run failed,
in one line for the pipe's failure message (the CLI's full output is already in the log above)."""

import re

_DIFFERENCES = re.compile(r"Number of stacks with differences:\s*([0-9]+)")
# The CLI's line when the app command (the synthesis) fails.
_APP_FAILED = re.compile(r"Subprocess exited with error ([0-9]+)")
# An error line as Node.js and Python print them: "Error: ...", "ValidationError: ...", "TSError: ...".
_APP_ERROR = re.compile(r"(?:[A-Za-z_][\w.]*)?(?:Error|Exception)(?: \[[\w-]+\])?: ?\S.*")
_CLI_FAILURE = "❌"
# Long enough for an error message, short enough to keep the failure one readable line.
_MAX_DETAIL = 300


def differences(tail: list[str]) -> int | None:
    for line in reversed(tail):
        match = _DIFFERENCES.search(line)
        if match:
            return int(match.group(1))
    return None


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_DETAIL else text[:_MAX_DETAIL] + "..."


def app_error(tail: list[str]) -> str | None:
    """The app's own error line when the synthesis failed, else None."""
    for index in range(len(tail) - 1, -1, -1):
        if _APP_FAILED.search(tail[index]):
            errors = [line.strip() for line in tail[:index] if _APP_ERROR.fullmatch(line.strip())]
            return _short(errors[-1]) if errors else ""
    return None


def failure(command: str, status: int, tail: list[str]) -> str:
    error = app_error(tail)
    if error is not None:
        detail = f": {error}" if error else f" (exit status {status})"
        return f"The CDK app failed to synthesize{detail}. Its output is above."
    reasons = [line.replace(_CLI_FAILURE, "").strip() for line in tail if _CLI_FAILURE in line]
    reasons = [reason for reason in reasons if reason]
    if reasons:
        return f"cdk {command} failed: {_short(reasons[-1])}"
    return f"cdk {command} failed with exit status {status}; the CDK CLI's output is above."
