"""pytest fixtures: one control plane for the whole session (it starts in seconds, not per test),
and per test a ClusterAccess with its own namespace, access entries and RBAC bindings.
Loaded by test/conftest.py."""

import contextlib

import pytest

from test.support import aws

from . import FIGURES, ControlPlane, binaries
from .access import ClusterAccess


@pytest.fixture(scope="session")
def control_plane(tmp_path_factory):
    with ControlPlane("prod", binaries(), tmp_path_factory.mktemp("controlplane")) as plane:
        yield plane
        memory = plane.memory_megabytes()
        FIGURES.append(
            f"ready in {plane.figures['ready_seconds']:.1f} s (kube-apiserver /readyz after "
            f"{plane.figures['apiserver_ready_seconds']:.1f} s); resident at the end: {sum(memory.values()):.0f} MB ("
            + ", ".join(f"{name} {megabytes:.0f}" for name, megabytes in memory.items())
            + ")"
        )


@pytest.fixture
def cluster_access(control_plane, moto_server):
    """make(name="prod", namespace=None) -> ClusterAccess: an EKS cluster of that name in moto, served
    by the control plane, with a namespace of the test's own; undone at the end of the test."""
    with contextlib.ExitStack() as stack:

        def make(name: str = "prod", namespace: str | None = None) -> ClusterAccess:
            access = ClusterAccess(control_plane, name, aws.REGION, aws.ACCOUNT, namespace)
            return stack.enter_context(access)

        yield make


@pytest.fixture
def eks_cluster(cluster_access):
    """EKS cluster 'prod' in moto, served by the real control plane; the deploy role is not mapped yet."""
    return cluster_access()
