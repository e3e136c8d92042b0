"""A server's TLS credentials (CA, certificate, key) and the SSL context to answer as that server:
the fault proxy in front of kube-apiserver uses the API server's own (test/support/controlplane/pki.py)."""

import os
import ssl
import tempfile
from dataclasses import dataclass


@dataclass(frozen=True)
class ServerCredentials:
    ca_pem: str
    cert_pem: str
    key_pem: str

    def ssl_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        # No h2: the fault proxy speaks HTTP/1.1 only.
        context.set_alpn_protocols(["http/1.1"])
        descriptor, path = tempfile.mkstemp(suffix=".pem")
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(self.cert_pem + self.key_pem)
            context.load_cert_chain(path)
        finally:
            os.unlink(path)
        return context
