"""A Helm chart repository over HTTPS: index.yaml and the chart archives from one directory, with
optional Basic auth; every request's path and headers are kept (the leak scan reads them)."""

import base64
import hmac
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from test.support import leaks
from test.support.helm import Certificates


class ChartRepository:
    def __init__(self, root: Path, certificates: Certificates, auth: tuple[str, str] | None = None):
        self.root = root
        self.auth = auth
        self.received: list[str] = []
        repository = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                repository.received.append(f"GET {self.path}\n{self.headers}")
                if repository.auth is not None:
                    expected = base64.b64encode(":".join(repository.auth).encode()).decode()
                    given = self.headers.get("Authorization", "")
                    if not hmac.compare_digest(given, f"Basic {expected}"):
                        self.send_response(401)
                        self.send_header("WWW-Authenticate", 'Basic realm="charts"')
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                name = self.path.split("?")[0].lstrip("/")
                path = (repository.root / name).resolve()
                if "/" in name or not path.is_file() or path.parent != repository.root.resolve():
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificates.cert, certificates.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _received(self):
        for index, request in enumerate(list(self.received)):
            yield (("chart-repository", id(self), index), f"the chart repository {self.url}", request.encode)

    def __enter__(self) -> "ChartRepository":
        self.thread.start()
        leaks.RECEIVERS.append(self._received)  # the leak scan reads every request that reached it
        return self

    def __exit__(self, *_exc) -> None:
        leaks.RECEIVERS.remove(self._received)
        self.server.shutdown()
        self.server.server_close()
