"""The ECS stand-in's HTTP side: the JSON 1.1 protocol as botocore speaks it (POST /, X-Amz-Target
AmazonEC2ContainerServiceV20141113.<Action>, errors as {"__type", "message"}), SigV4-checked against
moto's STS sessions, on 127.0.0.1 at a free port."""

import json

from test.support.ecs import validation
from test.support.ecs.model import State, TaskDefinition
from test.support.standin import ApiError, Call, StandIn

TARGET_PREFIX = "AmazonEC2ContainerServiceV20141113."
CONTENT_TYPE = "application/x-amz-json-1.1"


class EcsStandIn(StandIn):
    """`with EcsStandIn() as ecs:`; point the pipe at `ecs.url` through AWS_ENDPOINT_URL_ECS. State and
    scripting: `ecs.state` (model.State); faults: `ecs.faults[action] = [(status, code, message)]`;
    IAM: `ecs.authorize` (test/support/iam.py ecs_policies). The rest: test/support/standin.py."""

    service_name = "ECS"
    signing_name = "ecs"
    content_type = CONTENT_TYPE

    def __init__(self, require_signature: bool = True):
        super().__init__(require_signature)
        self.state = State()

    def _call(self, headers: dict, body: bytes) -> Call:
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            params = {}
        return Call(headers.get("x-amz-target", "").removeprefix(TARGET_PREFIX), params)

    def _sent(self, call: Call) -> bytes:
        return json.dumps(call.params).encode()

    def _error(self, error: ApiError, call: Call) -> bytes:
        return json.dumps({"__type": error.code, "message": error.message}).encode()

    def _serve(self, call: Call, method: str, path: str, headers: dict, body: bytes) -> bytes:
        action, params = call.action, call.params
        if headers.get("content-type", "").split(";")[0] != CONTENT_TYPE or not headers.get(
            "x-amz-target", ""
        ).startswith(TARGET_PREFIX):
            raise ApiError(
                "UnknownOperationException", "The JSON 1.1 protocol and an X-Amz-Target are required."
            )
        caller = self._caller(method, path, headers, body)
        if self.authorize and caller:
            with self.state.lock:
                refused = self.authorize(action, params, caller, headers)
            if refused is not None:
                # ECS's JSON protocol answers a refusal with status 400 (AccessDeniedException).
                raise ApiError("AccessDeniedException", refused, 400)
        self._scripted_fault(action)
        handler = getattr(self, f"_{action}", None)
        if handler is None:
            raise ApiError("UnknownOperationException", f"The stand-in does not serve {action}.")
        with self.state.lock:
            return json.dumps(handler(params)).encode()

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
