"""ecs's settings: the checked variables (pipe.jobs.ecs.job.VARIABLES) as the job uses them, read once
before the sign-in, TASK_DEFINITION's file loaded and held to RegisterTaskDefinition with them."""

from collections.abc import Mapping
from typing import Any, NamedTuple

from pipe.common.errors import PipeError
from pipe.jobs.ecs import taskdef

# ECS's tag limits (TagResource): 50 tags, keys up to 128 and values up to 256 characters; the
# aws: prefix is AWS's own.
MAX_TAGS = 50


class Settings(NamedTuple):
    cluster: str
    service: str
    # TASK_DEFINITION loaded and checked; None: the service's current task definition.
    task_definition: dict[str, Any] | None
    task_definition_path: str | None
    images: dict[str, str]  # IMAGES: container → image
    force_new_deployment: bool
    wait: bool
    wait_interval: float
    timeout: int  # DEPLOY_TIMEOUT, seconds
    rollback_on_failure: bool
    tags: dict[str, str]  # TASK_DEFINITION_TAGS
    dry_run: bool = False  # DRY_RUN: the checks and the plan, then stop before anything is registered


def image_pair(raw: str) -> tuple[str, str]:
    """One IMAGES item: `container=image`."""
    name, equals, image = raw.strip().partition("=")
    if not equals or not taskdef.NAME.fullmatch(name.strip()) or not taskdef.IMAGE.fullmatch(image.strip()):
        raise ValueError(
            f"must be container=image items, the container {taskdef.NAME_RULE}, the image {taskdef.IMAGE_RULE}"
        )
    return name.strip(), image.strip()


def by_name(pairs: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, value in pairs:
        if name in found:
            raise ValueError(f"names {name!r} twice; give each one once")
        found[name] = value
    return found


def tag_pair(raw: str) -> tuple[str, str]:
    """One TASK_DEFINITION_TAGS item: `key=value`."""
    key, equals, value = raw.strip().partition("=")
    key, value = key.strip(), value.strip()
    if not equals or not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
        raise ValueError(
            "must be key=value items, keys of 1 to 128 characters not starting with aws:, values up to 256"
        )
    return key, value


def tags(pairs: list[tuple[str, str]]) -> dict[str, str]:
    if len(pairs) > MAX_TAGS:
        raise ValueError(f"holds {len(pairs)} tags; ECS takes at most {MAX_TAGS}")
    return by_name(pairs)


def read(values: Mapping[str, Any], env: Mapping[str, str]) -> Settings:
    path = values["TASK_DEFINITION"]
    images, force = values["IMAGES"] or {}, values["FORCE_NEW_DEPLOYMENT"]
    if not path and not images and not force:
        raise PipeError(
            "Nothing to deploy: set TASK_DEFINITION (a task definition JSON file), IMAGES (container=image "
            "items applied to the service's task definition), or FORCE_NEW_DEPLOYMENT: 'true' to restart "
            "the service's tasks as they are."
        )
    if values["TASK_DEFINITION_TAGS"] and not path and not images:
        raise PipeError(
            "TASK_DEFINITION_TAGS tag a new revision, and FORCE_NEW_DEPLOYMENT alone registers none: "
            "remove them, or set TASK_DEFINITION or IMAGES."
        )
    definition = None
    if path:
        definition = taskdef.load(path, env)
        if images:
            taskdef.with_images(definition, images, f"TASK_DEFINITION {path.strip()!r}")
    return Settings(
        cluster=values["CLUSTER_NAME"],
        service=values["SERVICE_NAME"],
        task_definition=definition,
        task_definition_path=path.strip() if path else None,
        images=images,
        force_new_deployment=force,
        wait=values["WAIT"],
        wait_interval=values["WAIT_INTERVAL"],
        timeout=values["DEPLOY_TIMEOUT"],
        rollback_on_failure=values["ROLLBACK_ON_FAILURE"],
        tags=values["TASK_DEFINITION_TAGS"] or {},
        dry_run=values["DRY_RUN"],
    )
