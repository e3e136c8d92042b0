"""The EKS cluster: where its API server is and which CA signs it, from DescribeCluster."""

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from pipe.aws import errors
from pipe.common.errors import PipeError
from pipe.signin import Identity


@dataclass(frozen=True)
class Cluster:
    name: str
    endpoint: str
    certificate_authority: str  # base64 PEM, as kubeconfig's certificate-authority-data wants it
    version: str


def _clusters_in_region(eks: Any) -> str:
    try:
        names = eks.list_clusters()["clusters"]
    except (ClientError, BotoCoreError):
        return ""  # not allowed to list: say nothing rather than guess
    return f" Clusters there: {', '.join(names)}." if names else " There is no cluster there."


def describe(identity: Identity, name: str) -> Cluster:
    eks = identity.client("eks")
    try:
        answer = eks.describe_cluster(name=name)["cluster"]
    except ClientError as error:
        if errors.is_not_found(error):
            raise PipeError(
                f"EKS cluster {name!r} was not found in {identity.region}.{_clusters_in_region(eks)} "
                "Check CLUSTER_NAME and AWS_DEFAULT_REGION."
            ) from None
        if errors.is_access_denied(error):
            raise PipeError(errors.access_denied_line(error, f"cluster {name!r}", "eks")) from None
        raise PipeError(f"EKS DescribeCluster {name!r} failed: {errors.summary(error)}") from None
    except BotoCoreError as error:
        raise PipeError(f"Could not reach EKS in {identity.region}: {error}.") from None
    status = answer.get("status")
    if status != "ACTIVE":
        raise PipeError(f"EKS cluster {name!r} is {status}, not ACTIVE: deploy once it is ACTIVE.")
    endpoint = answer.get("endpoint")
    certificate_authority = (answer.get("certificateAuthority") or {}).get("data")
    if not endpoint or not certificate_authority:
        raise PipeError(f"EKS cluster {name!r} reports no API endpoint or certificate authority yet.")
    return Cluster(name, endpoint, certificate_authority, str(answer.get("version", "")))
