"""bitbucket-pipelines.yml keeps its shape: what runs on every push, on main, and on a release tag."""

import re

import pytest
import yaml

from test.support.run import REPO

PIPELINES = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())["pipelines"]


def steps(pipeline: list[dict]) -> list[dict]:
    return [entry["step"] for entry in pipeline]


def script_text(step: dict) -> str:
    return "\n".join(step.get("script", []))


def named(pipeline: list[dict], fragment: str) -> dict:
    [step] = [step for step in steps(pipeline) if fragment in step["name"]]
    return step


MAIN = PIPELINES["branches"]["main"]
[(TAG_PATTERN, RELEASE)] = PIPELINES["tags"].items()


def test_every_push_runs_lint_and_unit_tests():
    [step] = steps(PIPELINES["default"])
    assert "make lint unit" in script_text(step)


def test_image_runs_python_3_13_like_the_pipe():
    document = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())
    assert document["image"] == "python:3.13-slim"


@pytest.mark.parametrize("pipeline", [MAIN, RELEASE], ids=["main", "release"])
def test_main_and_release_test_build_then_integrate(pipeline):
    names = [step["name"] for step in steps(pipeline)]
    order = [names.index(named(pipeline, fragment)["name"]) for fragment in ("Lint", "Build", "Integration")]
    assert order == sorted(order)
    build = named(pipeline, "Build")
    assert build["services"] == ["docker"] and build["artifacts"] == ["image.tar"]
    assert "docker build" in script_text(build) and "docker save" in script_text(build)


def test_integration_uses_oidc_and_skips_cleanly_without_a_test_account():
    step = named(MAIN, "Integration")
    assert step["oidc"] is True and step["services"] == ["docker"]
    script = step["script"]
    gate = script[0]
    assert "AWS_TEST_ROLE_ARN" in gate and "exit 0" in gate
    assert "--env BITBUCKET_STEP_OIDC_TOKEN" in script_text(step)
    assert "COMMAND=whoami" in script_text(step)


def test_every_step_that_runs_docker_has_the_docker_service():
    for pipeline in (PIPELINES["default"], MAIN, RELEASE):
        for step in steps(pipeline):
            if re.search(r"^\s*docker ", script_text(step), re.MULTILINE):
                assert step.get("services") == ["docker"], step["name"]


def test_only_a_version_tag_releases_and_it_is_checked_first():
    assert TAG_PATTERN == "*.*.*"
    first, *_, last = steps(RELEASE)
    assert 'scripts/check_release.py "${BITBUCKET_TAG}"' in script_text(first)
    assert last["name"] == "Release the image" and last["deployment"] == "production"
    assert 'docker push "org/aws-oidc-deploy:${BITBUCKET_TAG}"' in script_text(last)
    for pipeline in (PIPELINES["default"], MAIN):
        assert "docker push" not in "\n".join(script_text(step) for step in steps(pipeline))


def test_docker_login_reads_the_password_from_stdin():
    release = steps(RELEASE)[-1]
    assert "--password-stdin" in script_text(release)
    assert "--password " not in script_text(release)
