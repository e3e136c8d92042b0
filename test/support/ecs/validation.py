"""What the ECS stand-in refuses in RegisterTaskDefinition (the API reference's rules; README.md marks
the wordings not verified against AWS) and how it writes its answers (DescribeTaskDefinition fills in
the defaults ECS fills in)."""

import copy
import re
from typing import Any

from test.support.ecs.model import Service, Task, TaskDefinition
from test.support.standin import ApiError

NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
IMAGE = re.compile(r"[A-Za-z0-9_\-:./#@]{1,255}")
MAX_TAGS = 50


def _client(message: str) -> ApiError:
    return ApiError("ClientException", message)


def check_registration(params: dict[str, Any]) -> None:
    family = params.get("family", "")
    if not NAME.fullmatch(family):
        raise _client(
            "Family contains invalid characters. Up to 255 letters (uppercase and lowercase), numbers, "
            "underscores, and hyphens are allowed."
        )
    containers = params.get("containerDefinitions")
    if not containers:
        raise _client("Container list cannot be empty.")
    names = set()
    compatible = params.get("requiresCompatibilities") or ["EC2"]
    for container in containers:
        name = container.get("name", "")
        if not NAME.fullmatch(name):
            raise _client("Container name contains invalid characters.")
        if name in names:
            raise _client(f"Duplicate container name '{name}'.")
        names.add(name)
        if not IMAGE.fullmatch(container.get("image", "")):
            raise _client(f"Invalid image for container '{name}'.")
        if (
            "EC2" in compatible
            and "memory" not in params
            and not ("memory" in container or "memoryReservation" in container)
        ):
            raise _client(
                f"Invalid setting for container '{name}'. At least one of 'memory' or 'memoryReservation' "
                "must be specified."
            )
    if not any(container.get("essential", True) for container in containers):
        raise _client("At least one essential container is required.")
    if "FARGATE" in compatible:
        if params.get("networkMode") != "awsvpc":
            raise _client("Fargate only supports network mode 'awsvpc'.")
        if "cpu" not in params or "memory" not in params:
            raise _client("Fargate requires that 'cpu' and 'memory' be defined at the task level.")
    if len(params.get("tags") or []) > MAX_TAGS:
        raise ApiError("InvalidParameterException", "Too many tags.")


_CONTAINER_DEFAULTS = {
    "cpu": 0,
    "essential": True,
    "portMappings": [],
    "environment": [],
    "mountPoints": [],
    "volumesFrom": [],
    "systemControls": [],
}


def described(made: TaskDefinition) -> dict[str, Any]:
    body = copy.deepcopy(made.body)
    body["containerDefinitions"] = [_CONTAINER_DEFAULTS | c for c in body["containerDefinitions"]]
    compatible = body.get("requiresCompatibilities") or []
    body.setdefault("networkMode", "bridge")
    body.setdefault("enableFaultInjection", False)
    body.setdefault("volumes", [])
    body.setdefault("placementConstraints", [])
    return body | {
        "taskDefinitionArn": made.arn,
        "revision": made.revision,
        "status": made.status,
        "requiresAttributes": [{"name": "com.amazonaws.ecs.capability.docker-remote-api.1.18"}],
        "compatibilities": sorted({"EC2", *compatible}),
        "registeredAt": made.registered_at.timestamp(),
        "registeredBy": "arn:aws:sts::123456789012:assumed-role/deploy/session",
    }


def service_json(service: Service) -> dict[str, Any]:
    return {
        "serviceArn": service.arn,
        "serviceName": service.name,
        "clusterArn": f"arn:aws:ecs:eu-west-1:123456789012:cluster/{service.cluster}",
        "status": service.status,
        "desiredCount": service.desired,
        "runningCount": sum(d.running for d in service.deployments),
        "pendingCount": sum(d.pending for d in service.deployments),
        "taskDefinition": service.task_definition.arn,
        "deploymentController": {"type": service.controller},
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": service.breaker, "rollback": service.rollback},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
        },
        "deployments": [
            {
                "id": d.id,
                "status": d.status,
                "taskDefinition": d.task_definition.arn,
                "desiredCount": d.desired,
                "pendingCount": d.pending,
                "runningCount": d.running,
                "failedTasks": d.failed,
                "createdAt": d.created.timestamp(),
                "updatedAt": d.created.timestamp(),
                "rolloutState": d.rollout,
                "rolloutStateReason": d.reason,
            }
            for d in service.deployments
        ],
        "events": [{**e, "createdAt": e["createdAt"].timestamp()} for e in service.events],
    }


def task_json(task: Task) -> dict[str, Any]:
    return {
        "taskArn": task.arn,
        "clusterArn": f"arn:aws:ecs:eu-west-1:123456789012:cluster/{task.cluster}",
        "taskDefinitionArn": task.task_definition,
        "startedBy": task.started_by,
        "lastStatus": task.last_status,
        "desiredStatus": task.desired_status,
        "containers": [{**c, "taskArn": task.arn} for c in task.containers],
        **({"stoppedReason": task.stopped_reason} if task.stopped_reason else {}),
        **({"stopCode": task.stop_code} if task.stop_code else {}),
    }
