"""The ECS stand-in's HTTP side: the JSON 1.1 protocol as botocore speaks it (POST /, X-Amz-Target
AmazonEC2ContainerServiceV20141113.<Action>, errors as {"__type", "message"}), SigV4-checked against
moto's STS sessions, on 127.0.0.1 at a free port."""

import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from test.support import leaks
from test.support.beanstalk import sigv4
from test.support.ecs import validation
from test.support.ecs.model import ApiError, State, TaskDefinition

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass
class Call:
    action: str
    params: dict
    at: float  # time.monotonic()
    error: str | None = None
    answered: bool = False  # carried out (or refused); its answer is on its way


def _epoch(moment) -> float:
    return moment.timestamp()


class EcsStandIn:
    """`with EcsStandIn() as ecs:`; point the pipe at `ecs.url` through AWS_ENDPOINT_URL_ECS. State and
    scripting: `ecs.state` (model.State); faults: `ecs.faults[action] = [(status, code, message)]`."""

    def __init__(self, require_signature: bool = True):
        self.require_signature = require_signature
        self.state = State()
        self.calls: list[Call] = []
        # Scripted faults: action → answers in order, each (status, code, message) or None (served).
        self.faults: dict[str, list[tuple[int, str, str] | None]] = {}
        # IAM, when a test asks for it (test/support/iam.py ecs_policies): (action, params, caller,
        # headers) → why the caller's policies refuse the call, or None.
        self.authorize = None
        self._lock = threading.Lock()
        self._answered = threading.Condition(self._lock)  # notified as each call is answered (wait_for)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "EcsStandIn":
        leaks.RECEIVERS.append(self.received)
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        leaks.RECEIVERS.remove(self.received)
        self._server.shutdown()
        self._server.server_close()

    def received(self):
        """Every call's parameters as sent (for the leak scan): task definitions, tags, names."""
        with self._lock:
            calls = list(enumerate(self.calls))
        for number, call in calls:
            yield (
                (id(self), number),
                f"ECS {call.action}",
                (lambda call=call: json.dumps(call.params).encode()),
            )

    def wait_for(self, action: str, timeout: float) -> Call:
        """Block until an `action` call has been carried out without an error: how a test acts at a
        moment of the pipe's run without sleeping. Raises TimeoutError."""

        def done() -> Call | None:
            return next((c for c in self.calls if c.action == action and c.answered and not c.error), None)

        with self._answered:
            if not self._answered.wait_for(lambda: done() is not None, timeout):
                raise TimeoutError(f"no {action} was carried out within {timeout} s")
            found = done()
            assert found is not None
            return found

    def actions(self, name: str | None = None) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if name is None or call.action == name]

    # --- HTTP -------------------------------------------------------------------------------
    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, answer = standin._answer(self.command, self.path, headers, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", CONTENT_TYPE)
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def _answer(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        target = headers.get("x-amz-target", "")
        action = target.removeprefix(TARGET_PREFIX)
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        call = Call(action, params, time.monotonic())
        with self._lock:
            self.calls.append(call)
        try:
            if headers.get("content-type", "").split(";")[0] != CONTENT_TYPE or not target.startswith(
                TARGET_PREFIX
            ):
                raise ApiError(
                    "UnknownOperationException", "The JSON 1.1 protocol and an X-Amz-Target are required."
                )
            caller = None
            if self.require_signature:
                try:
                    caller = sigv4.verify(method, path.split("?")[0], headers, body, "ecs")
                except sigv4.Rejected as rejected:
                    raise ApiError(rejected.code, rejected.message, 403) from None
            if self.authorize and caller:
                with self.state.lock:
                    refused = self.authorize(action, params, caller, headers)
                if refused is not None:
                    # ECS's JSON protocol answers a refusal with status 400 (AccessDeniedException).
                    raise ApiError("AccessDeniedException", refused, 400)
            with self._lock:
                queued = self.faults.get(action)
                fault = queued.pop(0) if queued else None
            if fault:
                raise ApiError(fault[1], fault[2], fault[0])
            handler = getattr(self, f"_{action}", None)
            if handler is None:
                raise ApiError("UnknownOperationException", f"The stand-in does not serve {action}.")
            with self.state.lock:
                return 200, handler(params)
        except ApiError as error:
            call.error = error.code
            return error.status, {"__type": error.code, "message": error.message}
        finally:
            with self._answered:
                call.answered = True
                self._answered.notify_all()

    # --- actions ----------------------------------------------------------------------------
    def _cluster(self, params) -> str:
        name = (params.get("cluster") or "default").rsplit("/", 1)[-1]
        if name not in self.state.clusters:
            raise ApiError("ClusterNotFoundException", "Cluster not found.")
        return name

    def _DescribeClusters(self, params) -> dict:
        found, failures = [], []
        for given in params.get("clusters") or ["default"]:
            name = given.rsplit("/", 1)[-1]
            arn = f"arn:aws:ecs:eu-west-1:123456789012:cluster/{name}"
            if name in self.state.clusters:
                found.append({"clusterArn": arn, "clusterName": name, "status": self.state.clusters[name]})
            else:
                failures.append({"arn": arn, "reason": "MISSING"})
        return {"clusters": found, "failures": failures}

    def _revision(self, given: str) -> TaskDefinition:
        """family, family:revision or an ARN (the latest ACTIVE revision for a bare family)."""
        name = given.rsplit("/", 1)[-1]
        family, _, number = name.partition(":")
        revisions = self.state.families.get(family, [])
        if number:
            found = [r for r in revisions if str(r.revision) == number]
        else:
            found = [r for r in revisions if r.status == "ACTIVE"][-1:]
        if not found:
            raise ApiError("ClientException", "Unable to describe task definition.")
        return found[0]

    def _DescribeTaskDefinition(self, params) -> dict:
        found = self._revision(params["taskDefinition"])
        answer = {"taskDefinition": validation.described(found)}
        if "TAGS" in (params.get("include") or []):
            answer["tags"] = found.tags
        return answer

    def _RegisterTaskDefinition(self, params) -> dict:
        body = {key: value for key, value in params.items() if key != "tags"}
        validation.check_registration(params)
        made = self.state.register(body, params.get("tags"))
        return {"taskDefinition": validation.described(made), "tags": made.tags}

    def _ListTaskDefinitions(self, params) -> dict:
        prefix, status = params.get("familyPrefix"), params.get("status", "ACTIVE")
        limit = params.get("maxResults", 100)
        if not 1 <= limit <= 100:
            raise ApiError("InvalidParameterException", "maxResults must be between 1 and 100.")
        found = [
            r
            for family, revisions in sorted(self.state.families.items())
            if prefix is None or family == prefix
            for r in revisions
            if status == "ALL" or r.status == status
        ]
        if params.get("sort") == "DESC":
            found.reverse()
        offset = int(params.get("nextToken") or 0)
        page = found[offset : offset + limit]
        more = offset + limit < len(found)
        return {
            "taskDefinitionArns": [r.arn for r in page],
            **({"nextToken": str(offset + limit)} if more else {}),
        }

    def _DescribeServices(self, params) -> dict:
        cluster = self._cluster(params)
        names = params.get("services") or []
        if not 1 <= len(names) <= 10:
            raise ApiError("InvalidParameterException", "services should have between 1 and 10 items.")
        found, failures = [], []
        for given in names:
            service = self.state.services.get((cluster, given.rsplit("/", 1)[-1]))
            if service is None:
                failures.append(
                    {
                        "arn": f"arn:aws:ecs:eu-west-1:123456789012:service/{cluster}/{given}",
                        "reason": "MISSING",
                    }
                )
                continue
            self.state.advance(service)
            found.append(validation.service_json(service))
        return {"services": found, "failures": failures}

    def _UpdateService(self, params) -> dict:
        cluster = self._cluster(params)
        service = self.state.services.get((cluster, params["service"].rsplit("/", 1)[-1]))
        if service is None:
            raise ApiError("ServiceNotFoundException", "Service not found.")
        if service.status != "ACTIVE":
            raise ApiError("ServiceNotActiveException", "Service was not ACTIVE.")
        if service.controller != "ECS" and "taskDefinition" in params:
            raise ApiError(
                "InvalidParameterException",
                f"Unable to update task definition on services with a {service.controller} deployment controller.",
            )
        definition = (
            self._revision(params["taskDefinition"])
            if params.get("taskDefinition")
            else service.task_definition
        )
        if definition.status != "ACTIVE":
            raise ApiError("ClientException", "TaskDefinition is inactive")
        if definition is not service.task_definition or params.get("forceNewDeployment"):
            self.state.start(service, definition)
        return {"service": validation.service_json(service)}

    def _ListTasks(self, params) -> dict:
        cluster = self._cluster(params)
        limit = params.get("maxResults", 100)
        if not 1 <= limit <= 100:
            raise ApiError("InvalidParameterException", "maxResults must be between 1 and 100.")
        wanted = params.get("desiredStatus", "RUNNING")
        found = [
            t.arn
            for t in reversed(self.state.tasks)
            if t.cluster == cluster
            and t.desired_status == wanted
            and (params.get("startedBy") is None or t.started_by == params["startedBy"])
        ]
        return {"taskArns": found[:limit]}

    def _DescribeTasks(self, params) -> dict:
        cluster = self._cluster(params)
        wanted = params.get("tasks") or []
        if not 1 <= len(wanted) <= 100:
            raise ApiError("InvalidParameterException", "Tasks cannot be empty or hold more than 100.")
        found = [
            validation.task_json(t) for t in self.state.tasks if t.cluster == cluster and t.arn in wanted
        ]
        return {"tasks": found, "failures": []}
