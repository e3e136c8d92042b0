"""What is checked before anything changes: the cluster and the service exist and are ACTIVE, the
service is deployed by ECS itself, and the containers IMAGES names are in its task definition."""

from typing import Any

from pipe.common.errors import PipeError
from pipe.jobs.ecs.watch import ServiceState, describe

# Another deployment controller deploys the service, and UpdateService may not change its revision.
CONTROLLERS = {
    "CODE_DEPLOY": "a blue/green deployment through AWS CodeDeploy (Atlassian's aws-code-deploy pipe, or "
    "`aws deploy create-deployment` with an AppSpec naming the new revision)",
    "EXTERNAL": "the deployment tool that owns it (task sets: CreateTaskSet and UpdateServicePrimaryTaskSet)",
}


def cluster(ecs: Any, name: str) -> None:
    answer = ecs.describe_clusters(clusters=[name])
    found = [item for item in answer.get("clusters", []) if item.get("clusterName") == name]
    if not found:
        raise PipeError(
            f"ECS cluster {name!r} was not found in {ecs.meta.region_name}; check CLUSTER_NAME and "
            "AWS_DEFAULT_REGION."
        )
    status = found[0].get("status", "")
    if status != "ACTIVE":
        raise PipeError(
            f"ECS cluster {name!r} is {status}, not ACTIVE: it cannot run a deployment; check CLUSTER_NAME."
        )


def service(ecs: Any, cluster_name: str, name: str) -> tuple[ServiceState, list[dict[str, Any]]]:
    state, events = describe(ecs, cluster_name, name)
    if state.status != "ACTIVE":
        raise PipeError(
            f"ECS service {name!r} in cluster {cluster_name!r} is {state.status}, not ACTIVE: it is being "
            "deleted and cannot be deployed to; nothing was changed. Check SERVICE_NAME, or create the "
            "service again."
        )
    if state.controller in CONTROLLERS:
        raise PipeError(
            f"ECS service {name!r} uses the {state.controller} deployment controller: UpdateService cannot "
            f"deploy a new revision to it. Use {CONTROLLERS[state.controller]}."
        )
    return state, events


def containers(named: dict[str, str], definition: dict[str, Any], source: str) -> None:
    have = [container.get("name") for container in definition.get("containerDefinitions", [])]
    missing = [name for name in named if name not in have]
    if missing:
        raise PipeError(
            f"IMAGES names container {missing[0]!r}, which {source} does not have; its containers are: "
            f"{', '.join(str(name) for name in have)}. Nothing was changed."
        )
