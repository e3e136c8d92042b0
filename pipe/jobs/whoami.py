"""COMMAND: whoami — sign in and show who AWS says we are, and for how long."""

from typing import Literal

from pipe.common.log import emit
from pipe.jobs import SignedIn, no_settings
from pipe.signin.claims import describe_remaining, format_time

SIGNS_IN: Literal[True] = True
VARIABLES = ()
read_settings = no_settings


def role_of(assumed_role_arn: str) -> str | None:
    """arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION -> arn:aws:iam::ACCOUNT:role/NAME (path not known)."""
    parts = assumed_role_arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("assumed-role/"):
        return None
    name = parts[5].split("/")[1]
    return f"arn:{parts[1]}:iam::{parts[4]}:role/{name}"


def run(context: SignedIn[None]) -> str:
    identity = context.identity
    caller = identity.caller_identity()
    role = str(identity.role) if identity.role else role_of(caller["Arn"])
    expiration = identity.credentials.expiration
    expiry = (
        f"{format_time(expiration.timestamp())} ({describe_remaining(expiration.timestamp())})"
        if expiration
        else "does not expire (long-lived access keys)"
    )
    rows = [
        ("Account", caller["Account"]),
        ("Assumed-role ARN", caller["Arn"]),
        ("Role ARN", role or "none (not a role session)"),
        ("Session name", identity.session_name or "none"),
        ("Credential source", identity.source),
        ("Region", identity.region),
        ("Expires", expiry),
    ]
    width = max(len(label) for label, _ in rows) + 1
    emit(*(f"{label + ':':<{width}} {value}" for label, value in rows))
    return f"Signed in to AWS account {caller['Account']} as {caller['Arn']}."
