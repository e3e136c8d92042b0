"""The control plane's throwaway keys and certificates, written to one directory per cluster.

One CA signs the API server's serving certificate and the client certificates the components (and
the tests' admin client) present; the service-account key signs the tokens the API server issues to
pods. Nothing here is an AWS credential: the pipe authenticates with an EKS token, through the
TokenReview webhook, as on EKS.
"""

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from test.support.kube.tls import ServerCredentials

# The first address of --service-cluster-ip-range: the API server's own Service (kubernetes.default).
SERVICE_IP = "10.96.0.1"
# Client certificates: (file stem, common name = user, organization = group).
CLIENTS = (
    ("admin", "bench-admin", "system:masters"),
    ("controller-manager", "system:kube-controller-manager", None),
    ("scheduler", "system:kube-scheduler", None),
    ("kwok", "bench-kwok", "system:masters"),
)


@dataclass(frozen=True)
class Files:
    directory: Path

    def path(self, name: str) -> Path:
        return self.directory / name

    @property
    def ca(self) -> Path:
        return self.path("ca.crt")


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common_name: str, organization: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    return x509.Name(attributes)


def _builder(subject: x509.Name, issuer: x509.Name, public_key) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=2))
    )


def write(directory: Path, cluster_name: str) -> tuple[Files, ServerCredentials]:
    """Make the CA, the serving and client certificates and the service-account key in `directory`;
    return their paths and the serving credentials (for a proxy that must answer as the server)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = _key()
    ca_name = _name(f"aws-oidc-deploy-bench-ca-{cluster_name}")
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    authority = x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key())

    def issue(stem: str, subject: x509.Name, usage, names=()) -> tuple[bytes, bytes]:
        key = _key()
        builder = (
            _builder(subject, ca_name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(authority, critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(names)), critical=False)
        cert_pem, key_pem = _pem_cert(builder.sign(ca_key, hashes.SHA256())), _pem_key(key)
        (directory / f"{stem}.crt").write_bytes(cert_pem)
        (directory / f"{stem}.key").write_bytes(key_pem)
        return cert_pem, key_pem

    ca_pem = _pem_cert(ca_cert)
    (directory / "ca.crt").write_bytes(ca_pem)
    (directory / "ca.key").write_bytes(_pem_key(ca_key))
    serving = issue(
        "apiserver",
        _name("kube-apiserver"),
        ExtendedKeyUsageOID.SERVER_AUTH,
        [
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address(SERVICE_IP)),
            x509.DNSName("localhost"),
            x509.DNSName("kubernetes.default.svc"),
        ],
    )
    for stem, user, group in CLIENTS:
        issue(stem, _name(user, group), ExtendedKeyUsageOID.CLIENT_AUTH)
    service_accounts = _key()
    (directory / "service-account.key").write_bytes(_pem_key(service_accounts))
    (directory / "service-account.pub").write_bytes(
        service_accounts.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    credentials = ServerCredentials(
        ca_pem=ca_pem.decode(), cert_pem=serving[0].decode(), key_pem=serving[1].decode()
    )
    return Files(directory), credentials


def kubeconfig(files: Files, server: str, client: str) -> Path:
    """A kubeconfig for a component or the admin client: the CA and one client certificate."""
    import yaml

    path = files.path(f"{client}.kubeconfig")
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "bench", "cluster": {"server": server, "certificate-authority": str(files.ca)}}
        ],
        "users": [
            {
                "name": client,
                "user": {
                    "client-certificate": str(files.path(f"{client}.crt")),
                    "client-key": str(files.path(f"{client}.key")),
                },
            }
        ],
        "contexts": [{"name": "bench", "context": {"cluster": "bench", "user": client}}],
        "current-context": "bench",
    }
    path.write_text(yaml.safe_dump(config))
    return path
