"""The helm job's bench for its end-to-end tests: Helm and the OCI registry (built once, cached), the
bench CA, the sample chart in the clone, and the happy-path environment."""

import shutil
from pathlib import Path

import pytest

from test.support import aws
from test.support import helm as bench

CHARTS = Path(__file__).resolve().parent / "charts"


@pytest.fixture(scope="session")
def helm_bin():
    return bench.binaries()


@pytest.fixture(scope="session")
def certificates(tmp_path_factory):
    return bench.Certificates(tmp_path_factory.mktemp("helm-bench-ca"))


@pytest.fixture
def tools_env(helm_bin, certificates, tmp_path):
    """For the tests' own helm (package, push, repo index)."""
    return bench.helm_environment(helm_bin, tmp_path / "tools-home", certificates)


@pytest.fixture
def cluster(eks_cluster):
    """The deploy role mapped to user 'deployer', with AmazonEKSClusterAdminPolicy's rights."""
    eks_cluster.allow(aws.ROLE_ARN)
    eks_cluster.grant_cluster_admin()
    return eks_cluster


@pytest.fixture
def helm_env(pipe_env, clone_dir, helm_bin, certificates, eks_cluster):
    shutil.copytree(CHARTS / "web", clone_dir / "charts" / "web")
    return pipe_env | {
        "COMMAND": "helm",
        "CLUSTER_NAME": "prod",
        "RELEASE_NAME": "web",
        "CHART": "charts/web",
        "NAMESPACE": eks_cluster.namespace,
        "WAIT_TIMEOUT": "60",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "BITBUCKET_COMMIT": "4f2c1a9d0b8e",
        "PATH": f"{helm_bin}:{pipe_env['PATH']}",
        # Go reads the trusted CAs from here: the bench's repository and registry serve with its CA.
        "SSL_CERT_FILE": str(certificates.ca),
    }
