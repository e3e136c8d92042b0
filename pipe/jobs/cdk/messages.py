"""What the CDK CLI's last lines say: how many stacks a diff found different, and why a run failed,
in one line for the pipe's failure message (the CLI's full output is already in the log above).

Users read the last line first, so it carries the reason: the compiler's or the app's own error when
the synthesis failed; else CloudFormation's reason for the resource that failed; else, when the CLI
could not assume the bootstrap roles, the pipe's access-denied line naming sts:AssumeRole and the
roles; else the CLI's ❌ line with the error detail the CLI prints after it; always the CLI's own exit
status.
"""

import re

from pipe.aws import errors

_DIFFERENCES = re.compile(r"Number of stacks with differences:\s*([0-9]+)")
# The CLI's line when the app command (the synthesis) fails.
_APP_FAILED = re.compile(r"Subprocess exited with error ([0-9]+)")
# An error line as Node.js and Python print them: "Error: ...", "ValidationError: ...", "TSError: ...".
_APP_ERROR = re.compile(r"(?:[A-Za-z_][\w.]*)?(?:Error|Exception)(?: \[[\w-]+\])?: ?\S.*")
# ts-node's header above the compiler's diagnostics: it says nothing about what is wrong.
_TS_NODE_HEADER = re.compile(r"TSError: \W*Unable to compile TypeScript:?")
# The TypeScript compiler's diagnostic: "bin/app.ts(7,25): error TS1005: ')' expected."
_TS_DIAGNOSTIC = re.compile(r"\S+\([0-9]+,[0-9]+\): error TS[0-9]+: .+")
# The CLI's stack activity line: "Stack | 1/3 | 10:00:00 AM | CREATE_FAILED | AWS::SSM::Parameter | Stack/Name (Name) reason".
_ACTIVITY = re.compile(
    r".*\|\s*(?P<status>[A-Z_]+_FAILED)\s*\|\s*(?P<type>[\w:]+)\s*\|\s*(?P<resource>\S+(?: \([^)]*\))?)\s*(?P<reason>.*)"
)
# Resources CloudFormation stopped because another failed: their events explain nothing.
_CANCELLED = "cancelled"
# The CLI's --verbose lines start with a time stamp: "[09:36:33] Retrieved account ID ...".
_VERBOSE = re.compile(r"\[[0-9]{2}:[0-9]{2}:[0-9]{2}\] ")
# What the CLI says when --require-approval stops a deploy: there is nobody at a terminal to ask.
_NO_APPROVER = "terminal (TTY) is not attached"
_APPROVAL_HINT = (
    "CDK_REQUIRE_APPROVAL stopped it, as nobody can approve in a pipeline: review the change with "
    "CDK_COMMAND diff, then deploy it with CDK_REQUIRE_APPROVAL never"
)
# The CLI's warning when it cannot assume a bootstrap role (deploy, file publishing) and goes on with the
# pipe's own credentials, which are for the right account (aws-cdk 2.1148's SdkProvider.forEnvironment;
# the error itself is printed only with --verbose); and its error when they are for another account
# ("Could not assume role in target account ...", quoting STS's AccessDenied). In a pipeline the pipe's
# role has signed in already, so the credentials are good: IAM refused sts:AssumeRole, for want of the
# permission or because the bootstrap role's trust policy does not admit the account.
_NOT_ASSUMED = (
    re.compile(r"could not be used to assume '(arn:[^'\s]+:role/[^'\s]+)', but are for the right account"),
    re.compile(r"not authorized to perform:? sts:AssumeRole on resource:? (arn:[^'\s]+:role/[^'\s]+)"),
)
_CLI_FAILURE = "❌"
_CLI_DETAIL = "‣"
# Long enough for an error message, short enough to keep the failure one readable line.
_MAX_DETAIL = 300
_SEE_ABOVE = "the full output is above"


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
    """The app's own error when the synthesis failed ("" when it printed none), else None."""
    for index in range(len(tail) - 1, -1, -1):
        if _APP_FAILED.search(tail[index]):
            before = [line.strip() for line in tail[:index]]
            compiler = [line for line in before if _TS_DIAGNOSTIC.fullmatch(line)]
            if compiler:
                return _short(compiler[0])  # the first error; later ones often follow from it
            errors = [
                line for line in before if _APP_ERROR.fullmatch(line) and not _TS_NODE_HEADER.match(line)
            ]
            return _short(errors[-1]) if errors else ""
    return None


def resource_failure(tail: list[str]) -> str | None:
    """CloudFormation's reason for the first resource that failed: 'Name (AWS::Type) CREATE_FAILED: reason'."""
    for line in tail:
        match = _ACTIVITY.fullmatch(line.strip())
        if not match or match["type"] == "AWS::CloudFormation::Stack":
            continue
        reason = match["reason"].strip()
        if _CANCELLED in reason.lower():
            continue
        resource = f"{match['resource']} ({match['type']}) {match['status']}"
        return f"{resource}: {reason}" if reason else resource
    return None


def _cli_detail(tail: list[str], after: int) -> str | None:
    """The error the CLI prints under its ❌ line ("‣ ValidationError: ...")."""
    for line in tail[after + 1 :]:
        text = line.strip()
        if text.startswith(_CLI_DETAIL):
            text = text[len(_CLI_DETAIL) :].strip()
        elif not _APP_ERROR.fullmatch(text):
            continue
        if text:
            return text
    return None


def _last_line(tail: list[str]) -> str | None:
    """The CLI's last line of its own (not a --verbose one): its error when it printed no ❌ line."""
    for line in reversed(tail):
        text = line.strip()
        if text and not _VERBOSE.match(text):
            return text
    return None


def roles_not_assumed(tail: list[str]) -> list[str]:
    """The bootstrap roles the CLI could not assume, in the order it tried them."""
    found = [
        match.group(1)
        for line in tail
        for pattern in _NOT_ASSUMED
        for match in [pattern.search(line)]
        if match
    ]
    return list(dict.fromkeys(found))


def failure(command: str, status: int, tail: list[str]) -> str:
    error = app_error(tail)
    if error is not None:
        reason = f": {error}" if error else ""
        return f"The CDK app failed to synthesize{reason} (cdk {command} exit status {status}; {_SEE_ABOVE})."
    roles = roles_not_assumed(tail)
    if roles and resource_failure(tail) is None:
        return (
            f"{errors.refusal('sts:AssumeRole', _short(', '.join(roles)))} The CDK CLI could not use the bootstrap "
            f"roles, and cdk {command} failed (exit status {status}; {_SEE_ABOVE})."
        )
    failed = [index for index, line in enumerate(tail) if _CLI_FAILURE in line]
    parts = []
    if failed:
        headline = tail[failed[-1]].replace(_CLI_FAILURE, "").strip()
        parts.append(headline)
        detail = resource_failure(tail) or _cli_detail(tail, failed[-1])
        if detail and detail not in headline:
            parts.append(detail)
    else:
        detail = resource_failure(tail) or _last_line(tail)
        if detail:
            parts.append(detail)
            if _NO_APPROVER in detail:
                parts.append(_APPROVAL_HINT)
    reason = f": {_short(': '.join(part for part in parts if part))}" if any(parts) else ""
    return f"cdk {command} failed{reason} (exit status {status}; {_SEE_ABOVE})."
