import pytest
from hypothesis import HealthCheck, settings

from test.support import aws, controlplane, faults, leaks
from test.support.run import Result, base_environment, run_pipe
from test.support.tokens import make_token

# The real Kubernetes control plane (one per session) and each test's EKS cluster on it.
pytest_plugins = ["test.support.controlplane.fixtures"]

# Property tests run the same examples on every machine (derandomize, no example database), so CI
# cannot be flaky, and without deadlines, since two CPUs are shared with other work.
settings.register_profile(
    "repeatable",
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("repeatable")


def pytest_terminal_summary(terminalreporter):
    """How many pipe runs the leak scan covered (test/support/run.py scans each), and what the fault
    proxy injected in each job's run through it."""
    if leaks.TALLY.runs:
        terminalreporter.write_line(leaks.TALLY.line())
    for line in faults.FIGURES:
        terminalreporter.write_line(f"fault proxy: {line}")
    for line in controlplane.FIGURES:
        terminalreporter.write_line(f"control plane: {line}")


@pytest.fixture(scope="session")
def moto_server():
    with aws.MotoServer() as server:
        yield server


@pytest.fixture
def s3(moto_server):
    """The test's own S3 client on moto (to arrange and inspect buckets)."""
    return aws.client("s3", moto_server.url)


@pytest.fixture
def clone_dir(tmp_path):
    """Stands in for /opt/atlassian/pipelines/agent/build: the pipe's working directory."""
    path = tmp_path / "build"
    path.mkdir()
    return path


@pytest.fixture
def token():
    return make_token()


@pytest.fixture
def pipe_env(tmp_path, moto_server, token):
    """What a step with `oidc: true` gives the pipe, pointed at the stand-in."""
    home = tmp_path / "home"
    home.mkdir()
    return base_environment(home) | {
        "AWS_ENDPOINT_URL": moto_server.url,
        "BITBUCKET_STEP_OIDC_TOKEN": token,
        "AWS_OIDC_ROLE_ARN": aws.ROLE_ARN,
        "AWS_DEFAULT_REGION": aws.REGION,
        "BITBUCKET_REPO_SLUG": "my-repo",
        "BITBUCKET_BUILD_NUMBER": "42",
        "BITBUCKET_CLONE_DIR": "/opt/atlassian/pipelines/agent/build",
        "COMMAND": "whoami",
    }


@pytest.fixture
def run(clone_dir):
    def run_in_clone(env: dict) -> Result:
        return run_pipe(env, cwd=clone_dir)

    return run_in_clone
