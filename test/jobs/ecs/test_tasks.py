"""Stopped tasks told as one line each, and what to check for the reasons ECS gives."""

from hypothesis import given
from hypothesis import strategies as st

from pipe.common.line_safe import is_safe
from pipe.jobs.ecs.tasks import Container, StoppedTask, advice, exited

PULL = "CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref x"


def task(reason: str, *containers: Container, code: str = "TaskFailedToStart") -> StoppedTask:
    return StoppedTask("abc123", reason, code, containers)


def test_a_reason_said_by_the_task_and_its_container_is_said_once():
    line = task(PULL, Container("web", None, PULL)).line()
    assert line.count("CannotPullContainerError") == 1
    assert line == f"task abc123: {PULL} (TaskFailedToStart); container web: no exit code"


def test_exit_codes_of_essential_containers_are_named_once_each():
    stopped = [
        task("Essential container in task exited", Container("web", 137, ""), Container("log", 0, "")),
        task("Essential container in task exited", Container("web", 137, "")),
    ]
    assert exited(stopped) == ["web (exit code 137)"]


def test_advice_follows_the_reasons_seen():
    stopped = [
        task(PULL, Container("web", None, PULL)),
        task("Task failed ELB health checks in (target-group arn)", code="ServiceSchedulerInitiated"),
        task("ResourceInitializationError: unable to pull secrets or registry auth"),
    ]
    found = advice(stopped)
    assert [line.split(":", 1)[0] for line in found] == [
        "CannotPullContainerError",
        "ResourceInitializationError",
        "failed ELB health checks",
    ]
    assert advice([task("Scaling activity initiated by (deployment ecs-svc/1)")]) == []


@given(reason=st.text(max_size=60), container_reason=st.text(max_size=60), name=st.text(max_size=20))
def test_any_reason_is_one_safe_line(reason, container_reason, name):
    line = task(reason, Container(name, 1, container_reason)).line()
    assert "\n" not in line and "\r" not in line and is_safe(line)
