"""The HTTPS server: authentication, authorization, routing, JSON responses and watch streams."""

import base64
import contextlib
import hashlib
import json
import logging
import select
import socket
import ssl
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from test.support import leaks

from . import api as api_module
from . import auth, discovery, errors, openapi, proto
from .api import Api
from .controller import Controller
from .resources import Kind, by_path
from .store import Store
from .tls import make_credentials

log = logging.getLogger(__name__)

VERSION = {
    "major": "1",
    "minor": "36",
    "emulationMajor": "1",
    "emulationMinor": "36",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "35",
    "gitVersion": "v1.36.3-eks-standin",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-01T00:00:00Z",
    "goVersion": "go1.25.3",
    "compiler": "gc",
    "platform": "linux/amd64",
}
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")
REVIEW_RESOURCES = ("selfsubjectreviews", "selfsubjectaccessreviews", "selfsubjectrulesreviews")
DEFAULT_WATCH_SECONDS = 1800


class KubeStandIn:
    """A stateful Kubernetes API server stand-in on https://127.0.0.1:<free port> (see package docstring)."""

    def __init__(
        self, cluster_name: str, *, token_lifetime_seconds: float = 900.0, rollout_delay_seconds: float = 0.5
    ) -> None:
        self.cluster_name = cluster_name
        self.token_lifetime_seconds = token_lifetime_seconds
        self.rollout_delay_seconds = rollout_delay_seconds
        self.never_ready_images: set[str] = set()
        # Ends every watch after this many seconds (None: when the client's timeoutSeconds says). A real
        # server ends watches too; the client then opens a new one, with a fresh token if its old one expired.
        self.max_watch_seconds: float | None = None
        self.requests: list[dict] = []
        self.tokens_seen: list[dict] = []
        self._seen_outcomes: set[tuple] = set()
        self._log_lock = threading.Lock()
        self._credentials = make_credentials(cluster_name)
        self.ca_pem: str = self._credentials.ca_pem
        self._entries = auth.AccessEntries()
        self.store = Store()
        self.api = Api(self.store)
        self.controller = Controller(
            self.api, lambda: self.rollout_delay_seconds, lambda: set(self.never_ready_images)
        )
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "KubeStandIn":
        server = _Server(("127.0.0.1", 0), _Handler)
        server.standin = self
        server.ssl_context = self._credentials.ssl_context()
        self._server = server
        self.url = f"https://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="kube-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
        self.store.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.close_connections()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "KubeStandIn":
        leaks.RECEIVERS.append(self.received)
        return self.start()

    def __exit__(self, *_exc) -> None:
        leaks.RECEIVERS.remove(self.received)
        self.stop()

    def received(self):
        """What the pipe made the cluster store (for the leak scan): each object as JSON."""
        with self.store._condition:
            stored = list(self.store._objects.items())
        for key, obj in stored:
            version = obj.get("metadata", {}).get("resourceVersion")
            yield (
                (id(self), key, version),
                f"cluster {self.cluster_name}: {'/'.join(filter(None, key))}",
                (lambda obj=obj: json.dumps(obj).encode()),
            )

    # ------------------------------------------------------------ access entries

    def allow(
        self, role_arn: str, username: str = "deployer", groups=("system:masters",), *, verbs=None
    ) -> None:
        self._entries.allow(role_arn, username, groups, verbs)

    def revoke(self, role_arn: str) -> None:
        self._entries.revoke(role_arn)

    # ------------------------------------------------------------ inspection

    def object(
        self, group: str, version: str, resource: str, namespace: str | None, name: str
    ) -> dict | None:
        kind = by_path(group, version, resource)
        if kind is None:
            raise KeyError(f"not served: {group}/{version}/{resource}")
        return self.store.get(kind, namespace if kind.namespaced else None, name)

    # ------------------------------------------------------------ used by the handler

    def authenticate(self, header: str | None) -> auth.User | None:
        """None for an anonymous request; raises ApiError 401 for a bad token or an unmapped role."""
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise errors.unauthorized()
        token = token.strip()
        digest = hashlib.sha256(token.encode()).hexdigest()
        try:
            caller = auth.verify_token(token, self.cluster_name, self.token_lifetime_seconds)
        except auth.TokenRejected as rejected:
            self._saw_token(digest, rejected.access_key_id, rejected.signed_at, False, rejected.reason)
            raise errors.unauthorized() from None
        user = self._entries.user_for(caller)
        if user is None:
            self._saw_token(
                digest,
                caller.access_key_id,
                caller.signed_at,
                False,
                f"no access entry for {caller.role_arn}",
            )
            raise errors.unauthorized()
        self._saw_token(digest, caller.access_key_id, caller.signed_at, True, "")
        return user

    def _saw_token(self, digest, access_key_id, signed_at, accepted, reason) -> None:
        outcome = (digest, accepted, reason)
        with self._log_lock:
            if outcome in self._seen_outcomes:
                return
            self._seen_outcomes.add(outcome)
            self.tokens_seen.append(
                {
                    "access_key_id": access_key_id,
                    "signed_at": signed_at,
                    "accepted": accepted,
                    "reason": reason,
                }
            )

    def record(self, entry: dict) -> None:
        with self._log_lock:
            self.requests.append(entry)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: KubeStandIn
    ssl_context: ssl.SSLContext

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        self.stopping = False

    def get_request(self):
        raw, address = self.socket.accept()
        # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
        # client's delayed ACK add about 40 ms to every response.
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connection = self.ssl_context.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        with self._connections_lock:
            self._connections.add(connection)
        return connection, address

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        self.stopping = True
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request, client_address) -> None:
        log.debug("kube stand-in: connection error from %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kube-standin"
    sys_version = ""
    server: _Server

    def setup(self) -> None:
        self.request.settimeout(10)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.close_connection = True
        self.request.settimeout(None)
        super().setup()

    def handle(self) -> None:
        with contextlib.suppress(ssl.SSLError, ConnectionError, OSError, ValueError):
            super().handle()

    def version_string(self) -> str:
        return "kube-standin"

    def log_message(self, format, *args) -> None:
        return

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # ------------------------------------------------------------ plumbing

    @property
    def standin(self) -> KubeStandIn:
        return self.server.standin

    def _dispatch(self, method: str) -> None:
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        self._status = 0
        self._logged = False
        entry = {
            "method": method,
            "path": parsed.path,
            "query": query,
            "user": None,
            "status": None,
            "content_type": self.headers.get("Content-Type"),
        }
        self._entry = entry
        try:
            body = self._read_body()
            user = self.standin.authenticate(self.headers.get("Authorization"))
            entry["user"] = user.username if user else None
            self._route(method, parsed.path, query, body, user)
        except errors.ApiError as error:
            self._send_json(error.code, error.body())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as error:
            log.error("kube stand-in: %s %s failed:\n%s", method, parsed.path, traceback.format_exc())
            self._send_json(
                500, errors.status_body(500, "InternalError", f"Internal error occurred: {error}")
            )
        finally:
            self._log_request()

    def _log_request(self) -> None:
        """Append this request to standin.requests once its status is known (a watch: when it starts)."""
        if not self._logged:
            self._logged = True
            self._entry["status"] = self._status
            self.standin.record(self._entry)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send_bytes(self, code: int, payload: bytes, content_type: str, headers: dict | None = None) -> None:
        self._status = code
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-cache, private")
        for name, value in (headers or {}).items():
            if isinstance(value, list):
                for item in value:
                    self.send_header(name, item)
            else:
                self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()

    def _send_json(self, code: int, body, content_type: str = "application/json", warnings=()) -> None:
        headers = {}
        if warnings:
            headers["Warning"] = [f"299 - {json.dumps(text)}" for text in warnings]
        self._send_bytes(code, json.dumps(body).encode(), content_type, headers)

    # ------------------------------------------------------------ routing

    def _route(self, method: str, path: str, query: dict, body: bytes, user: auth.User | None) -> None:
        if path in PUBLIC_PATHS:
            if path == "/version":
                self._send_json(200, VERSION)
            else:
                self._send_bytes(200, b"ok", "text/plain; charset=utf-8")
            return
        if user is None:
            raise errors.unauthorized()
        accept = self.headers.get("Accept", "")
        parts = [part for part in path.split("/") if part]
        if method == "GET" and parts[:2] == ["openapi", "v3"]:
            return self._openapi(parts[2:])
        if method == "GET" and parts == ["openapi", "v2"]:
            return self._openapi_v2(accept)
        if not parts or parts[0] not in ("api", "apis"):
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        if method == "GET" and self._discovery(parts, accept):
            return None
        return self._resource(method, parts, query, body, user, accept)

    def _openapi(self, rest: list[str]) -> None:
        if not rest:
            self._send_json(200, openapi.index())
            return
        documents = openapi.documents()
        key = "/".join(rest)
        if key not in documents:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        self._send_bytes(200, documents[key], "application/json", {"Etag": f'"{openapi.document_hash(key)}"'})

    def _openapi_v2(self, accept: str) -> None:
        """An OpenAPI v2 document without definitions. kubectl falls back to it to validate a `kind: List`
        file client-side (it finds no schema, so it skips that; the server still validates each item)."""
        if "protobuf" in accept:
            self._send_bytes(200, openapi.v2_protobuf(), openapi.PROTOBUF_V2_RESPONSE)
        else:
            self._send_json(200, openapi.v2_json())

    def _discovery(self, parts: list[str], accept: str) -> bool:
        aggregated = discovery.wants_aggregated(accept)
        if parts == ["api"]:
            if aggregated:
                self._send_json(200, discovery.aggregated(True, aggregated), aggregated)
            else:
                self._send_json(200, discovery.api_versions())
            return True
        if parts == ["apis"]:
            if aggregated:
                self._send_json(200, discovery.aggregated(False, aggregated), aggregated)
            else:
                self._send_json(200, discovery.api_group_list())
            return True
        if parts[0] == "api" and len(parts) == 2:
            document = discovery.api_resource_list("", parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            document = discovery.api_group(parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            document = discovery.api_resource_list(parts[1], parts[2])
        else:
            return False
        if document is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        self._send_json(200, document)
        return True

    def _resource(self, method, parts, query, body, user, accept) -> None:
        if parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        else:
            if len(parts) < 3:
                raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
            group, version, rest = parts[1], parts[2], parts[3:]
        namespace = None
        if (
            len(rest) >= 3
            and rest[0] == "namespaces"
            and not (len(rest) == 3 and rest[2] in ("status", "finalize"))
        ):
            namespace, rest = rest[1], rest[2:]
        if not rest or len(rest) > 3:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        kind = by_path(group, version, rest[0])
        if kind is None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        name = rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        if kind.namespaced and namespace is None and (name is not None or method not in ("GET",)):
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        if not kind.namespaced and namespace is not None:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        if subresource is not None and subresource not in kind.subresources:
            raise errors.ApiError(404, "NotFound", "the server could not find the requested resource")
        watching = query.get("watch") in ("1", "true", "True")
        verb = {
            "GET": ("watch" if watching else "get") if name else ("watch" if watching else "list"),
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if name else "deletecollection",
        }[method]
        if kind.resource in REVIEW_RESOURCES:
            if method != "POST" or name is not None:
                raise errors.ApiError(
                    405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
                )
            return self._review(kind, body, user)
        if method == "POST" and name is not None:
            raise errors.ApiError(
                405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
            )
        authz_resource = f"{kind.resource}/{subresource}" if subresource else kind.resource
        if not auth.allowed(user, verb, kind.group, authz_resource):
            raise errors.forbidden(
                kind.group_resource, name, user.username, verb, kind.group, authz_resource, namespace
            )
        api = self.standin.api
        if method == "GET":
            if watching:
                return self._watch(kind, namespace, name, query, accept)
            if subresource == "scale":
                return self._send_json(200, api.scale(kind, namespace, name))
            if name:
                found = api.get(kind, namespace, name)
                if _wants_table(accept):
                    found = api_module.table(kind, [found], None, query.get("includeObject", "Metadata"))
                return self._send_json(200, found)
            listed = api.list_objects(kind, namespace, query)
            if _wants_table(accept):
                listed = api_module.table(
                    kind,
                    listed["items"],
                    listed["metadata"]["resourceVersion"],
                    query.get("includeObject", "Metadata"),
                )
            return self._send_json(200, listed)
        if method == "DELETE":
            if name is None:
                return self._send_json(200, api.delete_collection(kind, namespace, query))
            options = _json(body) if body else {}
            if "propagationPolicy" in options and options["propagationPolicy"] not in (
                "Orphan",
                "Background",
                "Foreground",
            ):
                raise errors.bad_request(f"unsupported propagationPolicy {options['propagationPolicy']}")
            code, result = api.delete(kind, namespace, name, query, options or {})
            return self._send_json(code, result)
        content_type = self.headers.get("Content-Type", "application/json")
        if method == "PATCH" and subresource == "scale":
            code, result = api.patch_scale(kind, namespace, name, content_type, body, query)
            return self._send_json(code, result)
        if method == "PATCH":
            creates = (
                content_type.startswith("application/apply-patch")
                and api.store.get(kind, namespace, name) is None
            )
            if creates and not auth.allowed(user, "create", kind.group, kind.resource):
                # Server-side apply of a missing object is a create: it needs that verb too.
                raise errors.forbidden(
                    kind.group_resource, name, user.username, "create", kind.group, kind.resource, namespace
                )
            code, result, warnings = api.patch(kind, namespace, name, content_type, body, query, subresource)
            return self._send_json(code, result, warnings=warnings)
        if content_type.startswith(proto.PROTOBUF) and kind.resource in (
            "namespaces",
            "configmaps",
            "secrets",
        ):
            document = proto.decode_object(body)
        else:
            _require_json(content_type)
            document = _json(body)
        if subresource == "scale":
            code, result = api.update_scale(kind, namespace, name, document, query)
            return self._send_json(code, result)
        if method == "POST":
            code, result, warnings = api.create(kind, namespace, document, query)
        else:
            code, result, warnings = api.update(kind, namespace, name, document, query, subresource)
        return self._send_json(code, result, warnings=warnings)

    # ------------------------------------------------------------ reviews

    def _review(self, kind: Kind, body: bytes, user: auth.User) -> None:
        if self.headers.get("Content-Type", "").startswith(proto.PROTOBUF):
            request = proto.decode_review(body)
        else:
            request = _json(body) if body else {}
        if not isinstance(request, dict):
            raise errors.bad_request("the body of the request must be a JSON object")
        response = {
            "kind": kind.kind,
            "apiVersion": kind.api_version,
            "metadata": {"creationTimestamp": api_module.now()},
        }
        if kind.resource == "selfsubjectreviews":
            response["status"] = {"userInfo": user.user_info()}
        elif kind.resource == "selfsubjectaccessreviews":
            spec = request.get("spec") or {}
            response["spec"] = spec
            attributes = spec.get("resourceAttributes")
            if attributes:
                resource = attributes.get("resource", "")
                if attributes.get("subresource"):
                    resource = f"{resource}/{attributes['subresource']}"
                allowed = auth.allowed(
                    user, attributes.get("verb", ""), attributes.get("group", ""), resource
                )
            else:
                allowed = True
            response["status"] = {"allowed": allowed}
            if allowed:
                response["status"]["reason"] = "allowed by the stand-in's access entry"
        else:
            response["spec"] = request.get("spec") or {}
            if user.verbs is None:
                rules = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
            else:
                rules = [
                    {"verbs": [verb], "apiGroups": [group], "resources": [resource]}
                    for verb, group, resource in sorted(user.verbs)
                ]
            response["status"] = {
                "resourceRules": rules,
                "nonResourceRules": [
                    {"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*", "/version"]}
                ],
                "incomplete": False,
            }
        self._send_json(201, response)

    # ------------------------------------------------------------ watches

    def _watch(self, kind: Kind, namespace: str | None, name: str | None, query: dict, accept: str) -> None:
        store = self.standin.store
        api = self.standin.api
        try:
            timeout = float(query.get("timeoutSeconds") or DEFAULT_WATCH_SECONDS)
        except ValueError:
            raise errors.bad_request("timeoutSeconds must be a number") from None
        if self.standin.max_watch_seconds is not None:
            timeout = min(timeout, self.standin.max_watch_seconds)
        deadline = time.monotonic() + timeout
        send_initial = query.get("sendInitialEvents") in ("true", "1")
        if send_initial and query.get("resourceVersionMatch") != "NotOlderThan":
            raise errors.ApiError(
                422,
                "Invalid",
                "resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
            )
        as_table = _wants_table(accept)
        field_test = api_module.field_matcher(query.get("fieldSelector"))
        label_test = api_module.label_matcher(query.get("labelSelector"))

        def matches(obj: dict) -> bool:
            metadata = obj["metadata"]
            if kind.namespaced and namespace is not None and metadata.get("namespace") != namespace:
                return False
            if name is not None and metadata.get("name") != name:
                return False
            return field_test(obj) and label_test(metadata.get("labels"))

        requested = query.get("resourceVersion", "")
        initial: list[dict] = []
        if send_initial or requested in ("", "0"):
            items, version = store.list(kind, namespace)
            initial = [item for item in items if matches(item)]
            start = version
        else:
            try:
                start = int(requested)
            except ValueError:
                raise errors.bad_request(f"invalid resource version {requested!r}") from None
            if start < store.oldest_watchable():
                raise errors.ApiError(
                    410, "Expired", f"too old resource version: {start} ({store.oldest_watchable()})"
                )

        self._status = 200
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self._log_request()

        def send(event_type: str, obj: dict) -> None:
            if as_table and event_type != "BOOKMARK":
                obj = api_module.table(
                    kind,
                    [obj],
                    obj["metadata"].get("resourceVersion"),
                    query.get("includeObject", "Metadata"),
                )
            line = json.dumps({"type": event_type, "object": obj}).encode() + b"\n"
            self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
            self.wfile.flush()

        def bookmark(version: int, initial_end: bool) -> dict:
            metadata: dict = {"resourceVersion": str(version)}
            if initial_end:
                metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {"kind": kind.kind, "apiVersion": kind.api_version, "metadata": metadata}

        try:
            for item in initial:
                send("ADDED", item)
            if send_initial:
                send("BOOKMARK", bookmark(start, True))
            for event in store.events_after(kind, start, deadline, self._client_gone):
                if event is None:
                    continue
                if matches(event.object):
                    send(event.type, event.object)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        self.close_connection = True
        _ = api

    def _client_gone(self) -> bool:
        if self.server.stopping:
            return True
        connection = self.connection
        if isinstance(connection, ssl.SSLSocket) and connection.pending():
            return False
        try:
            readable, _, _ = select.select([connection], [], [], 0)
        except (OSError, ValueError):
            return True
        # A watch client sends nothing more; readable means it closed (or reset) the connection.
        return bool(readable)


def _wants_table(accept: str) -> bool:
    return "as=Table" in accept.replace(" ", "")


def _require_json(content_type: str) -> None:
    media = content_type.split(";")[0].strip()
    if media == proto.PROTOBUF:
        raise errors.ApiError(
            415, "UnsupportedMediaType", "the stand-in reads JSON bodies only (protobuf is not implemented)"
        )
    if media not in ("application/json", "", "*/*"):
        raise errors.ApiError(
            415,
            "UnsupportedMediaType",
            f"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml (got {media})",
        )


def _json(body: bytes):
    try:
        return json.loads(body or b"null")
    except ValueError as error:
        raise errors.bad_request(f"error decoding request body: {error}") from None


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
