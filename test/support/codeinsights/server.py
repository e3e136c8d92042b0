"""The Code Insights stand-in: a forward HTTP proxy on port 29418 (as the Pipelines auth proxy) that
answers Bitbucket's reports API for `http://api.bitbucket.org/2.0/...` itself, as strictly as
Bitbucket documents it (rules.py), and records every request it got for the leak scan.

Each stand-in binds its own loopback address (127.x.y.z) at port 29418, so tests side by side each
have theirs on the port the pipe always uses; `host` goes in BITBUCKET_DOCKER_HOST_INTERNAL.
"""

import errno
import json
import random
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

from test.support import leaks
from test.support.codeinsights import rules

PORT = 29418
API_HOST = "api.bitbucket.org"
_REPORTS = re.compile(
    r"/2\.0/repositories/(?P<workspace>[^/]+)/(?P<repo>[^/]+)/commit/(?P<commit>[^/]+)/reports"
    r"(?:/(?P<report>[^/]+)(?P<annotations>/annotations(?:/(?P<annotation>[^/]+))?)?)?"
)
# Kinds of scripted fault: 'refuse' (nothing listens), 'hang' (a request is never answered), or an
# HTTP status answered to every request.
REFUSE, HANG = "refuse", "hang"


@dataclass
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    status: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class CodeInsightsStandIn:
    """`with CodeInsightsStandIn() as bitbucket:` then BITBUCKET_DOCKER_HOST_INTERNAL=bitbucket.host.
    `bitbucket.reports[(commit, report_id)]` holds each report as stored (with its 'annotations');
    `bitbucket.requests` every request; `bitbucket.fault = REFUSE | HANG | 400 | 500 | None`."""

    def __init__(self, host: str | None = None):
        self.reports: dict[tuple[str, str], dict] = {}
        self.requests: list[Request] = []
        self.fault: str | int | None = None
        self._lock = threading.Lock()
        self._release = threading.Event()  # ends hanging requests when the stand-in stops
        self._server = self._bind(host)
        self.host = self._server.server_address[0]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @staticmethod
    def _bind(host: str | None) -> _Server:
        handler = _handler
        if host is not None:
            return _Server((host, PORT), handler)
        for _attempt in range(50):
            address = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.{random.randint(1, 254)}"
            try:
                return _Server((address, PORT), handler)
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
        raise RuntimeError("no free loopback address for the Code Insights stand-in")

    @property
    def proxy(self) -> str:
        return f"http://{self.host}:{PORT}"

    def __enter__(self) -> "CodeInsightsStandIn":
        self._server.standin = self  # type: ignore[attr-defined]
        leaks.RECEIVERS.append(self.received)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        leaks.RECEIVERS.remove(self.received)
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def refuse(self) -> None:
        """Stop listening: every connection from now on is refused."""
        self._server.shutdown()
        self._server.server_close()

    def received(self):
        """Every request's URL, headers but Authorization (a token sent to Bitbucket is sent on
        purpose) and body, for the leak scan (test/support/leaks.py)."""
        with self._lock:
            requests = list(enumerate(self.requests))
        for number, request in requests:
            headers = {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
            yield (
                (id(self), number),
                f"Code Insights {request.method} {request.url}",
                (lambda r=request, h=headers: f"{r.url}\n{h!r}\n".encode() + r.body),
            )

    def annotations(self, commit: str, report_id: str) -> list[dict]:
        return list(self.reports.get((commit, report_id), {}).get("annotations", {}).values())

    # --- the API ----------------------------------------------------------------------------------
    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, object]:
        request = Request(method, url, headers, body)
        with self._lock:
            self.requests.append(request)
        status, document = self._answer(method, url, body)
        request.status = status
        return status, document

    def _answer(self, method: str, url: str, body: bytes) -> tuple[int, object]:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname != API_HOST or parts.port not in (None, 80):
            return 502, rules.error(f"the auth proxy forwards only http://{API_HOST}, not {url[:80]}")
        if isinstance(self.fault, int):
            return self.fault, rules.error(f"scripted {self.fault}")
        match = _REPORTS.fullmatch(parts.path)
        if match is None:
            return 404, rules.error("no such resource")
        commit, report_id = unquote(match["commit"]), match["report"]
        if report_id is not None:
            report_id = unquote(report_id)
            problem = rules.id_problem(report_id)
            if problem:
                return 400, rules.error(problem)
        try:
            document = json.loads(body) if body else None
        except ValueError:
            return 400, rules.error("the body is not JSON")
        with self._lock:
            return self._route(method, match, commit, report_id, document)

    def _route(self, method, match, commit, report_id, document) -> tuple[int, object]:
        key = (commit, report_id)
        if report_id is None:
            if method != "GET":
                return 405, rules.error("method not allowed")
            values = [r for (c, _), r in self.reports.items() if c == commit]
            return 200, {"values": [_public(r) for r in values], "size": len(values)}
        if match["annotations"] is None:
            if method == "PUT":
                problem = rules.report_problem(document)
                if problem:
                    return 400, rules.error(problem)
                previous = self.reports.get(key, {}).get("annotations", {})
                self.reports[key] = dict(document, annotations=previous)
                return 200, _public(self.reports[key])
            if method == "GET":
                return (
                    (200, _public(self.reports[key]))
                    if key in self.reports
                    else (404, rules.error("no report"))
                )
            if method == "DELETE":
                return (
                    (204, None)
                    if self.reports.pop(key, None) is not None
                    else (404, rules.error("no report"))
                )
            return 405, rules.error("method not allowed")
        stored = self.reports.get(key)
        if stored is None:
            return 404, rules.error(f"no report {report_id} on commit {commit}")
        if method == "POST" and match["annotation"] is None:
            problem = rules.bulk_problem(document)
            if problem:
                return 400, rules.error(problem)
            new = {a["external_id"]: a for a in document}
            if len(set(stored["annotations"]) | set(new)) > rules.MAX_ANNOTATIONS_PER_REPORT:
                return 400, rules.error(rules.TOO_MANY_PER_REPORT)
            stored["annotations"].update(new)
            return 200, document
        if method == "PUT" and match["annotation"] is not None:
            problem = rules.annotation_problem(document)
            if problem:
                return 400, rules.error(problem)
            stored["annotations"][unquote(match["annotation"])] = document
            return 200, document
        return 405, rules.error("method not allowed")


def _public(report: dict) -> dict:
    return {k: v for k, v in report.items() if k != "annotations"}


class _handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_args) -> None:
        pass

    def _serve(self) -> None:
        standin: CodeInsightsStandIn = self.server.standin  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if standin.fault == HANG:
            standin.requests.append(Request(self.command, self.path, dict(self.headers.items()), body, -1))
            standin._release.wait()
            self.close_connection = True
            return
        status, document = standin.answer(self.command, self.path, dict(self.headers.items()), body)
        data = b"" if document is None else json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = _serve


def free_port_is_refused(host: str) -> bool:
    """Whether a connection to `host`:PORT is refused now (for a test of REFUSE)."""
    with socket.socket() as probe:
        probe.settimeout(2)
        return probe.connect_ex((host, PORT)) == errno.ECONNREFUSED
