import os
import shutil
import tempfile
from pathlib import Path

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


@pytest.fixture(autouse=True)
def _logging_as_it_was(request):
    """Each test leaves the logging as it found it, and starts with the pipe's loggers propagating.

    A test that runs the pipe in this process (pipe.main.run, pipe.report.publish) calls
    pipe.common.log.setup, which binds one handler to the sys.stderr of that moment (pytest's capture
    file, closed after the test) and stops the pipe's loggers from propagating (caplog then sees none
    of their records): left as it was, later tests in the same xdist worker logged into a closed file
    or past caplog, depending on which worker ran what."""
    import logging

    from pipe import report
    from pipe.common import log

    names = ["", log.LOGGER_NAME, *log._LIBRARY_LOGGERS, *log._QUIET_LOGGERS, "py.warnings"]
    saved = {name: (logging.getLogger(name), logging.getLogger(name).handlers[:]) for name in names}
    states = {name: (named.propagate, named.level) for name, (named, _) in saved.items()}
    handler = log._handler
    warnings_captured = logging._warnings_showwarning is not None  # type: ignore[attr-defined]
    for name in names[1:]:
        logging.getLogger(name).propagate = True
    yield
    _caplog_handler_untouched(request)
    for name, (named, handlers) in saved.items():
        named.handlers = handlers
        named.propagate, level = states[name]
        named.setLevel(level)
    log._handler = handler
    if not warnings_captured:
        logging.captureWarnings(False)
    report.forget()


def _caplog_handler_untouched(request) -> None:
    """pytest 9 keeps one caplog handler for the whole session: a test that replaces a method of it
    (`caplog.handler.emit = ...`) leaves every later test in its worker with a caplog that captures
    nothing. Such a test fails here, by name, and the handler is given back its own methods."""
    plugin = request.config.pluginmanager.get_plugin("logging-plugin")
    handler = getattr(plugin, "caplog_handler", None)
    replaced = sorted(name for name in vars(handler) if callable(vars(handler)[name])) if handler else []
    for name in replaced:
        delattr(handler, name)
    if replaced:
        pytest.fail(
            f"{request.node.nodeid} replaced {', '.join(replaced)} of pytest's caplog handler, which every "
            "later test shares: use a logging.Handler of its own instead"
        )


# A test that uses the Kubernetes control plane (directly or through cluster_access/eks_cluster) is
# marked `controlplane`, one that uses the AWS stand-in (moto server, through pipe_env, s3, ...)
# `standin`: `make check` leaves both out by marker.
CONTROL_PLANE_FIXTURE = "control_plane"
STAND_IN_FIXTURE = "moto_server"
_WORKER_TMP_PREFIX = "pytest-worker-tmp-"


def _worker(config) -> str | None:
    """This process's xdist worker id (gw0, gw1, ...), or None in the controller or without xdist."""
    return getattr(config, "workerinput", {}).get("workerid")


def pytest_configure(config):
    worker = _worker(config)
    if worker:
        # Each worker's pipe runs get a temporary directory of their own: the leak scan looks for the
        # pipe's private directories there (new since the run started), and a killed run's test removes
        # the ones it finds, which must never be another worker's running pipe.
        own = Path(tempfile.mkdtemp(prefix=f"{_WORKER_TMP_PREFIX}{worker}-"))
        config._worker_tmp = own
        os.environ["TMPDIR"] = str(own)
        tempfile.tempdir = str(own)


def pytest_unconfigure(config):
    own = getattr(config, "_worker_tmp", None)
    if own is not None:
        shutil.rmtree(own, ignore_errors=True)


def pytest_collection_modifyitems(items):
    for item in items:
        uses_control_plane = CONTROL_PLANE_FIXTURE in item.fixturenames
        if uses_control_plane:
            item.add_marker(pytest.mark.controlplane)
        if STAND_IN_FIXTURE in item.fixturenames:
            item.add_marker(pytest.mark.standin)
        limit = _time_limit(item)
        # Its setup may wait for a cold control-plane build (15-30 minutes): the limit counts the test's
        # body only (each start-up step of the control plane has a deadline of its own).
        if uses_control_plane:
            limit["func_only"] = True
        # pytest-timeout's signal fails the example running, and hypothesis then shrinks by running
        # it again, with no signal left to come: a property test's limit ends the process (with xdist,
        # the worker: the test is reported failed and a new worker goes on).
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            limit["method"] = "thread"
        if limit != _time_limit(item):
            item.add_marker(pytest.mark.timeout(**limit), append=False)


def _time_limit(item) -> dict:
    """The test's own timeout mark as keyword arguments (timeout=None: pyproject.toml's default)."""
    marker = item.get_closest_marker("timeout")
    if marker is None:
        return {"timeout": None}
    return ({"timeout": marker.args[0]} if marker.args else {}) | marker.kwargs


def pytest_sessionfinish(session):
    """A worker hands its tally and figures to the controller (xdist's workeroutput). The controller,
    or a run without xdist, fails the session on any leak the scan found, even one a test swallowed."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["leak_tally"] = leaks.TALLY.as_dict()
        output["fault_figures"] = list(faults.FIGURES)
        output["controlplane_figures"] = list(controlplane.FIGURES)
    elif leaks.TALLY.hits and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """In the xdist controller: add up what each worker's leak scan looked at."""
    output = getattr(node, "workeroutput", {})
    if "leak_tally" in output:
        leaks.TALLY.add(output["leak_tally"])
    faults.FIGURES.extend(output.get("fault_figures", []))
    controlplane.FIGURES.extend(output.get("controlplane_figures", []))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """How many pipe runs the leak scan covered (test/support/run.py scans each; with xdist, every
    worker's runs), and what the fault proxy injected in each job's run through it."""
    if _worker(config):
        return
    if leaks.TALLY.runs:
        terminalreporter.write_line(leaks.TALLY.line())
    for hit in leaks.TALLY.hits:  # named by secret and place, never by value
        terminalreporter.write_line(f"leak scan hit (fails the session): {hit}", red=True)
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
