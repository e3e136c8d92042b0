"""COMMAND: ecs — deploy a new revision to an Amazon ECS service and know, within the step, whether it
came up and why not: check the cluster, the service and the task definition before changing
anything, register the revision only when no identical one is registered, queue behind a deployment
under way, follow this deployment by its id with the service's events, and on failure name the
stopped tasks' reasons and exit codes; roll back when asked.
"""

import time
from collections.abc import Mapping
from typing import Any, Literal

from pipe.aws import errors
from pipe.common import deploy_wait, private_dir
from pipe.common.errors import PipeError
from pipe.common.variables import Variable, boolean, matching
from pipe.jobs import SignedIn
from pipe.jobs.ecs import checks, deploy, reports, revisions, settings, taskdef
from pipe.jobs.ecs.watch import revision

SIGNS_IN: Literal[True] = True
# Cluster and service names (CreateCluster, CreateService): up to 255 letters, digits, hyphens, underscores.
_ECS_NAME = r"[A-Za-z0-9_-]{1,255}"
_ECS_NAME_RULE = "1 to 255 letters, digits, hyphens and underscores (the name, not an ARN)"


VARIABLES = (
    Variable(
        "CLUSTER_NAME",
        required=True,
        parse=matching(_ECS_NAME, _ECS_NAME_RULE),
        fix="set it to the ECS cluster's name.",
    ),
    Variable(
        "SERVICE_NAME",
        required=True,
        parse=matching(_ECS_NAME, _ECS_NAME_RULE),
        fix="set it to the ECS service's name.",
    ),
    Variable("TASK_DEFINITION"),
    Variable("IMAGES", is_list=True, parse=settings.image_pair, combine=settings.by_name),
    Variable("FORCE_NEW_DEPLOYMENT", parse=boolean, default=False),
    Variable("DRY_RUN", parse=boolean, default=False),
    *deploy_wait.VARIABLES,
    Variable("TASK_DEFINITION_TAGS", is_list=True, parse=settings.tag_pair, combine=settings.tags),
)


def read_settings(values: Mapping[str, Any], env: Mapping[str, str]) -> settings.Settings:
    """The settings with TASK_DEFINITION's file loaded and checked: a wrong file costs no AWS call."""
    private_dir.base(env)  # a clone that covers every temporary directory, said before any path in it
    return settings.read(values, env)


def _aws_error(error: Exception) -> PipeError:
    code = errors.code(error)
    operation = getattr(error, "operation_name", "The call")
    text = errors.summary(error)
    if errors.is_access_denied(error):
        return PipeError(errors.access_denied_line(error, service="ecs"))
    hint = {
        "ClusterNotFoundException": " Check CLUSTER_NAME and AWS_DEFAULT_REGION.",
        "ServiceNotFoundException": " Check SERVICE_NAME and CLUSTER_NAME.",
        "ServiceNotActiveException": " The service is being deleted; check SERVICE_NAME.",
        "PlatformTaskDefinitionIncompatibilityException": " The task definition does not fit the service's "
        "launch type or platform version.",
    }.get(code, "")
    return PipeError(f"{operation} failed: {text}.{hint}")


def _target(chosen: settings.Settings, running: dict[str, Any], running_arn: str) -> dict[str, Any] | None:
    """The task definition to deploy: the file's, or the service's own with IMAGES applied; None when
    only FORCE_NEW_DEPLOYMENT is asked (the running revision, its tasks replaced)."""
    if chosen.task_definition is not None:
        return taskdef.with_images(
            chosen.task_definition, chosen.images, f"TASK_DEFINITION {chosen.task_definition_path!r}"
        )
    if chosen.images:
        source = f"the service's task definition {running_arn.rsplit('/', 1)[-1]}"
        checks.containers(chosen.images, running, source)
        return taskdef.with_images(running, chosen.images, source)
    return None


def _planned(chosen: settings.Settings, running: str, target: revisions.Chosen) -> str:
    """DRY_RUN's last line: the plan is recorded; nothing registered, tagged or updated."""
    how = "a new revision" if target.registered else "registered already"
    if running == target.arn:
        change = (
            f"{revision(running)} again, its tasks replaced (FORCE_NEW_DEPLOYMENT)"
            if chosen.force_new_deployment
            else f"already runs {revision(running)}: nothing to deploy"
        )
    else:
        change = f"{revision(running)} → {revision(target.arn)} ({how})"
    return f"Plan recorded: {chosen.service} on {chosen.cluster}: {change}; nothing changed (dry run)."


def run(context: SignedIn[settings.Settings]) -> str:
    started = time.monotonic()
    chosen = context.settings

    from botocore.exceptions import BotoCoreError, ClientError

    ecs = context.identity.client("ecs")
    taskdef.guard(ecs)
    try:
        checks.cluster(ecs, chosen.cluster)
        state, events = checks.service(ecs, chosen.cluster, chosen.service)
        running = revisions.current(ecs, state.task_definition)
        wanted = _target(chosen, running, state.task_definition)
        if wanted is None:
            target = revisions.Chosen(state.task_definition, registered=False)
        elif chosen.dry_run:
            target = revisions.plan(ecs, wanted, state.task_definition, running)
        else:
            target = revisions.register_or_reuse(ecs, wanted, state.task_definition, running, chosen.tags)
        reports.plan(
            chosen.cluster,
            chosen.service,
            state.task_definition,
            target.arn,
            target.registered,
            taskdef.images_of(running),
            taskdef.images_of(wanted or running),
            state.desired,
            chosen.force_new_deployment,
        )
        if chosen.dry_run:
            return _planned(chosen, state.task_definition, target)
        return deploy.Deploy(ecs, chosen, target.arn, started, context.env).run(state, events)
    except (ClientError, BotoCoreError) as error:
        raise _aws_error(error) from None
