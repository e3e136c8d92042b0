"""COMMAND: helm — Helm 4 releases on EKS (front module: job.py)."""
