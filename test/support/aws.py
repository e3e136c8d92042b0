"""moto server on 127.0.0.1 (a free port), and STS faults scripted in its backend.

The pipe reaches it only through AWS_ENDPOINT_URL, as it would reach any AWS endpoint. Faults are
raised inside moto, so the pipe sees real HTTP error responses.
"""

import contextlib
import json
import logging
import threading
import uuid
from collections.abc import Iterator

from moto.core.exceptions import _RESTError
from moto.server import ThreadedMotoServer
from moto.sts.models import STSBackend

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/deploy"
CHAINED_ROLE_ARN = "arn:aws:iam::210987654321:role/cross-account-deploy"
REGION = "eu-west-1"
# moto takes any keys: these are the test's own view of the server, not the pipe's.
TEST_KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def client(service: str, endpoint_url: str, region: str = REGION, **settings):
    """A boto3 client the test itself uses to arrange or inspect a stand-in's state."""
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=region, **TEST_KEYS, **settings)


def create_distribution(cloudfront, caller_reference: str) -> str:
    """A CloudFront distribution in front of a bucket's /www, for the invalidation tests; its ID."""
    origin = {
        "Id": "s3",
        "DomainName": "site.s3.amazonaws.com",
        "OriginPath": "/www",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    config = {
        "CallerReference": caller_reference,
        "Comment": "site",
        "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "s3",
            "ViewerProtocolPolicy": "allow-all",
            "MinTTL": 0,
            "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
            "TrustedSigners": {"Enabled": False, "Quantity": 0},
        },
    }
    return cloudfront.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def new_distribution(endpoint_url: str):
    """A CloudFront client (CloudFront's region is us-east-1) and a new distribution's ID, for the
    s3-sync and cloudfront-invalidate tests."""
    cloudfront = client("cloudfront", endpoint_url, "us-east-1")
    return cloudfront, create_distribution(cloudfront, uuid.uuid4().hex)


def invalidated_paths(cloudfront, distribution_id: str, invalidation_id: str) -> list[str]:
    """The paths of an invalidation, as CloudFront recorded them."""
    answer = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)
    return answer["Invalidation"]["InvalidationBatch"]["Paths"].get("Items", [])


class MotoServer:
    def __init__(self, port: int = 0) -> None:
        # Port 0: the system picks a free one.
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)

    def start(self) -> "MotoServer":
        # werkzeug's access log would mix into test output; moto's own errors still show.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    @property
    def url(self) -> str:
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def __enter__(self) -> "MotoServer":
        return self.start()

    def __exit__(self, *_exc) -> None:
        self.stop()


class StsError(_RESTError):
    """An STS error response as AWS sends it: an XML ErrorResponse with this status and code."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(code, message)
        self.code = status


def idp_communication_error() -> StsError:
    return StsError(400, "IDPCommunicationError", "The identity provider could not be reached; try again.")


def access_denied() -> StsError:
    return StsError(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def invalid_identity_token() -> StsError:
    return StsError(400, "InvalidIdentityToken", "Incorrect token audience")


def duration_too_long() -> StsError:
    return StsError(
        400,
        "ValidationError",
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
    )


def service_unavailable() -> StsError:
    return StsError(503, "ServiceUnavailable", "Service is unavailable, please retry.")


class StsScript:
    """Records every call to an STS operation and fails the first ones as scripted."""

    def __init__(self, failures: list[Exception]):
        self.failures = list(failures)
        self.calls: list[dict] = []
        self._lock = threading.Lock()

    def next_failure(self, call: dict) -> Exception | None:
        with self._lock:
            self.calls.append(call)
            return self.failures.pop(0) if self.failures else None


@contextlib.contextmanager
def scripted(operation: str, *failures: Exception) -> Iterator[StsScript]:
    """Patch STSBackend.`operation` (assume_role_with_web_identity or assume_role) in this process."""
    script = StsScript(list(failures))
    original = getattr(STSBackend, operation)

    def patched(self, **kwargs):
        failure = script.next_failure(kwargs)
        if failure is not None:
            raise failure
        return original(self, **kwargs)

    setattr(STSBackend, operation, patched)
    try:
        yield script
    finally:
        setattr(STSBackend, operation, original)


def main() -> None:
    """Run the stand-in in the foreground until Ctrl-C (for trying the image by hand)."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(description="Run the local AWS stand-in (moto server) on 127.0.0.1.")
    parser.add_argument("--port", type=int, default=5000)
    arguments = parser.parse_args()
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)  # the server's threads inherit the mask
    with MotoServer(port=arguments.port) as server:
        print(json.dumps({"AWS_ENDPOINT_URL": server.url}), flush=True)
        signal.sigwait(stop_signals)


if __name__ == "__main__":
    main()


def sts_backend():
    """The in-process STS backend that issued the credentials (to know the secrets to look for)."""
    from moto.sts.models import sts_backends

    return sts_backends[ACCOUNT]["aws"]
