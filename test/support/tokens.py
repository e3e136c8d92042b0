"""Sample Bitbucket OIDC tokens: RS256-signed JWTs with the claim shapes Bitbucket issues.

`python -m test.support.tokens` prints one (for `make sample-token` and local `docker run`).
"""

import argparse
import base64
import json
import time
import uuid
from functools import cache

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

WORKSPACE = "sample-workspace"
WORKSPACE_UUID = "{6f1c3c2e-2f5b-4d4c-9a57-3d0c9a7e1b11}"
REPOSITORY_UUID = "{0d3b9a44-6e58-4a3c-8a83-2b8f6e0d7c21}"
ENVIRONMENT_UUID = "{9e2a7f10-51c4-4b7e-bf0d-7c1f3e5a9d42}"
ISSUER = f"https://api.bitbucket.org/2.0/workspaces/{WORKSPACE}/pipelines-config/identity/oidc"
AUDIENCE = f"ari:cloud:bitbucket::workspace/{WORKSPACE_UUID.strip('{}')}"
# Bitbucket's tokens live for about an hour.
LIFETIME_SECONDS = 3600


@cache
def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(
    *,
    environment: bool = True,
    expires_in: int = LIFETIME_SECONDS,
    issued_ago: int = 0,
    branch: str = "main",
    **overrides,
) -> dict:
    now = int(time.time())
    step = "{" + str(uuid.uuid4()) + "}"
    subject = f"{REPOSITORY_UUID}:{ENVIRONMENT_UUID}:{step}" if environment else f"{REPOSITORY_UUID}:{step}"
    values = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "iat": now - issued_ago,
        "exp": now + expires_in,
        "stepUuid": step,
        "pipelineUuid": "{" + str(uuid.uuid4()) + "}",
        "workspaceUuid": WORKSPACE_UUID,
        "repositoryUuid": REPOSITORY_UUID,
        "branchName": branch,
    }
    if environment:
        values["deploymentEnvironmentUuid"] = ENVIRONMENT_UUID
    values.update(overrides)
    return values


def sign(payload: dict) -> str:
    header = {"alg": "RS256", "typ": "JWT", "kid": "sample-key"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = _key().sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64(signature)}"


def make_token(**options) -> str:
    return sign(claims(**options))


def public_key_pem() -> str:
    return (
        _key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Print a sample Bitbucket OIDC token (signed by a throwaway key)."
    )
    parser.add_argument(
        "--expires-in", type=int, default=LIFETIME_SECONDS, help="seconds until exp (negative: expired)"
    )
    parser.add_argument(
        "--no-environment", action="store_true", help="a step without a deployment environment"
    )
    parser.add_argument("--claims", action="store_true", help="print the claims instead of the token")
    arguments = parser.parse_args()
    payload = claims(environment=not arguments.no_environment, expires_in=arguments.expires_in)
    print(json.dumps(payload, indent=2) if arguments.claims else sign(payload))


if __name__ == "__main__":
    main()
