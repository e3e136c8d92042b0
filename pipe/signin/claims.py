"""Read an OIDC token's claims for messages and preflight checks.

The signature is not checked: STS does that. The claims only make messages precise and let an
expired or malformed token fail before any AWS call.
"""

import base64
import binascii
import time
from datetime import UTC, datetime
from typing import Any, NamedTuple

from pipe.common import bounded_read
from pipe.common.errors import PipeError

# Claims logged at start-up: enough to match the token against an IAM trust policy.
LOGGED_CLAIMS = ("iss", "aud", "sub", "repositoryUuid", "branchName", "deploymentEnvironmentUuid", "exp")
# 9999-12-31: any later "expiry" is not a time (and would overflow datetime).
LATEST_EXPIRY = 253402300799
# A token that expires sooner than this may die between our check and STS's.
EXPIRY_WARNING_SECONDS = 60


class Claims(NamedTuple):  # not a dataclass: see pipe.signin.arns.RoleArn
    values: dict[str, Any]

    @property
    def issuer(self) -> str:
        return str(self.values.get("iss", ""))

    @property
    def audience(self) -> str:
        aud = self.values.get("aud", "")
        if isinstance(aud, list):
            return str(aud[0]) if aud else ""
        return str(aud)

    @property
    def subject(self) -> str:
        return str(self.values.get("sub", ""))

    @property
    def expires_at(self) -> float | None:
        """`exp` as seconds since the epoch, or None when it is missing or not a usable time."""
        exp = self.values.get("exp")
        if isinstance(exp, bool) or not isinstance(exp, int | float):
            return None
        return float(exp) if 0 < exp < LATEST_EXPIRY else None

    @property
    def provider_path(self) -> str:
        """The issuer as IAM names the OIDC provider and its condition keys: no scheme, no trailing slash."""
        issuer = self.issuer
        for scheme in ("https://", "http://"):
            if issuer.startswith(scheme):
                issuer = issuer[len(scheme) :]
        return issuer.rstrip("/")

    def get(self, name: str) -> str:
        value = self.values.get(name)
        return "" if value is None else str(value)

    def summary(self) -> str:
        parts = []
        for name in LOGGED_CLAIMS:
            if name not in self.values:
                continue
            value = self.values.get(name)
            if name == "exp" and self.expires_at is not None:
                value = f"{format_time(self.expires_at)} ({describe_remaining(self.expires_at)})"
            parts.append(f"{name}={value}")
        return ", ".join(parts)


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def describe_remaining(epoch: float, now: float | None = None) -> str:
    seconds = int(epoch - (time.time() if now is None else now))
    span = abs(seconds)
    text = f"{span // 60} min {span % 60} s" if span >= 60 else f"{span} s"
    return f"in {text}" if seconds > 0 else f"{text} ago"


def decode(token: str, source: str) -> Claims:
    """Decode the claims of `token`; `source` names where it came from, for the error line."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise PipeError(
            f"{source} is not an OIDC token (a JWT has three dot-separated parts). "
            "Make sure the variable holds the token itself, unchanged."
        )
    try:
        payload = parts[1] + "=" * (-len(parts[1]) % 4)
        values = bounded_read.load_json(
            base64.urlsafe_b64decode(payload.encode("ascii")), f"{source}'s claims"
        )
    except (binascii.Error, ValueError, UnicodeError):
        raise PipeError(
            f"{source} is not an OIDC token: its claims are not base64url-encoded JSON."
        ) from None
    if not isinstance(values, dict):
        raise PipeError(f"{source} is not an OIDC token: its claims are not a JSON object.")
    return Claims(values)


def check_expiry(claims: Claims, source: str, now: float | None = None) -> None:
    now = time.time() if now is None else now
    expires_at = claims.expires_at
    if expires_at is None:
        raise PipeError(f"{source} has no valid expiry (exp claim); STS accepts only tokens that expire.")
    if expires_at <= now:
        raise PipeError(
            f"{source} expired at {format_time(expires_at)} ({describe_remaining(expires_at, now)}). "
            "Bitbucket issues a new token each time a step runs: re-run the step instead of reusing a token."
        )
