"""The helm job's test bench: Helm and an OCI registry built from the Go module proxy (build.sh, cached
like the control plane), a chart repository (index.yaml and archives over HTTPS, repository.py), and
one throwaway CA both serve with, which Helm trusts through SSL_CERT_FILE (Go reads it on Linux)."""

import datetime
import ipaddress
import os
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HERE = Path(__file__).resolve().parent
BUILD_LIMIT_SECONDS = 3600


def binaries() -> Path:
    """The directory holding helm and oci-registry (built once per version; cached afterwards)."""
    completed = subprocess.run(
        [str(HERE / "build.sh"), "--quiet"],
        capture_output=True,
        text=True,
        timeout=BUILD_LIMIT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"test/support/helm/build.sh failed:\n{completed.stderr[-4000:]}")
    return Path(completed.stdout.strip().splitlines()[-1])


class Certificates:
    """A CA and a serving certificate for 127.0.0.1 and localhost, written to `directory`."""

    def __init__(self, directory: Path):
        directory.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "helm bench CA")])
        ca = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        self.ca = directory / "ca.pem"
        self.cert = directory / "server.pem"
        self.key = directory / "server-key.pem"
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        self.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


def helm_environment(bin_dir: Path, home: Path, certificates: Certificates) -> dict[str, str]:
    """For the tests' own helm (packaging, pushing): isolated homes, the bench CA."""
    return {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": str(home),
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "SSL_CERT_FILE": str(certificates.ca),
    }


def helm(bin_dir: Path, env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    completed = subprocess.run(
        [str(bin_dir / "helm"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"helm {' '.join(args[:2])} failed: {completed.stderr[-2000:]}")
    return completed.stdout


def package(bin_dir: Path, env: dict[str, str], chart: Path, destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    output = helm(bin_dir, env, "package", str(chart), "--destination", str(destination))
    return Path(output.strip().rsplit(": ", 1)[-1])
