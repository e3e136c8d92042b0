"""A real Kubernetes control plane for the tests (kube-apiserver, kube-controller-manager,
kube-scheduler, etcd, and kwok for the nodes) with an EKS-shaped token webhook. See README.md."""

import subprocess
from pathlib import Path

from .cluster import ControlPlane

BUILD_SCRIPT = Path(__file__).with_name("build.sh")
# Lines for the session summary (test/conftest.py prints them): start-up time and memory.
FIGURES: list[str] = []

__all__ = ["ControlPlane", "binaries"]


def binaries() -> Path:
    """The directory of the control plane's binaries: from the cache, or built now (`make test`
    builds them before pytest starts, so this is the cache's answer there). Never skipped: a
    failed build fails the tests that need it, with the build's output."""
    completed = subprocess.run([str(BUILD_SCRIPT), "--quiet"], capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"{BUILD_SCRIPT} failed:\n{completed.stdout}\n{completed.stderr[-4000:]}")
    return Path(completed.stdout.strip().splitlines()[-1])
