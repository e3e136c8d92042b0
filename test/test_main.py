"""End to end: every bad input ends in one clear line, exit status 1, no traceback, no secret."""

import contextlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test.support import aws
from test.support.checks import assert_no_secret, assert_one_clear_failure
from test.support.run import REPO, Result
from test.support.tokens import make_token

BAD_INPUTS = [
    # (what is changed in a good environment, what the failure line must say)
    pytest.param(
        {"COMMAND": None}, "COMMAND is required: set it to the job to run, one of: whoami", id="no-command"
    ),
    pytest.param({"COMMAND": ""}, "COMMAND is required", id="empty-command"),
    pytest.param(
        {"COMMAND": "deploy"},
        "COMMAND must be one of: whoami, trust-policy, kubectl, s3-sync, beanstalk",
        id="unknown-command",
    ),
    pytest.param({"COMMAND": "[whoami"}, "COMMAND must be one of", id="yaml-looking-command"),
    pytest.param({"AWS_OIDC_ROLE_ARN": "deploy"}, "AWS_OIDC_ROLE_ARN must be an IAM role ARN", id="bad-arn"),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": "arn:aws:iam::12345:role/deploy"},
        "must contain a 12-digit AWS account ID",
        id="short-account",
    ),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": "arn:aws:sts::123456789012:assumed-role/deploy/session"},
        "not an assumed-role session ARN",
        id="assumed-role-arn",
    ),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": "arn:aws-xx:iam::123456789012:role/x"},
        "must be in partition",
        id="bad-partition",
    ),
    pytest.param({"AWS_DEFAULT_REGION": None}, "AWS_DEFAULT_REGION is required", id="no-region"),
    pytest.param(
        {"AWS_DEFAULT_REGION": "europe"}, "AWS_DEFAULT_REGION must be an AWS region name", id="bad-region"
    ),
    pytest.param(
        {"AWS_DEFAULT_REGION": "cn-north-1"},
        "partition aws but region cn-north-1 is in aws-cn",
        id="wrong-partition",
    ),
    pytest.param(
        {"AWS_ROLE_DURATION_SECONDS": "60"},
        "must be a whole number of seconds from 900 to 43200",
        id="short-duration",
    ),
    pytest.param(
        {"AWS_ROLE_DURATION_SECONDS": "1h"},
        "AWS_ROLE_DURATION_SECONDS must be a whole number",
        id="text-duration",
    ),
    pytest.param(
        {"AWS_ROLE_DURATION_SECONDS": "50000"}, "from 900 to 43200, got '50000'", id="long-duration"
    ),
    pytest.param({"BITBUCKET_STEP_OIDC_TOKEN": None}, "add `oidc: true` to this step", id="no-token"),
    pytest.param({"BITBUCKET_STEP_OIDC_TOKEN": "not-a-token"}, "is not an OIDC token", id="malformed-token"),
    pytest.param({"BITBUCKET_STEP_OIDC_TOKEN": "a.b!.c"}, "is not an OIDC token", id="garbled-token"),
    pytest.param(
        {"AWS_ROLE_SESSION_NAME": "my session"},
        "AWS_ROLE_SESSION_NAME must be 2-64 characters",
        id="session-space",
    ),
    pytest.param(
        {"AWS_ROLE_SESSION_NAME": "x" * 65}, "AWS_ROLE_SESSION_NAME must be 2-64", id="session-long"
    ),
    pytest.param({"AWS_ROLE_SESSION_NAME": "x"}, "AWS_ROLE_SESSION_NAME must be 2-64", id="session-short"),
    pytest.param(
        {"ROLE_ARN": "arn:aws:iam::1:role/x"}, "ROLE_ARN must contain a 12-digit", id="bad-chain-arn"
    ),
    pytest.param(
        {"AWS_ALLOWED_ACCOUNT_IDS": "12345"},
        "AWS_ALLOWED_ACCOUNT_IDS must be a list of 12-digit",
        id="bad-account",
    ),
    pytest.param(
        {"AWS_ALLOWED_ACCOUNT_IDS_COUNT": "abc"},
        "AWS_ALLOWED_ACCOUNT_IDS_COUNT must be the number",
        id="bad-count",
    ),
    pytest.param({"DEBUG": "!!python/object"}, "DEBUG must be true or false", id="yaml-tag-debug"),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": "arn:aws:iam::123456789012:role/a\x07b"},
        "contains control characters",
        id="control",
    ),
    pytest.param({"AWS_ROLE_SESSION_NAME": "a" * 70_000}, "is 70000 characters long", id="huge-value"),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": None, "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEKEY123456"},
        "AWS_SECRET_ACCESS_KEY is required with AWS_ACCESS_KEY_ID",
        id="half-access-keys",
    ),
    pytest.param({"AWS_OIDC_ROLE_ARN": None}, "AWS_OIDC_ROLE_ARN is required", id="token-without-role"),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": None, "BITBUCKET_STEP_OIDC_TOKEN": None},
        "No AWS credentials",
        id="no-credentials",
    ),
    pytest.param(
        {"AWS_OIDC_ROLE_ARN": None, "AWS_ROLE_ARN": aws.ROLE_ARN},
        "AWS_WEB_IDENTITY_TOKEN_FILE is required",
        id="half-file",
    ),
    pytest.param(
        {
            "AWS_OIDC_ROLE_ARN": None,
            "AWS_ROLE_ARN": aws.ROLE_ARN,
            "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token",
        },
        "cannot be read",
        id="missing-token-file",
    ),
]


def _apply(env: dict, changes: dict) -> dict:
    changed = dict(env)
    for name, value in changes.items():
        if value is None:
            changed.pop(name, None)
        else:
            changed[name] = value
    return changed


@pytest.mark.parametrize(("changes", "expected"), BAD_INPUTS)
def test_bad_input_gives_one_clear_line(run, pipe_env, changes, expected):
    result = run(_apply(pipe_env, changes))
    assert_one_clear_failure(result, expected)
    assert_no_secret(result.output, pipe_env["BITBUCKET_STEP_OIDC_TOKEN"])


def test_expired_token_fails_before_any_sts_call(run, pipe_env):
    with aws.scripted("assume_role_with_web_identity") as sts:
        result = run(pipe_env | {"BITBUCKET_STEP_OIDC_TOKEN": make_token(expires_in=-120)})
    line = assert_one_clear_failure(result, "BITBUCKET_STEP_OIDC_TOKEN expired at")
    assert "ago" in line and "re-run the step" in line
    assert sts.calls == []


def test_secret_value_is_not_echoed_in_its_error(run, pipe_env):
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    result = run(
        pipe_env | {"AWS_OIDC_ROLE_ARN": "", "BITBUCKET_STEP_OIDC_TOKEN": "", "AWS_SECRET_ACCESS_KEY": secret}
    )
    assert_one_clear_failure(result, "AWS_ACCESS_KEY_ID is required with AWS_SECRET_ACCESS_KEY")
    assert_no_secret(result.output, secret)


def test_malformed_token_is_not_echoed(run, pipe_env):
    garbage = "eyJhbGciOiJSUzI1NiJ9.bm90LWpzb24tc2VjcmV0LXZhbHVl.c2lnbmF0dXJl"
    result = run(pipe_env | {"BITBUCKET_STEP_OIDC_TOKEN": garbage})
    assert_one_clear_failure(result, "its claims are not base64url-encoded JSON")
    assert_no_secret(result.output, garbage, "bm90LWpzb24tc2VjcmV0LXZhbHVl")


def _failure_lines(output: str) -> list[str]:
    return [line for line in Result(0, output, "").output.splitlines() if line.startswith("✖")]


SIGNALS = [(signal.SIGINT, 130, "Interrupted."), (signal.SIGTERM, 143, "Stopped by SIGTERM.")]
# Bounded waits for the pipe to reach a state; polled, never slept on.
REACH_SECONDS = 60


def _signal_ends_in_one_line(
    env: dict, cwd: Path, signum: int, status: int, said: str, reached, then: int | None = None
) -> None:
    """Start the pipe, wait until `reached(process)` returns (a bounded wait of its own), send
    `signum` (and at once `then`): the run ends with `status`, no traceback and the one ✖ line `said`."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pipe"],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        reached(process)
        process.send_signal(signum)
        if then is not None:
            process.send_signal(then)
        output, _ = process.communicate(timeout=REACH_SECONDS)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == status, output
    assert "Traceback" not in output, output
    assert _failure_lines(output) == [f"✖ {said}"], output


@pytest.mark.parametrize(("signum", "status", "said"), SIGNALS)
def test_a_signal_mid_run_ends_cleanly(pipe_env, tmp_path, signum, status, said):
    # An STS endpoint that accepts the connection and never answers holds the pipe mid-run; the
    # signal is sent once the pipe has connected (the token file, a FIFO before 0.7, is refused now).
    with _silent_sts(pipe_env) as (env, connected):
        _signal_ends_in_one_line(env, tmp_path, signum, status, said, connected)


def test_sigterm_right_after_sigint_keeps_the_first_signals_line_and_status(pipe_env, tmp_path):
    """Ctrl-C, then the step's SIGTERM at once: `✖ Interrupted.` and 130, the first signal's (before
    1.1: `✖ Interrupted.` and 143). Sent together the other way round, both are pending when Python
    looks, and it runs SIGINT's handler first: that order is Python's, not the pipe's."""
    signum, status, said, second = signal.SIGINT, 130, "Interrupted.", signal.SIGTERM
    with _silent_sts(pipe_env) as (env, connected):
        _signal_ends_in_one_line(env, tmp_path, signum, status, said, connected, then=second)


@contextlib.contextmanager
def _silent_sts(pipe_env):
    """An STS endpoint that accepts connections and never answers, and a callback that waits for the
    pipe to connect to it (each connection closed at the end)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(REACH_SECONDS)
        connections = []
        try:
            yield (
                pipe_env | {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"},
                lambda _process: connections.append(silent.accept()[0]),
            )
        finally:
            for connection in connections:
                connection.close()


def _loading_libraries(pid: int) -> bool:
    """The process is loading the SDK: Python's ssl module (which botocore's imports pull in, half way
    through them) is mapped into it. Polled from /proc, so the test needs no hook in the pipe."""
    try:
        return "/_ssl." in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return True  # it has ended already: let communicate() tell


def _until_loading_libraries(process: subprocess.Popen) -> None:
    deadline = time.monotonic() + REACH_SECONDS
    while not _loading_libraries(process.pid):
        assert time.monotonic() < deadline, "the pipe never loaded the SDK"


@pytest.mark.parametrize(("signum", "status", "said"), SIGNALS)
def test_a_signal_while_the_pipe_loads_its_libraries_is_one_line(pipe_env, tmp_path, signum, status, said):
    """A signal while the pipe imports boto3, the toolkit and the jobs ends the run with one line and
    130 or 143 (before 0.7: a KeyboardInterrupt traceback, or killed by SIGTERM with no line)."""
    _signal_ends_in_one_line(pipe_env, tmp_path, signum, status, said, _until_loading_libraries)


@pytest.mark.parametrize("value", ["eu-west-١", "us-iso-east-1"])
def test_unsupported_or_non_ascii_region_is_bad_input(run, pipe_env, value):
    assert_one_clear_failure(
        run(pipe_env | {"AWS_DEFAULT_REGION": value}), "AWS_DEFAULT_REGION must be an AWS region name"
    )


def test_token_with_an_absurd_expiry_is_bad_input(run, pipe_env):
    from test.support.tokens import claims, sign

    result = run(
        pipe_env | {"COMMAND": "trust-policy", "BITBUCKET_STEP_OIDC_TOKEN": sign(claims(exp=10**20))}
    )
    assert_one_clear_failure(result, "has no valid expiry (exp claim)")


# What the entry point's start (the console script's module, then pipe.main with the dispatch table
# and the sign-in's declarations) must not load: each is milliseconds to tens of milliseconds of every
# run's start-up, and only the job that needs it imports it (issue 16).
NOT_AT_START = (
    "botocore",
    "boto3",
    "awscrt",
    "s3transfer",
    "urllib3",
    "requests",
    "http.client",
    "ssl",
    "yaml",
    "colorlog",
    "colorama",
    "dataclasses",
    "kubernetes",
    "bitbucket_pipes_toolkit",
    "pathlib",
)


def test_the_entry_points_start_loads_no_sdk_yaml_or_colour_library():
    probe = (
        "import sys\n"
        "import pipe.entry, pipe.main\n"
        f"print(','.join(m for m in {NOT_AT_START!r} if m in sys.modules))\n"
        "print('pipe.signin' in sys.modules and 'pipe.jobs' in sys.modules)\n"
    )
    # -S: the development install's import finder, run by `site`, loads pathlib itself; the image's
    # interpreter has no such finder, and the start needs nothing from site-packages.
    completed = subprocess.run(
        [sys.executable, "-S", "-c", probe], cwd=REPO, capture_output=True, text=True, check=True, timeout=60
    )
    loaded, probe_saw_the_pipe = completed.stdout.splitlines()
    assert probe_saw_the_pipe == "True"
    assert loaded == ""


# What a whole trust-policy run (no AWS call, colour on as in a Bitbucket build) must not load: the SDK
# and boto3 come with the jobs that call AWS; colorlog formats its one log line, without colorama (which
# loads ctypes: ~10 ms) and without the toolkit.
NOT_IN_TRUST_POLICY = (
    "botocore",
    "boto3",
    "s3transfer",
    "awscrt",
    "yaml",
    "kubernetes",
    "colorama",
    "ctypes",
    "requests",
    "bitbucket_pipes_toolkit",
)


def test_a_trust_policy_run_loads_no_sdk_boto3_or_colorama(pipe_env, clone_dir):
    probe = (
        "import sys\n"
        "import pipe.entry\n"
        "try:\n"
        "    pipe.entry.entry()\n"
        "except SystemExit as ended:\n"
        "    print('exit', ended.code)\n"
        f"print('loaded', ','.join(m for m in {NOT_IN_TRUST_POLICY!r} if sys.modules.get(m) is not None))\n"
        "print('colorlog', 'colorlog' in sys.modules)\n"
    )
    env = pipe_env | {"COMMAND": "trust-policy"}
    assert "NO_COLOR" not in env and env["BITBUCKET_BUILD_NUMBER"]
    completed = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=clone_dir, capture_output=True, text=True, timeout=60
    )
    lines = completed.stdout.splitlines()
    said = completed.stdout[-2000:] + completed.stderr[-2000:]
    assert lines[-3:] == ["exit 0", "loaded ", "colorlog True"], said
    assert "Trust policy and CloudFormation template printed" in completed.stdout
    assert "\x1b[34mINFO: OIDC token claims: " in completed.stderr  # colorlog's line, coloured
