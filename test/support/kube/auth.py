"""Bearer-token verification as aws-iam-authenticator does it (the control plane's TokenReview webhook uses it).

A token is "k8s-aws-v1." + base64url(presigned STS GetCallerIdentity URL). The URL was signed with
the header `x-k8s-aws-id: <cluster name>`, whose value is not in the URL: the server recomputes
the SigV4 signature with its own cluster name, so a token made for another cluster fails. The
secret key is looked up in moto's in-process STS backend (the stand-in for STS answering the
presigned call).
"""

import base64
import binascii
import datetime
import hashlib
import hmac
import re
import time
import urllib.parse
from dataclasses import dataclass

TOKEN_PREFIX = "k8s-aws-v1."
MAX_EXPIRES_SECONDS = 60
# How far in the future X-Amz-Date may be (clock skew between client and server).
FUTURE_SKEW_SECONDS = 60.0
_REQUIRED_QUERY = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
)
# STS endpoints aws-iam-authenticator accepts; 127.0.0.1 and localhost stand for moto (AWS_ENDPOINT_URL).
_STS_HOST = re.compile(r"^sts(\.[a-z0-9-]+)?\.amazonaws\.com(\.cn)?$")
_ALLOWED_QUERY = {
    "action",
    "version",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
    "x-amz-expires",
    "x-amz-security-token",
    "x-amz-signature",
    "x-amz-signedheaders",
}
_ASSUMED_ROLE = re.compile(
    r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/(?P<session>.+)$"
)
_ROLE = re.compile(r"^arn:(?P<partition>[^:]+):iam::(?P<account>\d{12}):role/(?:.*/)?(?P<role>[^/]+)$")


class TokenRejected(Exception):
    def __init__(self, reason: str, access_key_id: str | None = None, signed_at: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.access_key_id = access_key_id
        self.signed_at = signed_at


@dataclass(frozen=True)
class Caller:
    """Who signed a valid token: the assumed role and the role behind it."""

    access_key_id: str
    signed_at: str
    account: str
    role_arn: str  # arn:aws:iam::ACCOUNT:role/NAME, as the role was assumed
    assumed_role_arn: str  # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION
    session_name: str
    user_id: str


def _quote(value: str) -> str:
    return urllib.parse.quote(value, safe="-_.~")


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def _decode(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        raise TokenRejected("token does not start with k8s-aws-v1.")
    encoded = token[len(TOKEN_PREFIX) :]
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), altchars=b"-_", validate=True)
        return raw.decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise TokenRejected("token is not base64url") from error


def _find_assumed_role(access_key_id: str):
    from moto.sts.models import sts_backends

    for account in list(sts_backends.keys()):
        for partition in ("aws", "aws-cn", "aws-us-gov"):
            try:
                backend = sts_backends[account][partition]
            except KeyError:
                continue
            role = backend.get_assumed_role_from_access_key(access_key_id)
            if role is not None:
                return role
    return None


def verify_token(token: str, cluster_name: str, lifetime_seconds: float, now: float | None = None) -> Caller:
    """Check the token as aws-iam-authenticator would and return who signed it; raise TokenRejected."""
    url = _decode(token)
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("https", "http") or not parsed.netloc:
        raise TokenRejected("token is not a URL")
    pairs = urllib.parse.parse_qsl(parsed.query, keep_blank_values=True)
    query: dict[str, str] = {}
    for key, value in pairs:
        if key in query:
            raise TokenRejected(f"query parameter {key} given twice")
        query[key] = value
    access_key_id = None
    credential = query.get("X-Amz-Credential", "")
    if credential:
        access_key_id = credential.split("/", 1)[0]
    signed_at = query.get("X-Amz-Date")

    def reject(reason: str) -> TokenRejected:
        return TokenRejected(reason, access_key_id, signed_at)

    host = parsed.hostname or ""
    if not (_STS_HOST.match(host) or host in ("127.0.0.1", "localhost")):
        raise reject(f"unexpected hostname {host!r} in pre-signed URL")
    unexpected = sorted(key for key in query if key.lower() not in _ALLOWED_QUERY)
    if unexpected:
        raise reject(f"non-whitelisted query parameter {unexpected[0]!r}")
    if query.get("Action") != "GetCallerIdentity":
        raise reject("presigned URL is not for GetCallerIdentity")
    for key in _REQUIRED_QUERY:
        if key not in query:
            raise reject(f"missing {key}")
    if "X-Amz-Signature" not in query:
        raise reject("missing X-Amz-Signature")
    if query["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256":
        raise reject("unsupported X-Amz-Algorithm")
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        raise reject("X-Amz-Expires is not a number") from None
    if expires > MAX_EXPIRES_SECONDS:
        raise reject("X-Amz-Expires parameter is too large (max 60)")
    signed_headers = query["X-Amz-SignedHeaders"].split(";")
    if "x-k8s-aws-id" not in signed_headers:
        raise reject("x-k8s-aws-id is not a signed header")
    if "host" not in signed_headers:
        raise reject("host is not a signed header")
    if set(signed_headers) - {"host", "x-k8s-aws-id"}:
        raise reject("unexpected signed headers")
    try:
        date = datetime.datetime.strptime(signed_at, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.UTC)
    except ValueError:
        raise reject("X-Amz-Date is malformed") from None
    clock = time.time() if now is None else now
    age = clock - date.timestamp()
    if age > lifetime_seconds:
        raise reject(f"X-Amz-Date parameter is expired ({lifetime_seconds:g} s lifetime)")
    if age < -FUTURE_SKEW_SECONDS:
        raise reject("X-Amz-Date parameter is in the future")
    scope = credential.split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or scope[1] != signed_at[:8]:
        raise reject("X-Amz-Credential scope is malformed")
    _, day, region, service, _ = scope
    if service != "sts":
        raise reject("credential scope is not for sts")

    role = _find_assumed_role(access_key_id)
    if role is None:
        raise reject("unknown access key id")
    if query.get("X-Amz-Security-Token") != role.session_token:
        raise reject("X-Amz-Security-Token does not match the access key's session")
    expiration = role.expiration
    if expiration.tzinfo is None:
        expiration = expiration.replace(tzinfo=datetime.UTC)
    if expiration.timestamp() < clock:
        raise reject("the temporary credentials have expired")

    # SigV4 query authentication, recomputed with this cluster's name in x-k8s-aws-id.
    header_values = {"host": parsed.netloc.lower(), "x-k8s-aws-id": cluster_name}
    canonical_headers = "".join(f"{name}:{header_values[name]}\n" for name in signed_headers)
    canonical_query = "&".join(
        f"{_quote(key)}={_quote(value)}" for key, value in sorted(pairs) if key != "X-Amz-Signature"
    )
    path = parsed.path or "/"
    canonical_request = "\n".join(
        [
            "GET",
            _quote_path(path),
            canonical_query,
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(b"").hexdigest(),
        ]
    )
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            signed_at,
            "/".join(scope[1:]),
            hashlib.sha256(canonical_request.encode()).hexdigest(),
        ]
    )
    key = _hmac(("AWS4" + role.secret_access_key).encode(), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    key = _hmac(key, "aws4_request")
    expected = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, query["X-Amz-Signature"]):
        raise reject("signature does not match (tampered, or signed for another cluster)")

    match = _ASSUMED_ROLE.match(role.arn)
    session_name = match.group("session") if match else role.session_name
    return Caller(
        access_key_id=access_key_id,
        signed_at=signed_at,
        account=role.account_id,
        role_arn=role.role_arn,
        assumed_role_arn=role.arn,
        session_name=session_name,
        user_id=_user_id(role),
    )


def _user_id(role) -> str:
    """AROA…:session, stable per role (moto makes up a new random id on each call when IAM lacks the role)."""
    digest = hashlib.sha256(role.role_arn.encode()).hexdigest()[:17].upper()
    return f"AROA{digest}:{role.session_name}"


def _quote_path(path: str) -> str:
    return urllib.parse.quote(path, safe="/-_.~")


def canonical_role_arn(arn: str) -> str:
    """arn:aws:iam::A:role/path/NAME and arn:aws:sts::A:assumed-role/NAME/S both -> arn:aws:iam::A:role/NAME."""
    for pattern in (_ROLE, _ASSUMED_ROLE):
        match = pattern.match(arn)
        if match:
            return f"arn:{match.group('partition')}:iam::{match.group('account')}:role/{match.group('role')}"
    return arn
