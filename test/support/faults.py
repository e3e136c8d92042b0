"""A fault-injecting HTTP(S) proxy for the test bench: between the pipe and moto, or any stand-in.

The pipe reaches it as it would reach any endpoint (AWS_ENDPOINT_URL, or a cluster endpoint moto's
EKS hands out). Each eligible request is answered, at the chosen rates, with a fault instead of
being forwarded:

- "500": HTTP 500 with an InternalError body in the service's protocol shape;
- "503": HTTP 503 with no body;
- "slow_down": HTTP 503 with S3's `<Error><Code>SlowDown</Code>` XML body (other AWS services: a
  503 ServiceUnavailable in their shape; Kubernetes: a 503 without Retry-After);
- "throttling": the service's own throttling answer: 400 `Throttling` in an `<ErrorResponse>` (Query
  services: STS, Elastic Beanstalk, CloudFormation; CloudFront's REST-XML), 400
  `{"__type": "ThrottlingException"}` (JSON services), 429 `ThrottlingException` (REST-JSON: EKS),
  503 SlowDown (S3, which throttles that way), 429 `TooManyRequests` Status (Kubernetes);
- "reset": the connection is reset (TCP RST) without an answer;
- "502" and "504": a gateway's Bad Gateway and Gateway Timeout (a load balancer or proxy on the way,
  not the service): an HTML page, as nginx and AWS's own front ends send it, in no service's shape;
- "lost": the request is forwarded and carried out, then the connection is reset before the answer
  reaches the client (a dropped connection on the way back): the client cannot tell the call took
  effect, and its retry repeats a call the server already carried out;
- "silent": the request is read whole and never answered; the connection stays open until the
  proxy closes (an endpoint, or a middlebox, that holds a request: what a client without a read
  timeout, as the CRT S3 client, waits on for ever). Off unless a test asks for it, usually with
  `eligible` choosing the methods (e.g. PUT only, so that the listing before it passes);
- "mid_body": the first MID_BODY_BYTES of a longer body are read, then the proxy stops reading and
  never answers (a connection that dies mid-upload without a reset): the client's writes block once
  the socket buffers are full. A shorter body is held after it, as "silent". Off unless asked for;
- and, on its own roll, added latency before the request goes on.

Every kind but "lost" is made instead of forwarding, so the server never saw the faulted request:
retrying it is always safe, and the end state can be compared exactly. "lost" is off unless a test
asks for it: it is how a non-idempotent call (create, update) gets repeated. Which requests are
eligible is a predicate (`eligible`), because not every client retries everything (see
kubectl_retries).

A test can also script faults (`script`): a request the script names gets its fault whatever the
dice say (say, the answer to the first CreateApplicationVersion lost), so that what a test is about
does not hang on the order of the other requests; `first(kind, wanted)` scripts one such fault.

Deterministic with a seed: a request's roll depends on the seed, its method, path and how many
times the same method and path were seen before — not on thread timing — so a rerun that makes the
same requests gets the same faults. Counters per kind are in `faults`, every fault in `injected`.
"""

import contextlib
import http.client
import json
import random
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

from requests.structures import CaseInsensitiveDict

# Made instead of forwarding: the server never sees the request.
KINDS = ("500", "503", "slow_down", "throttling", "reset")
# Forwarded, carried out, and the answer dropped (rolled after KINDS, so adding it changes no other roll).
LOST = "lost"
ALL_KINDS = (*KINDS, LOST)
# A gateway's answers, made instead of forwarding; rolled after LOST, so adding them changed no
# seed's faults (the mixes above leave them out; a test asks for them by name).
GATEWAY_KINDS = ("502", "504")
# Held without an answer; rolled last, so adding it changed no seed's faults.
SILENT = "silent"
MID_BODY = "mid_body"
EVERY_KIND = (*ALL_KINDS, *GATEWAY_KINDS, SILENT, MID_BODY)
# Read of a body before "mid_body" stops reading it.
MID_BODY_BYTES = 64 * 1024
GATEWAY_REASONS = {"502": "Bad Gateway", "504": "Gateway Timeout"}
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)
# The proxy's own: BaseHTTPRequestHandler sends Date and Server itself, and a second Date makes
# Node's "Date: a, b" that the AWS SDK for JavaScript cannot parse ("Invalid time value").
_SET_BY_THE_PROXY = {"content-length", "date", "server"}
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "expect"}
# Seconds a Kubernetes client is asked to wait after a 429 or 5xx (client-go honours Retry-After).
KUBE_RETRY_AFTER_SECONDS = 1
UPSTREAM_TIMEOUT_SECONDS = 120
_STREAM_BLOCK = 64 * 1024


@dataclass(frozen=True)
class Request:
    """What a predicate sees of a request."""

    method: str
    path: str  # with the query string
    headers: Mapping[str, str]
    body: bytes
    service: str  # "s3", "sts", "cloudfront", "eks", "elasticbeanstalk", ..., "kubernetes", "unknown"


# A predicate says which fault kinds a request may get: True (all), False (none) or the kinds.
Predicate = Callable[[Request], "bool | Collection[str]"]
# A script says which fault an eligible request gets whatever its roll (None: the roll decides).
# Called under the proxy's lock, one request at a time, so a script may count.
Script = Callable[[Request], "str | None"]


def first(kind: str, wanted: Callable[[Request], bool]) -> Script:
    """A script: the fault `kind` for the first eligible request `wanted` picks, none after it."""
    done = []

    def script(request: Request) -> str | None:
        if done or not wanted(request):
            return None
        done.append(request)
        return kind

    return script


def status_body(code: int, reason: str, message: str) -> dict:
    """A Kubernetes Status object, as kube-apiserver answers errors."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }


def everything(_request: Request) -> bool:
    """botocore (standard retry mode) and the pipe's sign-in retry every AWS call on 5xx, throttling
    and connection errors, whatever the method: every request to an AWS stand-in is eligible."""
    return True


# What kubectl (client-go 1.36) and the pipe's authorization doctor retry, as measured through this
# proxy (test/test_faults_e2e.py): a 429 or 5xx that carries Retry-After, for every method (the
# server promises it did nothing); a reset connection only for GET (client-go does not repeat a
# write it cannot know the fate of) and for the doctor's reviews (which change nothing). A 503
# without Retry-After ("slow_down" here) fails kubectl by design: it is never made for Kubernetes.
KUBECTL_RETRIES_ANY_METHOD = ("500", "503", "throttling")
KUBECTL_RETRIES_GET = (*KUBECTL_RETRIES_ANY_METHOD, "reset")


def kubectl_retries(request: Request) -> tuple[str, ...]:
    if request.method == "GET" or "/selfsubject" in request.path:
        return KUBECTL_RETRIES_GET
    return KUBECTL_RETRIES_ANY_METHOD


def service_of(headers: Mapping[str, str], body: bytes, kubernetes: bool) -> str:
    if kubernetes:
        return "kubernetes"
    authorization = headers.get("Authorization", "")
    if "Credential=" in authorization:
        # Credential=AKID/20250101/eu-west-1/s3/aws4_request
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0].split("/")
        if len(scope) >= 4:
            return scope[3]
    if b"Action=AssumeRoleWithWebIdentity" in body:  # the one unsigned call the pipe makes
        return "sts"
    return "unknown"


def _query_error(status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = (
        f"<ErrorResponse><Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type>"
        f"<Code>{code}</Code><Message>{message}</Message></Error>"
        "<RequestId>00000000-0000-4000-8000-fa0170000000</RequestId></ErrorResponse>"
    ).encode()
    return status, [("Content-Type", "text/xml")], body


def _json_error(status: int, code: str, message: str, rest: bool) -> tuple[int, list[tuple[str, str]], bytes]:
    if rest:  # REST-JSON: the code travels in a header
        headers = [("Content-Type", "application/json"), ("x-amzn-ErrorType", code)]
        return status, headers, json.dumps({"message": message}).encode()
    headers = [("Content-Type", "application/x-amz-json-1.1")]
    return status, headers, json.dumps({"__type": code, "message": message}).encode()


def _kube_error(
    status: int, reason: str, message: str, retry_after: bool = True
) -> tuple[int, list[tuple[str, str]], bytes]:
    body = status_body(status, reason, message)
    headers = [("Content-Type", "application/json")]
    if retry_after:
        headers.append(("Retry-After", str(KUBE_RETRY_AFTER_SECONDS)))
    return status, headers, json.dumps(body).encode()


def answer_for(kind: str, request: Request) -> tuple[int, list[tuple[str, str]], bytes]:
    """The fault `kind` as the service of `request` would send it."""
    service = request.service
    if kind in GATEWAY_KINDS:
        title = f"{kind} {GATEWAY_REASONS[kind]}"
        page = (
            f"<html><head><title>{title}</title></head><body><center><h1>{title}</h1></center></body></html>"
        )
        return int(kind), [("Content-Type", "text/html")], page.encode()
    if kind == "503":
        headers = [("Retry-After", str(KUBE_RETRY_AFTER_SECONDS))] if service == "kubernetes" else []
        return 503, headers, b""
    json_target = "X-Amz-Target" in request.headers
    if service == "s3" and kind in ("slow_down", "throttling"):
        return 503, [("Content-Type", "application/xml")], SLOW_DOWN
    if kind == "slow_down":  # S3's way to say "slow down"; other services say it with a plain 503 code
        if service == "kubernetes":
            return _kube_error(
                503,
                "ServiceUnavailable",
                "the server is currently unable to handle the request",
                retry_after=False,
            )
        if json_target or service == "eks":
            return _json_error(
                503, "ServiceUnavailableException", "Service unavailable", rest=not json_target
            )
        return _query_error(503, "ServiceUnavailable", "Service is unavailable, please retry.")
    if kind == "500":
        if service == "kubernetes":
            return _kube_error(500, "InternalError", "Internal error occurred: injected by the fault proxy")
        if service == "s3":
            body = b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
            return 500, [("Content-Type", "application/xml")], body
        if json_target or service == "eks":
            return _json_error(500, "InternalFailure", "injected", rest=not json_target)
        return _query_error(500, "InternalFailure", "injected by the fault proxy")
    if kind == "throttling":
        if service == "kubernetes":
            return _kube_error(429, "TooManyRequests", "too many requests, please try again later")
        if json_target:
            return _json_error(400, "ThrottlingException", "Rate exceeded", rest=False)
        if service == "eks":
            return _json_error(429, "ThrottlingException", "Rate exceeded", rest=True)
        return _query_error(400, "Throttling", "Rate exceeded")
    raise ValueError(f"not an answer: {kind}")


@dataclass
class Rates:
    """Fractions of eligible requests (each attempt rolls anew) faulted, per kind; sum at most 1."""

    http_500: float = 0.0
    http_503: float = 0.0
    slow_down: float = 0.0
    throttling: float = 0.0
    reset: float = 0.0
    lost: float = 0.0
    http_502: float = 0.0
    http_504: float = 0.0
    silent: float = 0.0
    mid_body: float = 0.0
    latency: float = 0.0  # rolled separately: this fraction is delayed by latency_seconds
    latency_seconds: float = 0.2

    def by_kind(self) -> dict[str, float]:
        return dict(
            zip(
                EVERY_KIND,
                (
                    *(self.http_500, self.http_503, self.slow_down, self.throttling, self.reset, self.lost),
                    *(self.http_502, self.http_504, self.silent, self.mid_body),
                ),
                strict=True,
            )
        )

    @property
    def total(self) -> float:
        return sum(self.by_kind().values())

    @classmethod
    def mixed(cls, total: float, kinds=KINDS, latency: float = 0.0) -> "Rates":
        share = total / len(kinds)
        names = {kind: f"http_{kind}" for kind in ("500", "503", *GATEWAY_KINDS)}
        return cls(**{names.get(kind, kind): share for kind in kinds}, latency=latency)


class FaultProxy:
    """A proxy in front of `upstream` (http:// or https://). For an https upstream give `tls`, the
    server's certificate and key (test.support.kube.tls.ServerCredentials, as the control plane's): the proxy then answers
    with the same certificate, so the client's CA check passes, and forwards over TLS."""

    def __init__(
        self,
        upstream: str,
        rates: Rates | None = None,
        *,
        seed: int = 8,
        eligible: Predicate = everything,
        script: Script | None = None,
        tls=None,
        delay_seconds: float = 0.0,
    ):
        self.upstream = urlparse(upstream)
        self.rates = rates or Rates()
        self.seed = seed
        self.eligible = eligible
        self.script = script
        self.delay_seconds = delay_seconds
        self.lock = threading.Lock()
        self.faults: Counter = Counter({kind: 0 for kind in (*EVERY_KIND, "latency")})
        self.requests = 0  # every request received
        self.eligible_requests = 0
        # (method, path) of every eligible request that reached the upstream, in arrival order.
        self.log: list[tuple[str, str]] = []
        # (method, path, kind) of every fault made.
        self.injected: list[tuple[str, str, str]] = []
        self._seen: Counter = Counter()
        # Set on close: what releases the requests held by "silent".
        self._closing = threading.Event()
        self._tls = tls
        self._upstream_context = None
        if self.upstream.scheme == "https":
            self._upstream_context = ssl.create_default_context()
            if tls is not None:
                self._upstream_context.load_verify_locations(cadata=tls.ca_pem)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        if tls is not None:
            self._server.socket = tls.ssl_context().wrap_socket(self._server.socket, server_side=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{'https' if self._tls else 'http'}://{host}:{port}"

    def __enter__(self) -> "FaultProxy":
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()

    def summary(self) -> str:
        made = ", ".join(f"{kind} {count}" for kind, count in self.faults.items() if count)
        total = sum(count for kind, count in self.faults.items() if kind != "latency")
        return (
            f"{total} faults in {self.eligible_requests} eligible of {self.requests} requests"
            f" ({made or 'none'})"
        )

    def _roll(self, request: Request) -> tuple[bool, str | None, bool]:
        """(eligible, fault kind or None, delayed) for this request.

        A function of the seed, the method, the path (without its query string, which holds
        signatures and random timeouts) and how often that method and path were seen before: so
        concurrent requests to different paths get the same faults in any order. A scripted fault
        takes the roll's place (the request is counted all the same: no other roll moves)."""
        allowed = self.eligible(request)
        key = (request.method, request.path.split("?", 1)[0])
        with self.lock:
            self.requests += 1
            if not allowed:
                return False, None, False
            self.eligible_requests += 1
            self._seen[key] += 1
            nth = self._seen[key]
            scripted = self.script(request) if self.script else None
        dice = random.Random(f"{self.seed}|{key[0]}|{key[1]}|{nth}")
        roll, delay_roll = dice.random(), dice.random()
        chosen = scripted or self._kind_rolled(roll, allowed)
        delayed = delay_roll < self.rates.latency
        with self.lock:
            if chosen:
                self.faults[chosen] += 1
                self.injected.append((request.method, request.path, chosen))
            if delayed:
                self.faults["latency"] += 1
        return True, chosen, delayed

    def _kind_rolled(self, roll: float, allowed: "bool | Collection[str]") -> str | None:
        threshold = 0.0
        for kind, rate in self.rates.by_kind().items():
            if allowed is not True and kind not in allowed:
                continue
            threshold += rate
            if roll < threshold:
                return kind
        return None

    def _handler(self):
        proxy = self
        kubernetes = self._tls is not None

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def handle(self) -> None:
                with contextlib.suppress(ssl.SSLError, ConnectionError, OSError):
                    super().handle()

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    self.rfile.readline()
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _relay(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                stoppable = proxy.rates.mid_body and length > MID_BODY_BYTES
                # Rolled on the part read so far when the body may be stopped in: the rest is read only
                # if the roll lets it through.
                body = self.rfile.read(MID_BODY_BYTES) if stoppable else self._body()
                # HTTP header names are case-insensitive: Node's AWS SDK sends them in lower case.
                headers = CaseInsensitiveDict(self.headers.items())
                request = Request(
                    self.command, self.path, headers, body, service_of(headers, body, kubernetes)
                )
                eligible, fault, delayed = proxy._roll(request)
                if stoppable and fault != MID_BODY:
                    body += self.rfile.read(length - len(body))
                if delayed:
                    time.sleep(proxy.rates.latency_seconds)
                if fault == "reset":
                    self._reset()
                    return
                if fault in (SILENT, MID_BODY):
                    proxy._closing.wait(UPSTREAM_TIMEOUT_SECONDS)
                    self._reset()
                    return
                if fault == LOST:
                    with proxy.lock:
                        proxy.log.append((self.command, self.path))
                    self._forward(body, answer=False)
                    self._reset()
                    return
                if fault:
                    self._answer(*answer_for(fault, request))
                    return
                if eligible:
                    if proxy.delay_seconds:
                        time.sleep(proxy.delay_seconds)
                    with proxy.lock:
                        proxy.log.append((self.command, self.path))
                self._forward(body)

            def _reset(self) -> None:
                # SO_LINGER 0: the close sends RST, as a dropped connection does.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

            def _forward(self, body: bytes, answer: bool = True) -> None:
                host, port = proxy.upstream.hostname, proxy.upstream.port
                if proxy._upstream_context is not None:
                    upstream = http.client.HTTPSConnection(
                        host, port, timeout=UPSTREAM_TIMEOUT_SECONDS, context=proxy._upstream_context
                    )
                else:
                    upstream = http.client.HTTPConnection(host, port, timeout=UPSTREAM_TIMEOUT_SECONDS)
                try:
                    headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                    if body or self.command in ("POST", "PUT", "PATCH"):
                        headers["Content-Length"] = str(len(body))
                    upstream.request(self.command, self.path, body=body or None, headers=headers)
                    response = upstream.getresponse()
                    if not answer:  # carried out upstream; the answer goes nowhere
                        response.read()
                        return
                    passed = [
                        (k, v)
                        for k, v in response.getheaders()
                        if k.lower() not in _HOP_BY_HOP | _SET_BY_THE_PROXY
                    ]
                    if self.command == "HEAD":  # no body, and the length is the object's
                        self._answer(
                            response.status, passed, response.read(), response.getheader("Content-Length")
                        )
                    elif response.getheader("Content-Length") is not None:
                        self._answer(response.status, passed, response.read())
                    else:  # a stream (a Kubernetes watch): pass each piece on as it comes
                        self._stream(response, passed)
                finally:
                    upstream.close()

            def _answer(self, status: int, headers, data: bytes, length: str | None = None) -> None:
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", length if length is not None else str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.close_connection = True

            def _stream(self, response, headers) -> None:
                self.send_response(response.status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.flush()
                self.close_connection = True
                try:
                    while piece := response.read1(_STREAM_BLOCK):
                        self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        self.wfile.flush()
                except (http.client.HTTPException, ValueError):
                    return  # the upstream broke its stream off: so does the proxy, without the last chunk
                self.wfile.write(b"0\r\n\r\n")

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = _relay

        return Handler


# "job: what was injected" for each run through a proxy that asked to be reported, in this session.
FIGURES: list[str] = []


def report(job: str, *proxies: FaultProxy) -> None:
    FIGURES.append(f"{job}: " + "; ".join(proxy.summary() for proxy in proxies))


class FaultyProxy(FaultProxy):
    """S3 faults for one bucket (the first form of this proxy, as test/jobs/test_s3_sync.py uses it):
    `rate` split evenly between 503 SlowDown and resets, `delay_seconds` before each bucket request."""

    def __init__(
        self, upstream: str, bucket: str, rate: float = 0.1, delay_seconds: float = 0.0, seed: int = 6
    ):
        self.bucket = bucket
        super().__init__(
            upstream,
            Rates(slow_down=rate / 2, reset=rate / 2),
            seed=seed,
            eligible=lambda request: request.path.startswith(f"/{bucket}"),
            delay_seconds=delay_seconds,
        )
