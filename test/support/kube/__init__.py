"""A Kubernetes API server stand-in for the real kubectl: EKS-style token authentication, access
entries, discovery, OpenAPI v3, stateful CRUD with patches and server-side apply, watches, and a toy
controller that completes rollouts. `register_cluster` points moto's EKS DescribeCluster at it."""

from .eks import register_cluster, unregister_cluster
from .server import KubeStandIn
from .tokens import mint_token

__all__ = ["KubeStandIn", "mint_token", "register_cluster", "unregister_cluster"]
