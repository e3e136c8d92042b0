"""Who sent a request: the SigV4 Authorization header checked as AWS checks it.

The access key must be one moto's STS issued (an assumed-role session), the X-Amz-Security-Token
header must be that session's token, and the signature is recomputed with the session's secret
over the signed headers and the body.
"""

import datetime
import hashlib
import hmac
import re
from dataclasses import dataclass

_AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[A-Z0-9]+)/(?P<day>\d{8})/(?P<region>[a-z0-9-]+)/"
    r"(?P<service>[a-z0-9-]+)/aws4_request, ?SignedHeaders=(?P<headers>[a-z0-9;-]+), ?Signature=(?P<signature>[0-9a-f]{64})$"
)
# SigV4 allows this much clock difference between client and service.
CLOCK_SKEW_SECONDS = 15 * 60


class Rejected(Exception):
    """Answered as AWS answers an unsigned or badly signed request (403)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    account: str
    assumed_role_arn: str
    region: str


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _assumed_role(access_key_id: str):
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            try:
                role = sts_backends[account][partition].get_assumed_role_from_access_key(access_key_id)
            except KeyError:
                continue
            if role is not None:
                return role
    return None


def verify(method: str, path: str, headers: dict[str, str], body: bytes, service: str) -> Caller:
    """`headers` with lower-case names. Raises Rejected."""
    authorization = headers.get("authorization")
    if not authorization:
        raise Rejected("MissingAuthenticationToken", "Request is missing Authentication Token")
    match = _AUTHORIZATION.match(authorization)
    if not match:
        raise Rejected("IncompleteSignature", "Authorization header is not AWS Signature Version 4.")
    if match["service"] != service:
        raise Rejected(
            "SignatureDoesNotMatch", f"Credential should be scoped to correct service: '{service}'."
        )
    signed = match["headers"].split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        raise Rejected("IncompleteSignature", "host and x-amz-date must be signed.")
    stamp = headers.get("x-amz-date", "")
    try:
        signed_at = datetime.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise Rejected("IncompleteSignature", "X-Amz-Date is missing or malformed.") from None
    if abs((datetime.datetime.now(datetime.UTC) - signed_at).total_seconds()) > CLOCK_SKEW_SECONDS:
        raise Rejected("SignatureDoesNotMatch", "Signature expired: the request time is too skewed.")

    role = _assumed_role(match["key"])
    if role is None:
        raise Rejected(
            "InvalidClientTokenId",
            "The security token included in the request is invalid (not an assumed role).",
        )
    token = headers.get("x-amz-security-token")
    if token is None or "x-amz-security-token" not in signed:
        raise Rejected("MissingAuthenticationToken", "The assumed-role session token is missing or unsigned.")
    if not hmac.compare_digest(token, role.session_token):
        raise Rejected("InvalidClientTokenId", "The security token included in the request is invalid.")

    canonical_headers = "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed)
    canonical_request = "\n".join(
        [method, path or "/", "", canonical_headers, ";".join(signed), hashlib.sha256(body).hexdigest()]
    )
    scope = f"{match['day']}/{match['region']}/{service}/aws4_request"
    string_to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(("AWS4" + role.secret_access_key).encode(), match["day"])
    for part in (match["region"], service, "aws4_request"):
        key = _hmac(key, part)
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, match["signature"]):
        raise Rejected(
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )
    return Caller(match["key"], role.account_id, role.arn, match["region"])
