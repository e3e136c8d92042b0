"""Point moto's in-process EKS backend at a stand-in: DescribeCluster then returns its endpoint and CA."""

import base64

from .server import KubeStandIn

DEFAULT_ACCOUNT = "123456789012"


def register_cluster(
    cluster_name: str, region: str, standin: KubeStandIn, account: str = DEFAULT_ACCOUNT
) -> None:
    """Create the cluster in moto's EKS backend if needed; set its endpoint to standin.url and its
    certificateAuthority.data to base64(standin.ca_pem)."""
    from moto.eks.models import eks_backends

    backend = eks_backends[account][region]
    if cluster_name not in backend.clusters:
        backend.create_cluster(
            name=cluster_name,
            role_arn=f"arn:aws:iam::{account}:role/eks-cluster-role",
            resources_vpc_config={"subnetIds": [], "securityGroupIds": []},
        )
    cluster = backend.clusters[cluster_name]
    cluster.endpoint = standin.url
    cluster.certificate_authority = {"data": base64.b64encode(standin.ca_pem.encode()).decode()}


def unregister_cluster(cluster_name: str, region: str, account: str = DEFAULT_ACCOUNT) -> None:
    """Remove the cluster from moto's EKS backend again (so ListClusters in other tests does not see it)."""
    from moto.eks.models import eks_backends

    eks_backends[account][region].clusters.pop(cluster_name, None)
