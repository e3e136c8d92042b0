"""COMMAND: ecs in the built image, run as Bitbucket runs it, against the ECS stand-in on this
machine (--network host): a task definition file from the clone registered and followed until the
rollout completes (a DRY_RUN first), a rerun that registers nothing, and an image that cannot be
pulled explained; every run posts its Code Insights report through `host.docker.internal`."""

import json

import pytest

from test.container.insights import assert_accepted, report_id
from test.container.test_image import pipe_variables, run_with_proxy, snapshot
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.ecs import PULL_FAILS, EcsStandIn
from test.support.tokens import make_token

ENV_SECRET = "container-Env-Value+9876543210"
IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop"


def definition(tag: str) -> dict:
    return {
        "family": "shop",
        "containerDefinitions": [
            {
                "name": "web",
                "image": f"{IMAGE}:{tag}",
                "memory": 256,
                "environment": [{"name": "DB_PASSWORD", "value": ENV_SECRET}],
            }
        ],
    }


@pytest.fixture
def ecs():
    with EcsStandIn() as standin:
        yield standin


def ecs_variables(moto_server, ecs, **extra: str) -> dict[str, str]:
    return pipe_variables(
        moto_server,
        make_token(),
        COMMAND="ecs",
        AWS_ENDPOINT_URL_ECS=ecs.url,
        CLUSTER_NAME="prod",
        SERVICE_NAME="shop",
        WAIT_INTERVAL="0.2",
        DEBUG="true",
        **extra,
    )


def test_ecs_deploys_a_task_definition_file_in_the_container(docker, clone, moto_server, ecs, bitbucket):
    service = ecs.state.create_service("prod", "shop", definition("1.0"), desired=2)
    (clone / "deploy").mkdir()
    (clone / "deploy" / "task.json").write_text(json.dumps(definition("1.1")))
    before = snapshot(clone)
    variables = ecs_variables(moto_server, ecs, TASK_DEFINITION="deploy/task.json")
    planned = run_with_proxy(docker, clone, variables | {"DRY_RUN": "true"}, bitbucket.host)
    assert planned.returncode == 0, planned.output
    assert len(ecs.state.families["shop"]) == 1
    result = run_with_proxy(docker, clone, variables, bitbucket.host)
    assert result.returncode == 0, result.output
    assert result.last_line.startswith("✔ Deployed shop:2 to shop on prod in ")
    assert "(service shop) has reached a steady state." in result.output
    assert service.task_definition.images() == [f"{IMAGE}:1.1"]
    assert_no_secret(result.output, ENV_SECRET)
    after = snapshot(clone)
    # Nothing changed in the clone but shared storage (Bitbucket puts it inside the clone).
    assert {n: d for n, d in after.items() if not n.startswith(".bitbucket/")} == before
    [result_file] = [n for n in after if n.endswith("aws-oidc-deploy/ecs.json")]
    assert json.loads(after[result_file])["rollout_state"] == "COMPLETED"
    commit = variables["BITBUCKET_COMMIT"]
    plan, deployed = report_id("ecs", "plan"), report_id("ecs", "result")
    reports = assert_accepted(
        bitbucket, commit, {plan: ("PENDING", 1), deployed: ("PASSED", 0)}, planned.output + result.output
    )
    assert_no_secret(repr(reports) + repr(bitbucket.annotations(commit, plan)), ENV_SECRET)

    again = run_with_proxy(docker, clone, variables, bitbucket.host)
    assert again.returncode == 0, again.output
    assert "already runs shop:2: nothing to deploy" in again.last_line
    assert len(ecs.state.families["shop"]) == 2
    # The rerun's plan (nothing to change) and result replaced the deploy's: one report per job,
    # environment and phase, and its annotations with it.
    assert_accepted(bitbucket, commit, {plan: ("PENDING", 0), deployed: ("PASSED", 0)}, again.output)


def test_ecs_explains_an_image_that_cannot_be_pulled_in_the_container(
    docker, clone, moto_server, ecs, bitbucket
):
    ecs.state.create_service("prod", "shop", definition("1.0"), desired=2)
    ecs.state.outcomes[f"{IMAGE}:missing"] = PULL_FAILS
    variables = ecs_variables(moto_server, ecs, IMAGES=f"web={IMAGE}:missing")
    result = run_with_proxy(docker, clone, variables, bitbucket.host)
    line = assert_one_clear_failure(result, "Container web: CannotPullContainerError")
    assert "The deployment circuit breaker rolled the service back to shop:1" in line
    assert_no_secret(result.output, ENV_SECRET)
    # The FAILED result reaches the reviewer too, one annotation per failed task.
    assert_accepted(
        bitbucket,
        variables["BITBUCKET_COMMIT"],
        {report_id("ecs", "plan"): ("PENDING", 1), report_id("ecs", "result"): ("FAILED", 3)},
        result.output,
    )
