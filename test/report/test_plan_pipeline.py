"""docs/report.md's `pull-requests:` pipeline is a plan of every job that has one: pasted as it is,
no step changes anything. Each step sets its job's plan switch, read by the job's own parser, and
only variables its job declares (one it does not declare would be ignored, and the job would run
for real — as beanstalk's DRY_RUN once was)."""

import yaml

from pipe import jobs
from scripts.check_pipeline_yaml import step_examples
from test.test_contract import declared

# Each job's plan switch: the variables and values that make a run a plan. A job not named has no
# plan mode (cloudfront-invalidate: an invalidation is its own change; whoami and trust-policy change
# nothing).
PLAN_SWITCHES = {
    "s3-sync": ({"DRY_RUN": True},),
    "kubectl": ({"KUBECTL_COMMAND": "diff"}, {"DRY_RUN": True}),
    "cdk": ({"CDK_COMMAND": "diff"},),
    "beanstalk": ({"DRY_RUN": True},),
    "ecs": ({"DRY_RUN": True},),
    "helm": ({"HELM_ACTION": "diff"}, {"DRY_RUN": True}),
}


def plan_steps() -> list[dict]:
    [pipeline] = [
        yaml.safe_load(text) for _, text in step_examples("docs/report.md") if "pull-requests:" in text
    ]
    steps = []
    for branch in pipeline["pipelines"]["pull-requests"].values():
        for entry in branch:
            found = entry["parallel"]["steps"] if "parallel" in entry else [entry]
            steps += [item["step"] for item in found]
    return steps


def pipe_variables(step: dict) -> dict:
    [pipe] = [line for line in step["script"] if isinstance(line, dict) and "pipe" in line]
    return pipe["variables"]


def parsed(command: str, name: str, raw) -> object:
    """The value as the job reads it (its own Variable's parser)."""
    [variable] = [item for item in jobs.load(command).VARIABLES if item.name == name]
    return variable.read(str(raw))


def problems(steps: list[dict]) -> list[str]:
    found, known = [], declared()
    for step in steps:
        variables = pipe_variables(step)
        command = variables.get("COMMAND")
        if command not in PLAN_SWITCHES:
            found.append(f"{step['name']}: COMMAND {command!r} has no plan mode")
            continue
        found += [
            f"{step['name']}: {name} is not a variable of COMMAND {command}"
            for name in variables
            if (name, command) not in known
        ]
        if not any(
            all(
                name in variables and parsed(command, name, variables[name]) == want
                for name, want in switch.items()
            )
            for switch in PLAN_SWITCHES[command]
        ):
            found.append(f"{step['name']}: sets no plan switch of COMMAND {command}")
    return found


def test_every_step_of_the_pull_request_pipeline_is_a_plan_of_declared_variables():
    steps = plan_steps()
    assert problems(steps) == []
    assert sorted(pipe_variables(step)["COMMAND"] for step in steps) == sorted(PLAN_SWITCHES)


def test_a_step_without_its_switch_or_with_a_foreign_variable_is_caught():
    steps = plan_steps()
    beanstalk = next(step for step in steps if pipe_variables(step)["COMMAND"] == "beanstalk")
    assert problems([beanstalk]) == []
    del pipe_variables(beanstalk)["DRY_RUN"]
    pipe_variables(beanstalk)["KUBECTL_COMMAND"] = "diff"  # kubectl's switch, not beanstalk's
    assert problems([beanstalk]) == [
        f"{beanstalk['name']}: KUBECTL_COMMAND is not a variable of COMMAND beanstalk",
        f"{beanstalk['name']}: sets no plan switch of COMMAND beanstalk",
    ]
    ecs = next(step for step in steps if pipe_variables(step)["COMMAND"] == "ecs")
    pipe_variables(ecs)["DRY_RUN"] = "false"
    assert problems([ecs]) == [f"{ecs['name']}: sets no plan switch of COMMAND ecs"]
