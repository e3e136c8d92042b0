"""What remains of the Kubernetes stand-in now that the tests run a real control plane
(test/support/controlplane): the EKS token verifier its webhook uses, a token maker for tests, TLS
credentials for proxies, and the sample application. See README.md for why these stay."""

from .tokens import mint_token

__all__ = ["mint_token"]
