"""Revisions: the service's current one read, and the one to deploy registered only when no
identical revision is registered already — so that a rerun after a kill converges on the revision
the first run made instead of registering another (every revision counts against the family's
quota of 1,000,000 and clutters the console)."""

from typing import Any, NamedTuple

from pipe.common.log import logger
from pipe.jobs.ecs import taskdef
from pipe.jobs.ecs.watch import revision

# Newest ACTIVE revisions of the family compared with the one to deploy: a rerun's twin is the
# newest, a rollback's the service's own; ten DescribeTaskDefinition calls at most.
LOOKBACK = 10


class Chosen(NamedTuple):
    arn: str
    registered: bool  # False: an identical revision was registered already


def current(ecs: Any, arn: str) -> dict[str, Any]:
    """The register-able fields of revision `arn` (environment values and secret references
    registered with the log's redaction)."""
    described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    taskdef.protect(described)
    return taskdef.registerable(described)


def _identical(
    ecs: Any, definition: dict[str, Any], running: str, running_definition: dict[str, Any]
) -> str | None:
    if taskdef.same(definition, running_definition):
        return running
    answer = ecs.list_task_definitions(
        familyPrefix=definition["family"], status="ACTIVE", sort="DESC", maxResults=LOOKBACK
    )
    for arn in answer.get("taskDefinitionArns", []):
        if arn == running or revision(arn).rsplit(":", 1)[0] != definition["family"]:
            continue
        described = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        taskdef.protect(described)
        if taskdef.same(definition, taskdef.registerable(described)):
            return str(arn)
    return None


def register_or_reuse(
    ecs: Any,
    definition: dict[str, Any],
    running: str,
    running_definition: dict[str, Any],
    tags: dict[str, str],
) -> Chosen:
    found = _identical(ecs, definition, running, running_definition)
    if found is not None:
        logger.info(
            "Revision %s already holds this task definition: deploying it, registering none.", revision(found)
        )
        if tags:
            logger.info(
                "TASK_DEFINITION_TAGS are put on new revisions only; %s keeps its tags.", revision(found)
            )
        return Chosen(found, registered=False)
    extra = {"tags": [{"key": key, "value": value} for key, value in tags.items()]} if tags else {}
    answer = ecs.register_task_definition(**definition, **extra)
    arn = answer["taskDefinition"]["taskDefinitionArn"]
    logger.info("Registered %s.", revision(arn))
    return Chosen(arn, registered=True)


def plan(ecs: Any, definition: dict[str, Any], running: str, running_definition: dict[str, Any]) -> Chosen:
    """What register_or_reuse would choose, found by reading only (DRY_RUN): an identical revision,
    or `family:new` for the one a deploy would register (ECS numbers it only when it is registered)."""
    found = _identical(ecs, definition, running, running_definition)
    if found is not None:
        return Chosen(found, registered=False)
    return Chosen(f"{definition['family']}:new", registered=True)
