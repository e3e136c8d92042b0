import base64
import stat
import sys

import yaml

from pipe.kube import kubeconfig

CA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()


def test_kubeconfig_is_private_and_holds_no_secret(tmp_path):
    path = kubeconfig.write(tmp_path, "prod", "eu-west-1", "https://ABC.gr7.eu-west-1.eks.amazonaws.com", CA)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = yaml.safe_load(path.read_text())
    assert config["clusters"][0]["cluster"] == {
        "server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com",
        "certificate-authority-data": CA,
    }
    user = config["users"][0]["user"]
    assert set(user) == {"exec"}
    assert user["exec"]["command"] == sys.executable
    assert user["exec"]["args"] == [
        "-P",
        "-m",
        "pipe.kube.eks_token",
        "--cluster",
        "prod",
        "--region",
        "eu-west-1",
    ]
    assert user["exec"]["apiVersion"] == "client.authentication.k8s.io/v1"
    assert config["current-context"] == kubeconfig.CONTEXT


def test_ca_is_written_as_pem(tmp_path):
    assert kubeconfig.write_ca(tmp_path, CA).read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
