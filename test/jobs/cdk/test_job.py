"""End to end: COMMAND=cdk as a process, running the pinned CDK CLI on the sample apps against the
moto server (CloudFormation, S3, SSM), with moto's change-set fixes applied in this process."""

import json
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from moto.cloudformation.models import CloudFormationBackend
from moto.core.exceptions import JsonRESTError
from moto.ssm.responses import SimpleSystemManagerResponse

from pipe import main, signin
from pipe.common import process
from pipe.jobs.cdk import bootstrap as cdk_bootstrap
from pipe.jobs.cdk import job as cdk_job
from pipe.jobs.cdk import outputs as cdk_outputs
from test.support import aws
from test.support import run as run_module
from test.support.cdk import moto_fixes, npm_cache
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.faults import KINDS, FaultProxy, Rates, Request, report
from test.support.interrupts import Killed
from test.support.run import REPO, base_environment, run_pipe
from test.support.tokens import make_token

PYTHON_APP = Path(npm_cache.__file__).resolve().parent / "python_app"
TYPESCRIPT_APP = Path(npm_cache.__file__).resolve().parent / "ts_app"
# A region per purpose: moto keeps one state for the whole session.
BOOTSTRAPPED_REGION = aws.REGION
FRESH_REGION = "eu-north-1"
NEVER_BOOTSTRAPPED_REGION = "ap-southeast-2"
APP_DIRECTORY = "infra"
PIP_SETTINGS = ("PIP_CERT", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_DEFAULT_TIMEOUT")


@dataclass(frozen=True)
class Tools:
    app_modules: Path
    cli_bin: Path
    node_bin: Path


@pytest.fixture(scope="module", autouse=True)
def cloudformation_fixes():
    with moto_fixes.applied():
        yield


@pytest.fixture(scope="module")
def tools():
    """The sample app's node_modules and the pinned CLI, from the cache (installed on first use)."""
    return Tools(npm_cache.installed(npm_cache.SAMPLE_APP), npm_cache.cli_bin(), npm_cache.node_bin())


def copy_app(clone: Path, tools: Tools, link_modules: bool = True) -> Path:
    target = clone / APP_DIRECTORY
    shutil.copytree(npm_cache.SAMPLE_APP, target, ignore=shutil.ignore_patterns("cdk.out", "node_modules"))
    if link_modules:
        (target / "node_modules").symlink_to(tools.app_modules, target_is_directory=True)
    return target


def environment(base: dict, clone: Path, tools: Tools, server_url: str, shared: Path, **extra: str) -> dict:
    port = urlparse(server_url).port
    return (
        base
        | {
            "COMMAND": "cdk",
            "BITBUCKET_CLONE_DIR": str(clone),
            "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
            # As in the image: the pinned CLI and node on PATH.
            "PATH": f"{tools.cli_bin}:{tools.node_bin}:{base['PATH']}",
            "CDK_APP_PATH": APP_DIRECTORY,
            # The CLI builds the template URL it gives CloudFormation from this (its setting for stand-ins).
            "AWS_ENDPOINT_URL_S3_FOR_CLOUDFORMATION": f"http://localhost:{port}",
            # npm's and pip's own settings: installs come from the caches that persist between runs.
            "npm_config_cache": str(npm_cache.npm_cache()),
            "npm_config_prefer_offline": "true",
            "npm_config_update_notifier": "false",
            "PIP_CACHE_DIR": str(npm_cache.pip_cache()),
        }
        # This machine's pip settings (a mirror, the CA of a TLS-intercepting proxy), as the image has its own.
        | {name: os.environ[name] for name in PIP_SETTINGS if os.environ.get(name)}
        | extra
    )


@pytest.fixture
def app(clone_dir, tools):
    return copy_app(clone_dir, tools)


@pytest.fixture
def cdk_env(pipe_env, clone_dir, tools, moto_server, tmp_path, request):
    shared = tmp_path / "shared"
    shared.mkdir()
    # Each test its own stack, named after the test.
    stack = "".join(part.capitalize() for part in request.node.name.split("_")[1:5] if part.isalnum())
    return environment(pipe_env, clone_dir, tools, moto_server.url, shared) | {
        "CDK_CONTEXT": f"stackName={stack}Stack"
    }


def stack_name(env: dict) -> str:
    return env["CDK_CONTEXT"].split("=", 1)[1]


def with_context(env: dict, *items: str) -> dict:
    """CDK_CONTEXT as a YAML list in the step (NAME_COUNT, NAME_0...): the stack's name and `items`."""
    listed = [env["CDK_CONTEXT"], *items]
    # The list form alone, as Bitbucket sends a YAML list: a plain CDK_CONTEXT beside it that says
    # something else is refused (the two forms must agree).
    plain = {name: value for name, value in env.items() if name != "CDK_CONTEXT"}
    return (
        plain
        | {"CDK_CONTEXT_COUNT": str(len(listed))}
        | {f"CDK_CONTEXT_{i}": v for i, v in enumerate(listed)}
    )


def client(service: str, moto_server, region: str = BOOTSTRAPPED_REGION):
    return aws.client(service, moto_server.url, region)


@pytest.fixture(scope="module")
def bootstrapped(moto_server, tools, tmp_path_factory):
    """BOOTSTRAPPED_REGION bootstrapped once for the module, by the pipe itself."""
    root = tmp_path_factory.mktemp("bootstrap")
    (root / "home").mkdir()
    (root / "clone").mkdir()
    (root / "shared").mkdir()
    copy_app(root / "clone", tools)
    base = base_environment(root / "home") | {
        "AWS_ENDPOINT_URL": moto_server.url,
        "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
        "AWS_OIDC_ROLE_ARN": aws.ROLE_ARN,
        "AWS_DEFAULT_REGION": BOOTSTRAPPED_REGION,
    }
    env = environment(base, root / "clone", tools, moto_server.url, root / "shared", CDK_COMMAND="bootstrap")
    result = run_pipe(env, cwd=root / "clone")
    assert result.returncode == 0, result.output
    return BOOTSTRAPPED_REGION


def outputs_of(cloudformation, name: str) -> dict[str, str]:
    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    return {item["OutputKey"]: item["OutputValue"] for item in stack.get("Outputs", [])}


def shared_outputs(env: dict) -> dict:
    path = Path(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"]) / cdk_outputs.SHARED_FILE
    return json.loads(path.read_text(encoding="utf-8"))


def change_message(app: Path, new: str) -> None:
    script = app / "bin" / "app.js"
    text = script.read_text(encoding="utf-8")
    assert 'const MESSAGE = "first version";' in text
    script.write_text(
        text.replace('const MESSAGE = "first version";', f'const MESSAGE = "{new}";'), encoding="utf-8"
    )


# Done when 1: bootstrap, then deploy: CREATE_COMPLETE, outputs printed and in the outputs file.
def test_bootstrap_then_deploy_creates_the_stack_prints_and_shares_its_outputs(
    run, cdk_env, app, moto_server
):
    env = cdk_env | {"AWS_DEFAULT_REGION": FRESH_REGION}
    ssm = client("ssm", moto_server, FRESH_REGION)
    assert not ssm.describe_parameters()["Parameters"]

    bootstrap = run(env | {"CDK_COMMAND": "bootstrap"})
    assert bootstrap.returncode == 0, bootstrap.output
    assert (
        bootstrap.last_line
        == f"✔ Bootstrapped aws://{aws.ACCOUNT}/{FRESH_REGION} for the CDK (qualifier hnb659fds)."
    )
    version = ssm.get_parameter(Name=cdk_bootstrap.parameter_name("hnb659fds"))["Parameter"]["Value"]
    assert int(version) >= 1

    deploy = run(env)
    assert deploy.returncode == 0, deploy.output
    name = stack_name(env)
    cloudformation = client("cloudformation", moto_server, FRESH_REGION)
    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = outputs_of(cloudformation, name)
    assert outputs["Message"] == "first version"
    client("s3", moto_server, FRESH_REGION).head_bucket(Bucket=outputs["BucketName"])
    assert f"CDK bootstrap version {version} in aws://{aws.ACCOUNT}/{FRESH_REGION}" in deploy.output
    assert f"  {name}.BucketName = {outputs['BucketName']}" in deploy.stdout
    assert f"  {name}.Message = first version" in deploy.stdout
    assert shared_outputs(env) == {name: outputs}
    assert (
        deploy.last_line
        == f"✔ Deployed {name} to aws://{aws.ACCOUNT}/{FRESH_REGION} in "
        + deploy.last_line.split(" in ", 1)[1]
    )


# Done when 2: a change: diff shows it, CDK_DIFF_FAIL fails on it, deploy updates, then no differences.
def test_changed_app_shows_in_diff_then_deploys_as_an_update(run, cdk_env, app, moto_server, bootstrapped):
    name = stack_name(cdk_env)
    cloudformation = client("cloudformation", moto_server)
    first = run(cdk_env)
    assert first.returncode == 0, first.output
    bucket = outputs_of(cloudformation, name)["BucketName"]

    change_message(app, "second version")
    diff = run(cdk_env | {"CDK_COMMAND": "diff"})
    assert diff.returncode == 0, diff.output
    assert "[~] AWS::S3::Bucket Site" in diff.output
    assert '[+]     "Value": "second version"' in diff.output
    assert (
        diff.last_line
        == "✔ 1 stack(s) differ from what is deployed (CDK_DIFF_FAIL is false, so the step passes)."
    )

    failing = run(cdk_env | {"CDK_COMMAND": "diff", "CDK_DIFF_FAIL": "true"})
    assert "[~] AWS::S3::Bucket Site" in failing.output
    assert_one_clear_failure(failing, "1 stack(s) differ from what is deployed, and CDK_DIFF_FAIL is true.")
    assert outputs_of(cloudformation, name)["Message"] == "first version"  # a diff changes nothing

    update = run(cdk_env)
    assert update.returncode == 0, update.output
    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert outputs_of(cloudformation, name) == {"BucketName": bucket, "Message": "second version"}
    assert f"  {name}.Message = second version" in update.stdout
    assert shared_outputs(cdk_env)[name]["Message"] == "second version"

    same = run(cdk_env | {"CDK_COMMAND": "diff", "CDK_DIFF_FAIL": "true"})
    assert same.returncode == 0, same.output
    assert same.last_line == "✔ No differences: the app matches what is deployed."


# Done when 3: deploy without bootstrap: the clear bootstrap line, exit 1, nothing deployed.
def test_deploy_without_bootstrap_says_to_run_bootstrap(run, cdk_env, app, moto_server):
    result = run(cdk_env | {"AWS_DEFAULT_REGION": NEVER_BOOTSTRAPPED_REGION})
    line = assert_one_clear_failure(result, "Run the pipe once with CDK_COMMAND: bootstrap, then deploy.")
    assert f"aws://{aws.ACCOUNT}/{NEVER_BOOTSTRAPPED_REGION} is not bootstrapped for the CDK" in line
    assert "/cdk-bootstrap/hnb659fds/version" in line
    cloudformation = client("cloudformation", moto_server, NEVER_BOOTSTRAPPED_REGION)
    assert cloudformation.describe_stacks()["Stacks"] == []


def test_the_bootstrap_check_reads_the_qualifier_from_cdk_json(run, cdk_env, app, bootstrapped):
    settings = json.loads((app / "cdk.json").read_text())
    settings["context"][cdk_bootstrap.QUALIFIER_KEY] = "team42"
    (app / "cdk.json").write_text(json.dumps(settings))
    result = run(cdk_env)
    line = assert_one_clear_failure(result, "CDK_COMMAND: bootstrap")
    assert "(qualifier team42: no SSM parameter /cdk-bootstrap/team42/version)" in line


@pytest.fixture
def ssm_refuses_first_read():
    """The first GetParameter over HTTP is AccessDenied (a role that may only assume the CDK's roles)."""
    original = SimpleSystemManagerResponse.get_parameter
    refused = []
    lock = threading.Lock()

    def get_parameter(self):
        with lock:
            first = not refused
            refused.append(self._get_param("Name"))
        if first:
            raise JsonRESTError("AccessDeniedException", "not authorized to perform: ssm:GetParameter")
        return original(self)

    SimpleSystemManagerResponse.get_parameter = get_parameter
    try:
        yield refused
    finally:
        SimpleSystemManagerResponse.get_parameter = original


def test_an_unreadable_bootstrap_parameter_is_a_warning_and_the_deploy_goes_on(
    run, cdk_env, app, bootstrapped, ssm_refuses_first_read
):
    result = run(cdk_env)
    assert result.returncode == 0, result.output
    assert ssm_refuses_first_read[0] == "/cdk-bootstrap/hnb659fds/version"
    assert (
        "Could not read /cdk-bootstrap/hnb659fds/version to check the CDK bootstrap (AccessDeniedException)"
        in (result.output)
    )
    assert result.last_line.startswith(f"✔ Deployed {stack_name(cdk_env)} to ")


# Done when 4: a broken app: its own error message, exit 1, no traceback from the pipe.
@pytest.mark.parametrize("command", ["synth", "deploy", "diff"])
def test_a_broken_app_shows_its_own_error(run, cdk_env, app, bootstrapped, command):
    script = app / "bin" / "app.js"
    script.write_text(
        script.read_text().replace(
            "const app = new cdk.App();",
            'const app = new cdk.App();\nthrow new Error("bucket names must be lower case: MySite");',
        )
    )
    result = run(cdk_env | {"CDK_COMMAND": command})
    assert "Error: bucket names must be lower case: MySite" in result.output
    assert "Subprocess exited with error 1" in result.output  # the CLI's own line, passed through
    line = assert_one_clear_failure(
        result, "The CDK app failed to synthesize: Error: bucket names must be lower case: MySite (cdk "
    )
    assert re.search(rf"\(cdk {command} exit status [1-9][0-9]*; the full output is above\)\.$", line), line
    if command != "synth":  # the job's own report, FAILED, recorded before it raised
        report = recorded_report(cdk_env, "plan" if command == "diff" else "result")
        assert report["outcome"] == "FAILED" and report["title"] == f"CDK {command}", report
        assert "Error: bucket names must be lower case: MySite" in report["summary"], report


# Done when 5: the output of a DEBUG deploy holds no secret (run_pipe's leak scan also checks it,
# and every file the run left in the clone, cdk.out included, and in the shared storage).
def test_debug_deploy_output_holds_no_secret(run, cdk_env, app, bootstrapped, token, moto_server):
    session = f"cdk-debug-{os.getpid()}"
    result = run(cdk_env | {"DEBUG": "true", "AWS_ROLE_SESSION_NAME": session})
    assert result.returncode == 0, result.output
    assert "DEBUG: Running: " in result.output and " --verbose" in result.output
    assert "CDK Toolkit CLI version: " in result.output  # the CLI's own verbose lines
    # The pipe's session, and those the CLI made with it for the bootstrap roles (CDK_ROLE_SESSION_NAME).
    issued = [role for role in aws.sts_backend().assumed_roles if role.session_name == session]
    assert any("cdk-hnb659fds-deploy-role" in role.role_arn for role in issued), [r.role_arn for r in issued]
    for role in issued:
        assert_no_secret(result.output, token, role.secret_access_key, role.session_token)
    assert (app / "cdk.out" / "manifest.json").is_file()
    [stack] = client("cloudformation", moto_server).describe_stacks(StackName=stack_name(cdk_env))["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def test_npm_ci_installs_the_apps_dependencies_when_node_modules_is_missing(run, cdk_env, clone_dir, tools):
    app = copy_app(clone_dir, tools, link_modules=False)
    result = run(cdk_env | {"CDK_COMMAND": "synth"})
    assert result.returncode == 0, result.output
    assert "Installing the CDK app's dependencies: npm ci" in result.output
    assert (app / "node_modules" / "aws-cdk-lib" / "package.json").is_file()
    assert (app / "cdk.out" / f"{stack_name(cdk_env)}.template.json").is_file()
    assert (
        result.last_line
        == f"✔ Synthesized the CDK app in {APP_DIRECTORY}: the cloud assembly is in its cdk.out."
    )

    again = run(cdk_env | {"CDK_COMMAND": "synth"})
    assert again.returncode == 0, again.output
    assert "npm ci" not in again.output


def test_the_apps_own_cli_comes_before_the_one_on_path(run, cdk_env, clone_dir, tools, pipe_env):
    app = copy_app(clone_dir, tools, link_modules=False)
    modules = app / "node_modules"
    (modules / ".bin").mkdir(parents=True)
    for package in ("aws-cdk-lib", "constructs"):
        (modules / package).symlink_to(tools.app_modules / package, target_is_directory=True)
    cli_package = tools.cli_bin.parent / "aws-cdk"
    # Copied, not linked: since 0.7 the app's own CLI runs only from inside the clone.
    shutil.copytree(cli_package, modules / "aws-cdk", symlinks=True)
    (modules / ".bin" / "cdk").symlink_to("../aws-cdk/bin/cdk")
    env = cdk_env | {"CDK_COMMAND": "synth", "PATH": f"{tools.node_bin}:{pipe_env['PATH']}"}
    assert shutil.which("cdk", path=env["PATH"]) is None
    result = run(env)
    assert result.returncode == 0, result.output
    version = json.loads((cli_package / "package.json").read_text())["version"]
    assert f"CDK CLI: aws-cdk {version} (the app's own, {modules / '.bin' / 'cdk'})" in result.output


def test_a_python_app_gets_its_requirements_in_a_virtual_environment_outside_the_clone(
    run, cdk_env, clone_dir, tools, monkeypatch
):
    monkeypatch.setattr(run_module, "TIMEOUT_SECONDS", INSTALLING_RUN_SECONDS)
    app = clone_dir / APP_DIRECTORY
    shutil.copytree(PYTHON_APP, app, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    before = sorted(path.name for path in app.iterdir())
    result = run(cdk_env | {"CDK_COMMAND": "synth", "CDK_ARGS": "--quiet"})
    assert result.returncode == 0, result.output
    assert "Installing requirements.txt into a virtual environment outside the clone" in result.output
    [prefix] = [
        line.split(": ", 1)[1]
        for line in result.output.splitlines()
        if line.startswith(f"{process.PROGRAM_FRAME}CDK app Python: ")  # the app's line, framed
    ]
    assert prefix.endswith("/python-venv") and not Path(prefix).is_relative_to(clone_dir)
    assert not Path(prefix).exists()  # the private directory is removed at exit
    assert sorted(path.name for path in app.iterdir()) == sorted([*before, "cdk.out"])
    assert (app / "cdk.out" / f"{stack_name(cdk_env)}.template.json").is_file()


def test_synth_prints_the_template(run, cdk_env, app):
    result = run(cdk_env | {"CDK_COMMAND": "synth"})
    assert result.returncode == 0, result.output
    assert "Type: AWS::S3::Bucket" in result.output
    assert "--no-notices" in result.output  # DEBUG's "Running:" line shows the whole command


# Bad input: the cdk rows of the bad-input catalogue (test/test_bad_inputs.py), one table for every job.


# Done when 6: the CDK guide (docs/cdk.md) has the examples, with variables the pipe declares.
def readme_cdk_examples() -> tuple[str, list[dict]]:
    section = (REPO / "docs" / "cdk.md").read_text(encoding="utf-8")
    examples = []
    for block in section.split("```yaml\n")[1:]:
        for node in _walk(yaml.safe_load(block.split("```", 1)[0])):
            variables = node.get("variables") if isinstance(node, dict) else None
            if isinstance(variables, dict) and variables.get("COMMAND") == "cdk":
                examples.append(variables)
    return section, examples


def test_the_cdk_guide_has_typescript_python_pull_request_and_bootstrap_examples():
    section, examples = readme_cdk_examples()
    declared = {v.name for v in main.COMMON_VARIABLES + signin.VARIABLES + cdk_job.VARIABLES}
    for variables in examples:
        assert set(variables) <= declared, set(variables) - declared
        assert variables.get("CDK_COMMAND", "deploy") in cdk_job.COMMANDS
    assert {variables.get("CDK_COMMAND", "deploy") for variables in examples} == set(cdk_job.COMMANDS)
    assert "A TypeScript app" in section and "A Python app" in section and "requirements.txt" in section
    assert "pull-requests:" in section
    assert any(v.get("CDK_COMMAND") == "diff" and v.get("CDK_DIFF_FAIL") == "true" for v in examples)
    assert "each exit status" not in section  # the exit statuses are spelled out in the variables table
    assert "Exit status of `diff`" in (REPO / "README.md").read_text(encoding="utf-8")


def _walk(node):
    yield node
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        yield from _walk(child)


# 30% of requests faulted, as for the other jobs (test/test_faults_e2e.py), spread over 500, 503,
# SlowDown, throttling in each service's shape and connection resets; 10% delayed.
CDK_FAULTS = Rates.mixed(0.30, latency=0.10)
# The CDK CLI's AWS SDK for JavaScript; the pipe's own calls say Botocore.
CLI_USER_AGENT = "aws-sdk-js/"


def _not_the_clis_sts_calls(request: Request) -> bool:
    """The CDK CLI gives its credential check (STS) 3 attempts on purpose, to fail fast on expired
    credentials, so a 30% rate would fail about 1 run in 40 and the test would measure the CLI's
    design, not the pipe. Every other call, the pipe's own and the CLI's CloudFormation, S3 and SSM
    calls (7 attempts each), is eligible."""
    return not (request.service == "sts" and request.headers.get("User-Agent", "").startswith(CLI_USER_AGENT))


# Issue 8: the cdk deploy's happy path through the fault proxy, with the right end state.
def test_deploy_through_faults(run, cdk_env, app, moto_server, bootstrapped):
    with FaultProxy(moto_server.url, CDK_FAULTS, seed=16, eligible=_not_the_clis_sts_calls) as proxy:
        result = run(cdk_env | {"AWS_ENDPOINT_URL": proxy.url})
    report("cdk deploy", proxy)
    assert result.returncode == 0, result.output
    name = stack_name(cdk_env)
    cloudformation = client("cloudformation", moto_server)
    [stack] = cloudformation.describe_stacks(StackName=name)["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    outputs = outputs_of(cloudformation, name)
    assert outputs["Message"] == "first version"
    assert shared_outputs(cdk_env) == {name: outputs}
    assert sum(proxy.faults[kind] for kind in KINDS) >= 5, proxy.summary()


# How long the pipe may take to reach CloudFormation (synth of the sample app is ~5 s).
REACH_CLOUDFORMATION_SECONDS = 120


@pytest.fixture
def held_change_set():
    """moto's CreateChangeSet, held (the request received, not yet answered) until the test lets it go."""
    received, release = threading.Event(), threading.Event()
    backend = CloudFormationBackend
    original = backend.__dict__["create_change_set"]

    def create_change_set(self, *args, **kwargs):
        received.set()
        release.wait(REACH_CLOUDFORMATION_SECONDS)
        return original(self, *args, **kwargs)

    backend.create_change_set = create_change_set
    try:
        yield received, release
    finally:
        release.set()
        backend.create_change_set = original


# Issue 8: a deploy killed half way (every process of the step at once), then run again, converges.
def test_a_deploy_killed_at_its_change_set_converges_when_run_again(
    run, cdk_env, app, clone_dir, moto_server, bootstrapped, held_change_set
):
    received, release = held_change_set
    killed = Killed(cdk_env, clone_dir)
    try:
        assert received.wait(REACH_CLOUDFORMATION_SECONDS), "the CLI never asked for a change set"
    finally:
        killed.kill()
    release.set()  # CloudFormation carries the request out; its answer goes nowhere
    killed.check_left_behind("cdk deploy", may_write_in_clone=app / "cdk.out")

    result = run(cdk_env)
    assert result.returncode == 0, result.output
    name = stack_name(cdk_env)
    cloudformation = client("cloudformation", moto_server)
    stacks = [s for s in cloudformation.list_stacks()["StackSummaries"] if s["StackName"] == name]
    assert [s["StackStatus"] for s in stacks] == ["CREATE_COMPLETE"], stacks
    assert outputs_of(cloudformation, name)["Message"] == "first version"


# Issue 15, problem 1: a deploy that fails inside CloudFormation ends with the resource and its reason.
def test_a_deploy_that_fails_in_cloudformation_names_the_resource_and_its_reason(
    run, cdk_env, app, moto_server, bootstrapped
):
    result = run(with_context(cdk_env, "importValue=NoSuchExport"))
    line = assert_one_clear_failure(result, f"cdk deploy failed: {stack_name(cdk_env)} failed to deploy: ")
    assert "(AWS::SSM::Parameter) CREATE_FAILED: No export named NoSuchExport found." in line, line
    assert "Imported" in line and line.endswith("(exit status 1; the full output is above).")
    report = recorded_report(cdk_env, "result")  # recorded by the job before it raised
    assert report["outcome"] == "FAILED" and report["title"] == "CDK deploy"
    assert report["summary"] == line.removeprefix("✖ "), (report, line)
    [stack] = client("cloudformation", moto_server).describe_stacks(StackName=stack_name(cdk_env))["Stacks"]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"


# Issue 15, problem 2: a TypeScript app's compile error is the last line, with the CLI's own status.
@pytest.fixture(scope="module")
def typescript_modules():
    return npm_cache.installed(TYPESCRIPT_APP)


def test_a_typescript_compile_error_is_quoted_in_the_last_line(run, cdk_env, clone_dir, typescript_modules):
    app = clone_dir / APP_DIRECTORY
    shutil.copytree(TYPESCRIPT_APP, app)
    (app / "node_modules").symlink_to(typescript_modules, target_is_directory=True)
    script = app / "bin" / "app.ts"
    text = script.read_text(encoding="utf-8")
    assert "const app = new cdk.App();" in text
    script.write_text(
        text.replace("const app = new cdk.App();", "const app = new cdk.App(;"), encoding="utf-8"
    )
    result = run(cdk_env | {"CDK_COMMAND": "synth"})
    line = assert_one_clear_failure(result, "The CDK app failed to synthesize: bin/app.ts(")
    assert re.search(r"bin/app\.ts\([0-9]+,[0-9]+\): error TS[0-9]+: ", line), line
    assert "TSError" not in line
    # The status is the CLI's own, as it exited, not the app's "Subprocess exited with error 1".
    assert re.search(r"\(cdk synth exit status [1-9][0-9]*; the full output is above\)\.$", line), line


# Issue 15, problem 3: a JSON-looking list in a plain CDK_CONTEXT is refused, not split into bad keys.
def test_a_json_list_in_a_plain_cdk_context_is_refused_with_the_yaml_form(run, cdk_env, app, moto_server):
    result = run(cdk_env | {"CDK_CONTEXT": '["stage=prod", "stackName=ContextListStack"]'})
    assert_one_clear_failure(
        result,
        "write it in the step as a YAML list instead: CDK_CONTEXT: ['stage=prod', 'stackName=ContextListStack']",
    )
    assert "CDK CLI" not in result.output  # refused before the CLI ran
    names = [s["StackName"] for s in client("cloudformation", moto_server).describe_stacks()["Stacks"]]
    assert "ContextListStack" not in names and "SampleStack" not in names


def python_app_in(clone_dir: Path, requirements: str | None = None) -> Path:
    app = clone_dir / APP_DIRECTORY
    shutil.copytree(PYTHON_APP, app, ignore=shutil.ignore_patterns("cdk.out", "__pycache__"))
    if requirements is not None:
        (app / "requirements.txt").write_text(requirements, encoding="utf-8")
    return app


def dependency_seconds(output: str) -> float:
    [seconds] = re.findall(r"Python dependencies ready in ([0-9.]+) s\.", output)
    return float(seconds)


# Issue 15, problem 4 (Done when 2): the second run reuses the environment in CDK_CACHE_DIR.
SECOND_RUN_DEPENDENCY_SECONDS = 3
# The first run installs aws-cdk-lib (20-25 s on an idle machine, minutes on a busy shared one),
# beyond the bench's usual limit for one pipe run.
INSTALLING_RUN_SECONDS = 900


def test_a_python_apps_environment_is_reused_from_the_cache_dir(run, cdk_env, clone_dir, monkeypatch):
    monkeypatch.setattr(run_module, "TIMEOUT_SECONDS", INSTALLING_RUN_SECONDS)
    app = python_app_in(clone_dir)
    env = cdk_env | {"CDK_COMMAND": "synth", "CDK_ARGS": "--quiet", "CDK_CACHE_DIR": ".cdk-cache"}
    first = run(env)
    assert first.returncode == 0, first.output
    assert "Installing requirements.txt into a virtual environment in CDK_CACHE_DIR" in first.output
    second = run(env)
    assert second.returncode == 0, second.output
    assert "Installing" not in second.output and "Reusing the virtual environment" in second.output
    before, after = dependency_seconds(first.output), dependency_seconds(second.output)
    print(f"Python app dependencies: first run {before:.1f} s, second run {after:.1f} s")
    assert after < SECOND_RUN_DEPENDENCY_SECONDS, (before, after)
    [venv] = (clone_dir / ".cdk-cache").glob("python-venv-*")
    assert f"CDK app Python: {venv}" in second.output
    assert (app / "cdk.out" / f"{stack_name(cdk_env)}.template.json").is_file()
    # A changed requirements.txt gets a new environment and the old one is removed.
    (app / "requirements.txt").write_text(
        (app / "requirements.txt").read_text(encoding="utf-8") + "# changed\n", encoding="utf-8"
    )
    third = run(env)
    assert third.returncode == 0, third.output
    assert [path.name for path in (clone_dir / ".cdk-cache").glob("python-venv-*")] != [venv.name]
    assert len(list((clone_dir / ".cdk-cache").glob("python-venv-*"))) == 1


# Issue 15, problem 4: bootstrap needs no app: broken dependencies do not stop it.
def test_bootstrap_installs_nothing_and_runs_no_app(run, cdk_env, clone_dir, bootstrapped):
    python_app_in(clone_dir, requirements="no-such-package-aws-oidc-deploy==0.0.0\n")
    result = run(cdk_env | {"CDK_COMMAND": "bootstrap", "CDK_CACHE_DIR": ".cdk-cache"})
    assert result.returncode == 0, result.output
    assert "Installing" not in result.output and "pip install" not in result.output
    assert "CDK app Python" not in result.output  # the app never ran
    assert result.last_line.startswith(
        f"✔ Bootstrapped aws://{aws.ACCOUNT}/{BOOTSTRAPPED_REGION} for the CDK"
    )


# Issue 15, problem 5: two stacks selected one at a time, with and without --exclusively.
def test_stacks_taken_beyond_cdk_stacks_are_named_and_exclusively_keeps_to_the_named(
    run, cdk_env, app, moto_server, bootstrapped
):
    name = stack_name(cdk_env)
    storage = f"{name}Storage"
    env = with_context(cdk_env, "withStorage=true")
    cloudformation = client("cloudformation", moto_server)

    def deployed() -> set[str]:
        return {s["StackName"] for s in cloudformation.describe_stacks()["Stacks"]} & {name, storage}

    diff = run(env | {"CDK_COMMAND": "diff", "CDK_STACKS": name})
    assert diff.returncode == 0, diff.output
    explained = (
        f"CDK_STACKS named {name}; the CDK CLI also compared {storage}, because it depends on it. "
        "Add '--exclusively' to CDK_ARGS to take only the stacks named."
    )
    assert explained in diff.output
    assert diff.last_line.startswith("✔ 2 stack(s) differ")

    only_storage = run(env | {"CDK_STACKS": storage})
    assert only_storage.returncode == 0, only_storage.output
    assert deployed() == {storage} and "CDK_STACKS named" not in only_storage.output

    exclusively = run(env | {"CDK_STACKS": name, "CDK_ARGS": "--exclusively"})
    assert exclusively.returncode == 0, exclusively.output
    assert deployed() == {name, storage} and "CDK_STACKS named" not in exclusively.output
    assert exclusively.last_line.startswith(f"✔ Deployed {name} to ")

    both = run(env | {"CDK_STACKS": name})
    assert both.returncode == 0, both.output
    assert explained.replace("compared", "deployed") in both.output


# Issue 15: CDK_REQUIRE_APPROVAL broadening refuses a change that widens IAM, and changes nothing.
def test_require_approval_broadening_refuses_an_iam_widening_change(
    run, cdk_env, app, moto_server, bootstrapped
):
    first = run(cdk_env)
    assert first.returncode == 0, first.output
    widened = run(with_context(cdk_env, "withRole=true") | {"CDK_REQUIRE_APPROVAL": "broadening"})
    line = assert_one_clear_failure(widened, "cdk deploy failed: Stack includes security-sensitive updates")
    assert "CDK_REQUIRE_APPROVAL stopped it" in line and "exit status 1" in line, line
    cloudformation = client("cloudformation", moto_server)
    [stack] = cloudformation.describe_stacks(StackName=stack_name(cdk_env))["Stacks"]
    assert stack["StackStatus"] == "CREATE_COMPLETE"  # no update was executed
    template = cloudformation.get_template(StackName=stack_name(cdk_env))["TemplateBody"]
    assert "AWS::IAM::Role" not in json.dumps(template)


# Issue 24: the plan of a diff and the result of a deploy, as reports (pipe.report), read here from
# the whole report the entry writes to shared storage (pipe.report.publish) and from the log.
def recorded_report(env: dict, phase: str) -> dict:
    path = Path(env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"]) / f"aws-oidc-deploy/report-cdk-{phase}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def items_of(document: dict) -> set[tuple[str, str]]:
    return {(item["change"], item["name"]) for item in document["items"]}


def test_diff_plan_lists_resources_and_fails_on_iam_and_security_group_changes_unless_allowed(
    run, cdk_env, app, moto_server, bootstrapped
):
    name = stack_name(cdk_env)
    first = run(with_context(cdk_env, "ingressPort=443"))
    assert first.returncode == 0, first.output

    # An added queue and a changed bucket: no IAM, no security group.
    change_message(app, "second version")
    plain = run(with_context(cdk_env, "ingressPort=443", "queue=true") | {"CDK_COMMAND": "diff"})
    assert plain.returncode == 0, plain.output
    plan = recorded_report(cdk_env, "plan")
    assert plan["outcome"] == "PASSED", plan
    assert sorted(change for change, _ in items_of(plan)) == ["added", "changed"], plan["items"]
    [added] = [item for item in plan["items"] if item["change"] == "added"]
    [changed] = [item for item in plan["items"] if item["change"] == "changed"]
    assert added["name"].endswith("(AWS::SQS::Queue)") and added["name"].startswith(f"{name} Jobs")
    assert changed["name"].endswith("(AWS::S3::Bucket)") and changed["detail"] == "changed: Tags"
    assert plan["summary"].startswith(f"1 stack(s) compared with aws://{aws.ACCOUNT}/{BOOTSTRAPPED_REGION}: ")
    assert "1 resource(s) to add, 1 to change, 0 to replace, 0 to remove." in plan["summary"]
    assert "CDK diff: 1 stack(s) compared" in plain.output  # the report's log line

    # A role with a policy: IAM statements, FAILED; the step still passes (CDK_DIFF_FAIL decides).
    iam = run(
        with_context(cdk_env, "ingressPort=443", "withRole=true", "withPolicy=true") | {"CDK_COMMAND": "diff"}
    )
    assert iam.returncode == 0, iam.output
    plan = recorded_report(cdk_env, "plan")
    assert plan["outcome"] == "FAILED", plan
    statements = [item for item in plan["items"] if "IAM statement added" in item["name"]]
    assert any("s3:GetObject" in item["detail"] for item in statements), statements
    assert any("lambda.amazonaws.com" in item["detail"] for item in statements), statements
    assert {item["severity"] for item in statements} == {"HIGH"}
    assert "Refused: " in plan["summary"] and "CDK_ALLOW_SECURITY_CHANGES" in plan["summary"]
    assert "Refused: " in iam.output  # the warning line

    allowed = run(
        with_context(cdk_env, "ingressPort=443", "withRole=true", "withPolicy=true")
        | {"CDK_COMMAND": "diff", "CDK_ALLOW_SECURITY_CHANGES": "true"}
    )
    assert allowed.returncode == 0, allowed.output
    plan = recorded_report(cdk_env, "plan")
    assert plan["outcome"] == "PASSED", plan
    assert "allowed by CDK_ALLOW_SECURITY_CHANGES" in plan["summary"]
    assert any("IAM statement added" in item["name"] for item in plan["items"])

    # The security group's ingress opened on another port: one rule removed, one added.
    ingress = run(with_context(cdk_env, "ingressPort=22") | {"CDK_COMMAND": "diff"})
    assert ingress.returncode == 0, ingress.output
    plan = recorded_report(cdk_env, "plan")
    assert plan["outcome"] == "FAILED", plan
    rules = sorted(
        (item["change"], json.loads(item["detail"])["FromPort"])
        for item in plan["items"]
        if "security-group rule" in item["name"]
    )
    assert rules == [("added", 22), ("removed", 443)], plan["items"]
    assert outputs_of(client("cloudformation", moto_server), name)["Message"] == "first version"


PLANTED = "PlantedPw-8d1f"


def test_deploy_result_has_the_stacks_outputs_and_duration_and_no_planted_secret(
    run, cdk_env, app, moto_server, bootstrapped
):
    name = stack_name(cdk_env)
    connection = f"postgres://app:{PLANTED}@db.example:5432/app"
    result = run(with_context(cdk_env, f"outputValue={connection}"))
    assert result.returncode == 0, result.output
    outputs = outputs_of(client("cloudformation", moto_server), name)
    assert outputs["Extra"] == connection  # the secret is really there, in AWS
    report = recorded_report(cdk_env, "result")
    assert report["outcome"] == "PASSED" and report["title"] == "CDK deploy"
    assert report["summary"] == result.last_line.removeprefix("✔ ")
    fields = {field["title"]: field for field in report["fields"]}
    assert fields["Stacks"]["value"] == 1 and fields["Outputs"]["value"] == 3
    assert fields["Duration"]["type"] == "DURATION" and fields["Duration"]["value"] > 0
    assert ("done", f"{name}.BucketName") in items_of(report)
    [extra] = [item for item in report["items"] if item["name"] == f"{name}.Extra"]
    assert extra["detail"] == "postgres://****@db.example:5432/app"
    assert report["document"]["outputs"][name]["Message"] == "first version"
    for text in (
        result.output,
        *(p.read_text() for p in Path(cdk_env["BITBUCKET_PIPE_SHARED_STORAGE_DIR"]).rglob("*.json")),
    ):
        assert PLANTED not in text
