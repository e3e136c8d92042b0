"""What the AWS stand-ins' HTTP sides share (ecs/, beanstalk/): a threaded server on 127.0.0.1 at a
free port, the record of every call (tests wait on a moment of the pipe's run through it, the leak
scan reads what was sent), scripted faults and the SigV4 check against moto's STS sessions. Each
stand-in says how its protocol reads a request and words an answer."""

import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from test.support import leaks, sigv4


class ApiError(Exception):
    """An error answer: code and message as AWS words them, HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Call:
    action: str
    params: dict
    at: float = field(default_factory=time.monotonic)
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    error: str | None = None
    answered: bool = False  # carried out (or refused); its answer is on its way


class StandIn:
    """`with <StandIn>() as standin:`; point the pipe at `standin.url`. `standin.calls` is every call
    in order; `standin.faults[action] = [(status, code, message) or None (served), ...]` answers the
    next calls of an action; `standin.authorize` (test/support/iam.py), when set, is asked
    (action, params, caller, headers) → why the caller's policies refuse the call, or None."""

    # Set by each stand-in.
    service_name = ""  # as the leak scan names a call: "<service_name> <action>"
    signing_name = ""  # the service in SigV4's credential scope
    content_type = ""  # of every answer
    get_answer: bytes | None = None  # the 400 answer to a GET, where the stand-in gives one

    def __init__(self, require_signature: bool = True):
        self.require_signature = require_signature
        self.calls: list[Call] = []
        self.faults: dict[str, list[tuple[int, str, str] | None]] = {}
        self.authorize = None
        self._calls_lock = threading.Lock()
        self._answered = threading.Condition(self._calls_lock)  # notified as each call is answered
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # --- what each stand-in's protocol says -------------------------------------------------
    def _call(self, headers: dict, body: bytes) -> Call:
        """The call a request makes (action, parameters)."""
        raise NotImplementedError

    def _serve(self, call: Call, method: str, path: str, headers: dict, body: bytes) -> bytes:
        """The answer's body to a call carried out; raises ApiError to refuse it."""
        raise NotImplementedError

    def _error(self, error: ApiError, call: Call) -> bytes:
        raise NotImplementedError

    def _sent(self, call: Call) -> bytes:
        """A call's parameters as the leak scan reads them."""
        raise NotImplementedError

    # --- for tests --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> Self:
        leaks.RECEIVERS.append(self.received)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        leaks.RECEIVERS.remove(self.received)
        self._server.shutdown()
        self._server.server_close()

    def received(self):
        """Every call's parameters as sent (for the leak scan)."""
        with self._calls_lock:
            calls = list(enumerate(self.calls))
        for number, call in calls:
            yield (
                (id(self), number),
                f"{self.service_name} {call.action}",
                (lambda call=call: self._sent(call)),
            )

    def wait_for(self, action: str, timeout: float) -> Call:
        """Block until an `action` call has been carried out (answered without an error): how a test
        acts at a moment of the pipe's run without sleeping. Raises TimeoutError."""

        def done() -> Call | None:
            return next((c for c in self.calls if c.action == action and c.answered and not c.error), None)

        with self._answered:
            if not self._answered.wait_for(lambda: done() is not None, timeout):
                raise TimeoutError(f"no {action} was carried out within {timeout} s")
            found = done()
            assert found is not None
            return found

    def actions(self, name: str | None = None) -> list[Call]:
        with self._calls_lock:
            return [call for call in self.calls if name is None or call.action == name]

    # --- for the stand-ins ------------------------------------------------------------------
    def _caller(self, method: str, path: str, headers: dict, body: bytes) -> sigv4.Caller | None:
        """Who signed the request (None when the stand-in does not ask); a bad signature is a 403."""
        if not self.require_signature:
            return None
        try:
            return sigv4.verify(method, path.split("?")[0], headers, body, self.signing_name)
        except sigv4.Rejected as rejected:
            raise ApiError(rejected.code, rejected.message, 403) from None

    def _scripted_fault(self, action: str) -> None:
        with self._calls_lock:
            queued = self.faults.get(action)
            fault = queued.pop(0) if queued else None
        if fault:
            raise ApiError(fault[1], fault[2], fault[0])

    # --- HTTP -------------------------------------------------------------------------------
    def _answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, bytes, str]:
        call = self._call(headers, body)
        with self._calls_lock:
            self.calls.append(call)
        try:
            return 200, self._serve(call, method, path, headers, body), call.request_id
        except ApiError as error:
            call.error = error.code
            return error.status, self._error(error, call), call.request_id
        finally:
            with self._answered:
                call.answered = True
                self._answered.notify_all()

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, data, request_id = standin._answer(self.command, self.path, headers, body)
                self._send(
                    status, data, {"Content-Type": standin.content_type, "x-amzn-RequestId": request_id}
                )

            def do_GET(self) -> None:
                if standin.get_answer is None:
                    # As http.server answers a method a handler has no do_ method for.
                    self.send_error(501, f"Unsupported method ({self.command!r})")
                    return
                self._send(400, standin.get_answer, {})

        return Handler
