"""End to end: COMMAND=ecs as a process, STS on the moto server, ECS on the stand-in
(test/support/ecs), reached through AWS_ENDPOINT_URL_ECS."""

import json
import os
import uuid
from pathlib import Path

import pytest

from pipe.jobs.ecs import taskdef
from test.report.test_publish import pipelines
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.ecs import EXITS, PULL_FAILS, STUCK, EcsStandIn
from test.support.interrupts import Killed
from test.support.job_env import COMMIT
from test.support.run import with_debug, write_files

INTERVAL = "0.1"
# Values that must never be printed: an environment value and a secret's valueFrom.
ENV_SECRET = "db-password-Planted+9876543210"
SECRET_REF = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-Planted42"
OLD_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.0"
NEW_IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.1"


def definition(image: str = OLD_IMAGE, family: str = "shop", **extra) -> dict:
    return {
        "family": family,
        "containerDefinitions": [
            {
                "name": "web",
                "image": image,
                "memory": 512,
                "essential": True,
                "environment": [{"name": "DB_PASSWORD", "value": ENV_SECRET}],
                "secrets": [{"name": "API_KEY", "valueFrom": SECRET_REF}],
            },
            {
                "name": "log-router",
                "image": "amazon/aws-for-fluent-bit:2.32",
                "memory": 64,
                "essential": False,
            },
        ],
        **extra,
    }


@pytest.fixture
def ecs():
    with EcsStandIn() as standin:
        yield standin


@pytest.fixture
def names():
    suffix = uuid.uuid4().hex[:8]
    return f"prod-{suffix}", f"shop-{suffix}"


@pytest.fixture
def service(ecs, names):
    cluster, name = names
    return ecs.state.create_service(cluster, name, definition(), desired=2)


@pytest.fixture
def ecs_env(pipe_env, clone_dir, ecs, names, tmp_path):
    cluster, name = names
    shared = tmp_path / "shared"
    shared.mkdir()
    return pipe_env | {
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
        "COMMAND": "ecs",
        "BITBUCKET_CLONE_DIR": str(clone_dir),
        "AWS_ENDPOINT_URL_ECS": ecs.url,
        "CLUSTER_NAME": cluster,
        "SERVICE_NAME": name,
        "WAIT_INTERVAL": INTERVAL,
    }


def registered(ecs) -> list[str]:
    return [call.params["family"] for call in ecs.actions("RegisterTaskDefinition") if not call.error]


def updates(ecs) -> list[str]:
    return [call.params.get("taskDefinition") for call in ecs.actions("UpdateService") if not call.error]


def result_of(env) -> dict:
    path = os.path.join(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"], "aws-oidc-deploy", "ecs.json")
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def no_value_printed(result) -> None:
    assert_no_secret(result.output, ENV_SECRET, SECRET_REF)


# Done when 1: a good deploy — events streamed, COMPLETED, ✔ with the revision and the time.
def test_a_good_deploy_streams_events_and_ends_completed(run, ecs_env, ecs, service):
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert result.returncode == 0, result.output
    assert service.task_definition.revision == 2
    assert service.task_definition.images()[0] == NEW_IMAGE
    assert service.deployments[0].rollout == "COMPLETED"
    output = result.output
    assert f"(service {service.name}) has started 2 tasks" in output
    assert f"(service {service.name}) has reached a steady state." in output
    # Each event once, in order.
    events = [line for line in output.splitlines() if line.startswith("INFO: Event ")]
    assert [line for line in events if line.endswith("deployment completed.")] != []
    assert len(events) == len(set(events)) == 4, events  # each once
    assert "has started 2 tasks" in events[0] and events[-1].endswith("has reached a steady state.")
    assert "ECS deploy plan: Service" in output and "shop:1 → shop:2 (new revision)" in output
    assert f"changed container web (image {OLD_IMAGE} → {NEW_IMAGE})" in output
    assert "ECS deploy result:" in output
    assert result.last_line.startswith(f"✔ Deployed shop:2 to {service.name} on {service.cluster} in ")
    assert " s: rollout COMPLETED, 2 task(s) running." in result.last_line
    written = result_of(ecs_env)
    assert written | {"seconds": 0, "deployment_id": ""} == {
        "cluster": service.cluster,
        "service": service.name,
        "deploying": service.task_definition.arn,
        "deployment_id": "",
        "rollout_state": "COMPLETED",
        "seconds": 0,
        "tasks_started": 2,
        "rollback": "none",
        "passed": True,
    }
    assert written["deployment_id"] == service.deployments[0].id
    no_value_printed(result)


def test_the_plan_and_the_result_reach_code_insights_and_shared_storage(run, ecs_env, ecs, service):
    from test.support.codeinsights import CodeInsightsStandIn

    with CodeInsightsStandIn() as bitbucket:
        result = run(ecs_env | pipelines(bitbucket, "production") | {"IMAGES": f"web={NEW_IMAGE}"})
    assert result.returncode == 0, result.output
    plan, done = (
        bitbucket.reports[(COMMIT, f"aws-oidc-deploy-ecs-production-{phase}")] for phase in ("plan", "result")
    )
    assert plan["result"] == "PENDING" and done["result"] == "PASSED"
    assert {"title": "To deploy", "type": "TEXT", "value": "shop:2"} in plan["data"]
    assert {"title": "Rollout", "type": "TEXT", "value": "COMPLETED"} in done["data"]
    summaries = [a["summary"] for a in bitbucket.annotations(COMMIT, "aws-oidc-deploy-ecs-production-plan")]
    assert summaries == ["changed container web"], summaries  # unchanged ones are no annotation
    shared = ecs_env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"]
    with open(f"{shared}/aws-oidc-deploy/report-ecs-plan.json", encoding="utf-8") as stream:
        items = json.load(stream)["items"]
    assert [item["name"] for item in items] == ["container web", "container log-router"]
    no_value_printed(result)


def test_a_task_definition_file_is_registered_with_tags(run, ecs_env, ecs, service, clone_dir):
    write_files(clone_dir, {"ecs/task.json": json.dumps(definition(NEW_IMAGE))})
    env = ecs_env | {"TASK_DEFINITION": "ecs/task.json", "TASK_DEFINITION_TAGS": "commit=3f2a9c1 team=shop"}
    result = run(env)
    assert result.returncode == 0, result.output
    assert ecs.state.families["shop"][-1].tags == [
        {"key": "commit", "value": "3f2a9c1"},
        {"key": "team", "value": "shop"},
    ]
    no_value_printed(result)


def test_a_file_saved_from_describe_task_definition_is_taken(run, ecs_env, ecs, service, clone_dir):
    described = {
        "taskDefinition": definition(NEW_IMAGE)
        | {"revision": 7, "status": "ACTIVE", "compatibilities": ["EC2"]}
    }
    write_files(clone_dir, {"task.json": json.dumps(described)})
    result = run(ecs_env | {"TASK_DEFINITION": "task.json"})
    assert result.returncode == 0, result.output
    assert "left out of the registration" in result.output


# Done when 1: an image that cannot be pulled — ✖ naming the container, the reason, what to check;
# the circuit breaker's rollback named, with the revision the service went back to.
def test_an_image_that_cannot_be_pulled_names_container_reason_and_rollback(run, ecs_env, ecs, service):
    bad = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:nope"
    ecs.state.outcomes[bad] = PULL_FAILS
    result = run(ecs_env | {"IMAGES": f"web={bad}"})
    line = assert_one_clear_failure(result, "Deploy of shop:2 to " + service.name + " failed")
    assert "ECS deployment circuit breaker: tasks failed to start" in line
    assert "Container web: CannotPullContainerError" in line and bad in line
    assert "ecr:BatchGetImage" in line
    assert "The deployment circuit breaker rolled the service back to shop:1 (rollout COMPLETED)." in line
    assert "TaskFailedToStart" in result.output  # the stopped tasks in the details
    assert service.task_definition.revision == 1 and service.deployments[0].rollout == "COMPLETED"
    written = result_of(ecs_env)
    assert written["rollback"] == "circuit breaker → shop:1" and written["passed"] is False
    assert written["rollout_state"] == "FAILED" and written["tasks_started"] == 3
    assert "ECS deploy result: " in result.output
    no_value_printed(result)


# Done when 1: an essential container exiting — its exit code.
def test_an_essential_container_exiting_shows_its_exit_code(run, ecs_env, ecs, service):
    crashing = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:crash"
    ecs.state.outcomes[crashing] = EXITS
    ecs.state.exit_codes[crashing] = 137
    result = run(ecs_env | {"IMAGES": f"web={crashing}"})
    line = assert_one_clear_failure(result, "Essential container web (exit code 137) exited.")
    assert "Check the container's exit code and its logs" in line
    assert "circuit breaker rolled the service back to shop:1" in line


def test_without_circuit_breaker_rollback_on_failure_goes_back_to_the_previous_revision(
    run, ecs_env, ecs, names
):
    cluster, name = names
    service = ecs.state.create_service(cluster, name, definition(), desired=2, breaker=False, rollback=False)
    bad = "registry.example.com/shop:missing"
    ecs.state.outcomes[bad] = PULL_FAILS
    result = run(ecs_env | {"IMAGES": f"web={bad}", "DEPLOY_TIMEOUT": "2", "ROLLBACK_ON_FAILURE": "true"})
    line = assert_one_clear_failure(result, "timed out (DEPLOY_TIMEOUT 2 s)")
    assert "Rolled back to shop:1 (rollout COMPLETED)." in line
    assert updates(ecs)[-1].endswith("task-definition/shop:1")
    assert service.task_definition.revision == 1


def test_a_rollback_the_role_may_not_start_says_the_action(run, ecs_env, ecs, names):
    cluster, name = names
    ecs.state.create_service(cluster, name, definition(), desired=2, breaker=False, rollback=False)
    bad = "registry.example.com/shop:missing"
    ecs.state.outcomes[bad] = PULL_FAILS
    refused = "User: arn:aws:sts::123456789012:assumed-role/deploy/s is not authorized to perform: ecs:UpdateService"
    ecs.faults["UpdateService"] = [None, (400, "AccessDeniedException", refused)]
    result = run(ecs_env | {"IMAGES": f"web={bad}", "DEPLOY_TIMEOUT": "2", "ROLLBACK_ON_FAILURE": "true"})
    line = assert_one_clear_failure(result, "timed out (DEPLOY_TIMEOUT 2 s)")
    assert "could not start (AccessDenied: the role may not call ecs:UpdateService." in line


# Done when 1: a time-out within one poll of DEPLOY_TIMEOUT.
def test_a_deploy_that_never_completes_times_out_within_one_poll(run, ecs_env, ecs, service):
    stuck = "registry.example.com/shop:stuck"
    ecs.state.outcomes[stuck] = STUCK
    result = run(ecs_env | {"IMAGES": f"web={stuck}", "DEPLOY_TIMEOUT": "3", "WAIT_INTERVAL": "0.5"})
    line = assert_one_clear_failure(result, "timed out (DEPLOY_TIMEOUT 3 s)")
    assert "0 running, 2 pending of 2 desired" in line
    assert "left as it is" in line
    assert "was unable to place a task" in result.output
    polls = [call.at for call in ecs.actions("DescribeServices")]
    # From the service's check (the deadline starts after it) to the last poll: the deadline, plus at
    # most one poll interval and one call.
    waited = polls[-1] - polls[0]
    assert 3 <= waited <= 3 + 0.5 + 0.5, waited


# Done when 1: a busy service is queued behind the deployment under way.
def test_a_busy_service_is_queued(run, ecs_env, ecs, service):
    other = ecs.state.busy(service, polls=4, body=definition("registry.example.com/shop:other"))
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert result.returncode == 0, result.output
    assert "is in the middle of a deployment" in result.output
    first_update = ecs.actions("UpdateService")[0].at
    polls_before = [call for call in ecs.actions("DescribeServices") if call.at < first_update]
    assert len(polls_before) >= 4, "the update waited for the other deployment"
    assert other.rollout == "COMPLETED"
    assert service.task_definition.images()[0] == NEW_IMAGE


# Done when 1: a DRAINING service is refused before any change.
def test_a_draining_service_is_refused_before_any_change(run, ecs_env, ecs, service):
    service.status = "DRAINING"
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert_one_clear_failure(
        result, f"ECS service {service.name!r} in cluster {service.cluster!r} is DRAINING"
    )
    assert registered(ecs) == [] and updates(ecs) == []


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_another_deployment_controller_is_refused_with_what_to_use(run, ecs_env, ecs, names, controller):
    cluster, name = names
    ecs.state.create_service(cluster, name, definition(), controller=controller)
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert_one_clear_failure(result, f"uses the {controller} deployment controller")
    assert registered(ecs) == [] and updates(ecs) == []


def test_a_missing_cluster_or_container_is_refused_before_any_change(run, ecs_env, ecs, service):
    result = run(ecs_env | {"IMAGES": f"api={NEW_IMAGE}"})
    assert_one_clear_failure(
        result, "IMAGES names container 'api', which the service's task definition shop:1"
    )
    result = run(ecs_env | {"CLUSTER_NAME": "nope", "IMAGES": f"web={NEW_IMAGE}"})
    assert_one_clear_failure(result, "ECS cluster 'nope' was not found")
    assert registered(ecs) == [] and updates(ecs) == []


# Done when 1: a kill and a rerun converge, with no duplicate revision.
def test_a_rerun_after_a_kill_converges_without_a_duplicate_revision(run, ecs_env, ecs, service):
    # The first run registered and started the deployment, then was killed: no wait, as a kill leaves it.
    first = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}", "WAIT": "false"})
    assert first.returncode == 0, first.output
    assert "not waiting" in first.last_line
    again = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert again.returncode == 0, again.output
    assert "already holds this task definition" in again.output
    assert "an earlier run of this step started it" in again.output
    assert len(ecs.state.families["shop"]) == 2 and len(registered(ecs)) == 1
    assert len(updates(ecs)) == 1
    third = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert third.returncode == 0, third.output
    assert "already runs shop:2: nothing to deploy" in third.last_line
    assert len(ecs.state.families["shop"]) == 2 and len(updates(ecs)) == 1


def test_a_run_killed_during_its_wait_converges_when_run_again(run, ecs_env, ecs, service):
    """Killed (SIGKILL to the whole process group, as a dying step container) the moment its
    UpdateService is carried out; the rerun follows that deployment and registers nothing."""
    ecs.state.polls_per_deploy = 20  # the killed run is surely inside its wait
    env = with_debug(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    killed = Killed(env, Path(env["BITBUCKET_CLONE_DIR"]))
    try:
        ecs.wait_for("UpdateService", timeout=60)
    finally:
        killed.kill()
    killed.check_left_behind("ecs")
    assert service.deployments[0].rollout == "IN_PROGRESS"
    again = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert again.returncode == 0, again.output
    assert "an earlier run of this step started it" in again.output
    assert len(ecs.state.families["shop"]) == 2 and len(registered(ecs)) == 1 and len(updates(ecs)) == 1
    assert service.deployments[0].rollout == "COMPLETED"


def test_an_event_message_cannot_forge_a_line(run, ecs_env, ecs, service):
    ecs.state.deploy_events = ["(service shop) note\n✔ Deployed everything\x1b[2K"]
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert result.returncode == 0, result.output
    assert [line for line in result.output.splitlines() if line.startswith("✔")] == [result.last_line]
    assert "note\\n✔ Deployed everything\\x1b[2K" in result.output


def test_throttling_is_retried(run, ecs_env, ecs, service):
    ecs.faults["DescribeServices"] = [(400, "ThrottlingException", "Rate exceeded")] * 2
    ecs.faults["RegisterTaskDefinition"] = [(400, "ThrottlingException", "Rate exceeded")]
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert result.returncode == 0, result.output
    assert len(registered(ecs)) == 1


def test_access_denied_fails_at_once_naming_the_permissions(run, ecs_env, ecs, service):
    ecs.faults["RegisterTaskDefinition"] = [(400, "AccessDeniedException", "not authorized")] * 3
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    line = assert_one_clear_failure(result, "AccessDenied: the role may not call ecs:RegisterTaskDefinition")
    assert "docs/iam.md" in line
    assert len(ecs.actions("RegisterTaskDefinition")) == 1  # not retried
    assert updates(ecs) == []


def test_a_call_refused_while_following_records_a_failed_result(run, ecs_env, ecs, service):
    # The check's DescribeServices is answered; every poll after the update is refused.
    ecs.faults["DescribeServices"] = [None] + [(400, "AccessDeniedException", "not authorized")] * 5
    result = run(ecs_env | {"IMAGES": f"web={NEW_IMAGE}"})
    assert_one_clear_failure(result, "AccessDenied: the role may not call ecs:DescribeServices")
    assert "ECS deploy result: Deployment ecs-svc/" in result.output
    assert "started, but following it failed" in result.output
    assert len(updates(ecs)) == 1


def test_force_new_deployment_alone_replaces_the_tasks(run, ecs_env, ecs, service):
    result = run(ecs_env | {"FORCE_NEW_DEPLOYMENT": "true"})
    assert result.returncode == 0, result.output
    assert registered(ecs) == [] and len(service.deployments) == 1
    assert ecs.actions("UpdateService")[0].params["forceNewDeployment"] is True


def test_the_stand_in_refuses_what_ecs_refuses():
    """The pipe's checks and the stand-in agree on a task definition the API reference refuses."""
    import botocore.session

    with EcsStandIn(require_signature=False) as standin:
        client = botocore.session.get_session().create_client(
            "ecs",
            region_name="eu-west-1",
            endpoint_url=standin.url,
            aws_access_key_id="x",
            aws_secret_access_key="y",
        )
        bad = definition() | {"family": "shop.prod"}
        with pytest.raises(client.exceptions.ClientException, match="Family contains invalid characters"):
            client.register_task_definition(**bad)
        assert taskdef.ecs_problem(bad) == "family must be 1 to 255 letters, digits, hyphens and underscores"


# DRY_RUN: the checks and the plan, no write call; the same step without it deploys.
def reads_only(calls) -> None:
    """Every call the stand-in answered asked a question: no RegisterTaskDefinition, TagResource or
    UpdateService."""
    written = sorted({call.action for call in calls if not call.action.startswith(("Describe", "List"))})
    assert written == [], written


def test_a_dry_run_records_a_pending_plan_makes_no_write_call_and_without_it_the_step_deploys(
    run, ecs_env, ecs, service, clone_dir
):
    from test.support.codeinsights import CodeInsightsStandIn

    write_files(clone_dir, {"ecs/task.json": json.dumps(definition(NEW_IMAGE))})
    env = ecs_env | {"TASK_DEFINITION": "ecs/task.json", "TASK_DEFINITION_TAGS": "team=shop"}
    plan_id, result_id = "aws-oidc-deploy-ecs-production-plan", "aws-oidc-deploy-ecs-production-result"
    with CodeInsightsStandIn() as bitbucket:
        pipeline = env | pipelines(bitbucket, "production")
        result = run(pipeline | {"DRY_RUN": "true"})
        assert result.returncode == 0, result.output
        reads_only(ecs.actions())
        assert service.task_definition.revision == 1 and len(ecs.state.families["shop"]) == 1
        assert "ECS deploy plan: Service" in result.output
        assert "shop:1 → shop:new (new revision)" in result.output
        assert f"changed container web (image {OLD_IMAGE} → {NEW_IMAGE})" in result.output
        assert result.last_line == (
            f"✔ Plan recorded: {service.name} on {service.cluster}: shop:1 → shop:new (a new revision); "
            "nothing changed (dry run)."
        )
        assert not os.path.exists(
            os.path.join(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"], "aws-oidc-deploy", "ecs.json")
        ), "a dry run must not overwrite the last deploy's result file"
        planned = dict(bitbucket.reports[(COMMIT, plan_id)])
        assert planned["result"] == "PENDING"
        assert {"title": "To deploy", "type": "TEXT", "value": "shop:new"} in planned["data"]
        assert (COMMIT, result_id) not in bitbucket.reports

        result = run(pipeline)
        assert result.returncode == 0, result.output
        assert service.task_definition.revision == 2 and updates(ecs) == [service.task_definition.arn]
        done = bitbucket.reports[(COMMIT, result_id)]
    assert done["result"] == "PASSED"
    assert {"title": "Revision", "type": "TEXT", "value": "shop:2"} in done["data"]
    no_value_printed(result)


def test_a_dry_run_after_the_deploy_finds_the_revision_registered(run, ecs_env, ecs, service):
    env = ecs_env | {"IMAGES": f"web={NEW_IMAGE}"}
    assert run(env).returncode == 0
    calls = len(ecs.actions())
    result = run(env | {"DRY_RUN": "true"})
    assert result.returncode == 0, result.output
    reads_only(ecs.actions()[calls:])
    assert result.last_line == (
        f"✔ Plan recorded: {service.name} on {service.cluster}: already runs shop:2: nothing to deploy; "
        "nothing changed (dry run)."
    )
    assert "shop:2 → shop:2 (revision already registered)" in result.output


def test_a_dry_run_refuses_what_the_deploy_would_refuse(run, ecs_env, ecs, service):
    result = run(ecs_env | {"IMAGES": f"api={NEW_IMAGE}", "DRY_RUN": "true"})
    assert_one_clear_failure(
        result, "IMAGES names container 'api', which the service's task definition shop:1"
    )
    reads_only(ecs.actions())


def test_a_dry_run_of_force_new_deployment_alone_says_the_tasks_would_be_replaced(run, ecs_env, ecs, service):
    result = run(ecs_env | {"FORCE_NEW_DEPLOYMENT": "true", "DRY_RUN": "true"})
    assert result.returncode == 0, result.output
    reads_only(ecs.actions())
    assert result.last_line == (
        f"✔ Plan recorded: {service.name} on {service.cluster}: shop:1 again, its tasks replaced "
        "(FORCE_NEW_DEPLOYMENT); nothing changed (dry run)."
    )
    assert "(tasks replaced: FORCE_NEW_DEPLOYMENT)" in result.output
