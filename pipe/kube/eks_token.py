"""EKS bearer tokens, made as `aws eks get-token` makes them, with the standard library only.

A token is "k8s-aws-v1." + the unpadded base64url of a presigned STS GetCallerIdentity URL whose
signature covers the header `x-k8s-aws-id: <cluster>`. EKS (aws-iam-authenticator) calls that URL
to learn who is asking, so the token proves the caller's identity for one cluster, briefly.

Run as `python -P -m pipe.kube.eks_token --cluster NAME --region REGION`, this module is the kubeconfig's
exec credential plugin. It reads the credentials from its environment (kubectl passes its own, which
the pipe set), prints an ExecCredential and exits: no botocore import, so kubectl pays only Python's
start-up for each fresh token. `-P` keeps a `pipe/` folder in the user's repository off the path.
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import sys
from collections.abc import Mapping
from urllib.parse import quote, urlsplit

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 (a prefix, not a secret)
CLUSTER_ID_HEADER = "x-k8s-aws-id"
# aws-iam-authenticator refuses a presigned URL that claims to be valid for longer than 60 s.
PRESIGN_SECONDS = 60
# EKS accepts a token for 15 minutes after it was signed; kubectl asks for a new one a minute early.
TOKEN_LIFETIME = datetime.timedelta(minutes=14)
EXEC_API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
DEFAULT_EXEC_API_VERSION = EXEC_API_VERSIONS[1]

_ALGORITHM = "AWS4-HMAC-SHA256"
# A GET has no body; SigV4 (outside S3) signs the hash of that empty body.
_EMPTY_BODY_SHA256 = hashlib.sha256(b"").hexdigest()


def sts_endpoint(region: str, env: Mapping[str, str]) -> str:
    """The STS endpoint the SDKs would use: a configured endpoint URL, else the regional one."""
    if env.get("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "").lower() != "true":
        configured = env.get("AWS_ENDPOINT_URL_STS") or env.get("AWS_ENDPOINT_URL")
        if configured:
            return configured.rstrip("/")
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    return f"https://sts.{region}.{suffix}"


def _encode(text: str) -> str:
    return quote(text, safe="-_.~")


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def presigned_url(
    cluster: str,
    region: str,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    endpoint: str,
    now: datetime.datetime,
) -> str:
    """SigV4 query-string signing of GET <endpoint>/?Action=GetCallerIdentity, header x-k8s-aws-id signed."""
    parts = urlsplit(endpoint)
    path = parts.path.rstrip("/") + "/"
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{now:%Y%m%d}/{region}/sts/aws4_request"
    query = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": _ALGORITHM,
        "X-Amz-Credential": f"{access_key_id}/{scope}",
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": str(PRESIGN_SECONDS),
        "X-Amz-SignedHeaders": f"host;{CLUSTER_ID_HEADER}",
    }
    if session_token:
        query["X-Amz-Security-Token"] = session_token
    canonical_query = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(query.items()))
    canonical_request = "\n".join(
        (
            "GET",
            quote(path, safe="/-_.~"),
            canonical_query,
            f"host:{parts.netloc}\n{CLUSTER_ID_HEADER}:{cluster}\n",
            query["X-Amz-SignedHeaders"],
            _EMPTY_BODY_SHA256,
        )
    )
    string_to_sign = "\n".join(
        (_ALGORITHM, amz_date, scope, hashlib.sha256(canonical_request.encode()).hexdigest())
    )
    key = _hmac(f"AWS4{secret_access_key}".encode(), f"{now:%Y%m%d}")
    for part in (region, "sts", "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{parts.scheme}://{parts.netloc}{path}?{canonical_query}&X-Amz-Signature={signature}"


def make_token(
    cluster: str, region: str, env: Mapping[str, str], now: datetime.datetime | None = None
) -> str:
    """A token for `cluster` from the credentials in `env` (AWS_ACCESS_KEY_ID and friends)."""
    access_key_id = env.get("AWS_ACCESS_KEY_ID")
    secret_access_key = env.get("AWS_SECRET_ACCESS_KEY")
    if not access_key_id or not secret_access_key:
        raise LookupError("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set")
    url = presigned_url(
        cluster,
        region,
        access_key_id,
        secret_access_key,
        env.get("AWS_SESSION_TOKEN"),
        sts_endpoint(region, env),
        now or datetime.datetime.now(datetime.UTC),
    )
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def exec_credential(token: str, api_version: str, signed_at: datetime.datetime) -> dict[str, object]:
    expires = (signed_at + TOKEN_LIFETIME).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "kind": "ExecCredential",
        "apiVersion": api_version,
        "spec": {},
        "status": {"expirationTimestamp": expires, "token": token},
    }


def requested_api_version(env: Mapping[str, str]) -> str:
    """kubectl says which ExecCredential version it wants in KUBERNETES_EXEC_INFO."""
    try:
        requested = json.loads(env.get("KUBERNETES_EXEC_INFO", "{}")).get("apiVersion")
    except (ValueError, AttributeError):
        requested = None
    return requested if requested in EXEC_API_VERSIONS else DEFAULT_EXEC_API_VERSION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -P -m pipe.kube.eks_token", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--cluster", required=True)
    parser.add_argument("--region", required=True)
    arguments = parser.parse_args(argv)
    signed_at = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    try:
        token = make_token(arguments.cluster, arguments.region, os.environ, signed_at)
    except LookupError as error:
        print(f"aws-oidc-deploy EKS token helper: {error}.", file=sys.stderr)
        return 1
    print(json.dumps(exec_credential(token, requested_api_version(os.environ), signed_at)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
