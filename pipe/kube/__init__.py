"""What the Kubernetes jobs (kubectl, helm) share: the EKS cluster, the kubeconfig with the pipe's
in-process token plugin, the authorization doctor, manifests, labels and rollout waits.

Kept empty: kubectl runs `python -m pipe.kube.eks_token` for every token, which imports this package
first; it must not load the sign-in or the SDK with it.
"""
