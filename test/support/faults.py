"""A fault-injecting HTTP proxy in front of the moto server, for S3's bad days.

The pipe reaches it through AWS_ENDPOINT_URL as it would any endpoint. Requests for one bucket
are answered, at the chosen rate, with 503 SlowDown or a reset connection (no response at all);
everything else (sign-in, CloudFront) passes through untouched. `delay_seconds` slows every bucket
request, so that a test can stop the pipe half way.
"""

import http.client
import random
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection"}


class FaultyProxy:
    def __init__(
        self, upstream: str, bucket: str, rate: float = 0.1, delay_seconds: float = 0.0, seed: int = 6
    ):
        self.upstream = urlparse(upstream)
        self.bucket = bucket
        self.rate = rate
        self.delay_seconds = delay_seconds
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.faults = {"slow_down": 0, "reset": 0}
        self.requests = 0
        # (method, path) of every bucket request that reached the server, in arrival order.
        self.log: list[tuple[str, str]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FaultyProxy":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _fault(self, path: str) -> str | None:
        if not path.startswith(f"/{self.bucket}"):
            return None
        with self.lock:
            self.requests += 1
            roll = self.random.random()
            if roll < self.rate / 2:
                self.faults["slow_down"] += 1
                return "slow_down"
            if roll < self.rate:
                self.faults["reset"] += 1
                return "reset"
        return None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                fault = proxy._fault(self.path)
                if fault == "reset":
                    # SO_LINGER 0: the close sends RST, as a dropped connection does.
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    return
                if fault == "slow_down":
                    self._answer(503, [("Content-Type", "application/xml")], SLOW_DOWN)
                    return
                if self.path.startswith(f"/{proxy.bucket}"):
                    if proxy.delay_seconds:
                        threading.Event().wait(proxy.delay_seconds)
                    with proxy.lock:
                        proxy.log.append((self.command, self.path))
                upstream = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP | {"expect"}}
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                data = response.read()
                upstream.close()
                passed = [
                    (k, v)
                    for k, v in response.getheaders()
                    if k.lower() not in _HOP_BY_HOP | {"content-length"}
                ]
                self._answer(response.status, passed, data)

            def _answer(self, status: int, headers, data: bytes) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.close_connection = True

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _relay

        return Handler
