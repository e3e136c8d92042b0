"""The kubeconfig kubectl uses: no secret in it, tokens from the pipe's exec plugin (pipe.kube.eks_token)."""

import base64
import os
import sys
from pathlib import Path

import yaml

from pipe.kube.eks_token import EXEC_API_VERSIONS

CONTEXT = "aws-oidc-deploy"
FILE_MODE = 0o600


def write(directory: Path, cluster: str, region: str, endpoint: str, certificate_authority: str) -> Path:
    """Write `directory`/kubeconfig for `cluster`; `certificate_authority` is base64 PEM as EKS returns it."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority},
            }
        ],
        "users": [
            {
                "name": CONTEXT,
                "user": {
                    "exec": {
                        "apiVersion": EXEC_API_VERSIONS[0],
                        # -P: a `pipe/` folder in the user's repository (kubectl's working directory)
                        # must not shadow the package.
                        "command": sys.executable,
                        "args": [
                            "-P",
                            "-m",
                            "pipe.kube.eks_token",
                            "--cluster",
                            cluster,
                            "--region",
                            region,
                        ],
                        "interactiveMode": "Never",
                        "provideClusterInfo": False,
                    }
                },
            }
        ],
        "contexts": [{"name": CONTEXT, "context": {"cluster": cluster, "user": CONTEXT}}],
        "current-context": CONTEXT,
    }
    path = directory / "kubeconfig"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(descriptor, "w") as handle:
        yaml.safe_dump(config, handle, sort_keys=False)
    return path


def write_ca(directory: Path, certificate_authority: str) -> Path:
    path = directory / "cluster-ca.crt"
    path.write_bytes(base64.b64decode(certificate_authority))
    return path
