"""COMMAND: kubectl (front module: job.py) and its helpers: the EKS cluster and token, the
kubeconfig, manifests, labels and the authorization doctor.

Kept empty: kubectl runs `python -m pipe.jobs.kubectl.eks_token` for every token, which imports
this package first.
"""
