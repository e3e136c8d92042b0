"""A fuzz test over the whole variable contract (issue 29, "Done when" 2): every variable of
contract/variables-1.0.yml, hostile values generated, the pipe run as a child against moto server,
and every promise asserted at once:

- one clear `✖` line and exit 1, or success (exit 0); never "This is a bug", never a traceback;
- a value refused before any AWS call is refused by a line naming the variable;
- the run ends within a bounded time;
- no secret in any form in the output or in any file the run left (test/support/run.py's leak scan);
- nothing written outside the clone (the rest of the test's directory, its own TMPDIR included, is
  as it was: no private directory left behind).

Bounded for CI: each variable gets one kind of hostile value (rotating over KINDS, so that every kind
meets every sort of variable), one generated example, derandomized (test/conftest.py): 80 runs, about
a minute and a half of CPU.
"""

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test.support.checks import assert_no_secret
from test.support.encodings import not_utf8
from test.support.faults import FaultProxy
from test.support.run import REPO, run_pipe
from test.test_bad_inputs import JOB_ENVIRONMENTS

# A run that refuses its input ends in about a second; one that reaches AWS in a few. Past this, a
# wait somewhere is unbounded.
BOUND_SECONDS = 60
# Planted as a URL's password: long enough not to occur by chance; its "/" percent-encoded, as a
# URL's user-info must have it (a raw "/" is the known gap below).
PLANTED = "fuzz-Planted%2FSecret+0123456789abcdef"

CONTRACT = yaml.safe_load((REPO / "contract" / "variables-1.0.yml").read_text())["variables"]


def _job_of(entry: dict) -> str:
    jobs = entry["jobs"]
    if isinstance(jobs, list):
        return jobs[0]
    return "whoami"  # `every job` and `every job that signs in`


_base = st.sampled_from(["x", "true", "300", "eu-west-1", "app", "/index.html", "a=b", "E2EXAMPLE", "web"])
_controls = st.sampled_from(["\x07", "\x1b[31m", "\t", "\r", "\x7f", "\x85", "\u202e", "\u2028"])
_spaces = st.sampled_from(["\u00a0", "\u2003", "\u3000", "\u200b", "\ufeff", " "])
_undecodable = not_utf8(max_size=4)


def _inserted(base: str, odd: str, where: int) -> str:
    where = where % (len(base) + 1)
    return base[:where] + odd + base[where:]


# Each kind: a strategy for the changes to the environment, given the variable's name.
KINDS = {
    "control": lambda name: st.builds(
        lambda b, c, w: {name: _inserted(b, c, w)}, _base, _controls, st.integers(0, 20)
    ),
    "unicode-space": lambda name: st.builds(
        lambda b, c, w: {name: _inserted(b, c, w)}, _base, _spaces, st.integers(0, 20)
    ),
    "huge": lambda name: st.sampled_from([65 * 1024, 70_000, 200_000]).map(lambda n: {name: "x" * n}),
    "undecodable": lambda name: st.builds(
        lambda b, raw: {name: b + raw.decode("utf-8", "surrogateescape")}, _base, _undecodable
    ),
    "list-forms": lambda name: st.one_of(
        st.integers(1001, 1600).map(lambda n: {name: " ".join(f"i{index}" for index in range(n))}),
        st.lists(st.sampled_from(["", " ", "x", "[x", "a=b"]), min_size=1, max_size=3).map(
            lambda items: {f"{name}_COUNT": str(len(items))} | {f"{name}_{i}": v for i, v in enumerate(items)}
        ),
        st.sampled_from(["-1", "abc", "99999999", " 2 "]).map(lambda count: {f"{name}_COUNT": count}),
    ),
    "path-escape": lambda name: st.sampled_from(
        ["..", "../..", "/etc/passwd", "~/.ssh", "a/../../b", "%2e%2e/x", "escape", "app/../../..", "/"]
    ).map(lambda value: {name: value}),
    "url": lambda name: st.sampled_from(
        [
            f"http://user:{PLANTED}@example.com",
            "file:///etc/passwd",
            "http://[::1",
            "https://example.com:99999",
            "javascript:alert(1)",
            "//example.com",
            "http://169.254.169.254/latest/meta-data",
        ]
    ).map(lambda value: {name: value}),
    "yaml-and-secret-looking": lambda name: st.sampled_from(
        ["[x", "{a: b}", "!!python/object:os.system", "*anchor", "yes", "010", PLANTED, "--help", "-"]
    ).map(lambda value: {name: value}),
}
KIND_NAMES = list(KINDS)

CASES = [
    pytest.param(
        entry,
        KIND_NAMES[(index + step) % len(KIND_NAMES)],
        id=f"{entry['name']}-{_job_of(entry)}-{KIND_NAMES[(index + step) % len(KIND_NAMES)]}",
    )
    for index, entry in enumerate(CONTRACT)
    for step in (0,)
]


def _outside_the_clone(root: Path, clone: Path, home: Path) -> dict[str, float]:
    """Every path under the test's directory but the clone and $HOME, with its modification time."""
    seen = {}
    for path in root.rglob("*"):
        if path in (clone, home, root / "tmp") or clone in path.parents or home in path.parents:
            continue  # the run's TMPDIR itself changes when its private directory comes and goes
        seen[str(path)] = path.lstat().st_mtime
    return seen


@pytest.mark.parametrize(("entry", "kind"), CASES)
@settings(max_examples=1, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_every_variable_with_hostile_values_keeps_every_promise(
    entry, kind, data, pipe_env, tmp_path_factory
):
    name, job = entry["name"], _job_of(entry)
    changes = data.draw(KINDS[kind](name), label="changes")
    root = tmp_path_factory.mktemp("fuzz")
    clone = root / "build"
    clone.mkdir()
    home = Path(pipe_env["HOME"])
    env = JOB_ENVIRONMENTS[job](pipe_env, clone)
    for other in [n for n in env if n == name or n.startswith(f"{name}_")]:
        del env[other]  # the hostile value replaces the happy path's, in either form
    env |= changes
    # The run's own temporary directory (outside the clone): what it leaves there is its own.
    (root / "tmp").mkdir()
    env.setdefault("TMPDIR", str(root / "tmp"))
    outside_before = _outside_the_clone(root, clone, home)

    with FaultProxy(pipe_env["AWS_ENDPOINT_URL"]) as aws_calls:
        if name != "AWS_ENDPOINT_URL":
            env["AWS_ENDPOINT_URL"] = aws_calls.url
        started = time.monotonic()
        result = run_pipe(env, cwd=clone)
        seconds = time.monotonic() - started

    output = result.output
    assert seconds < BOUND_SECONDS, output
    assert result.returncode in (0, 1), output
    assert "This is a bug" not in output, output
    assert "Traceback" not in output and 'File "' not in output, output
    failures = [line for line in output.splitlines() if line.startswith("✖")]
    assert len(failures) == (1 if result.returncode else 0), output
    if result.returncode and aws_calls.requests == 0:
        # Refused before the first AWS call: the line says which variable to fix.
        assert name in failures[0], failures[0]
    # A secret variable's value, and a password in any URL, are never echoed.
    secrets = [value for value in changes.values() if entry.get("secret") and len(value.strip()) >= 12]
    secrets += [PLANTED] if kind == "url" else []
    assert_no_secret(output, pipe_env["BITBUCKET_STEP_OIDC_TOKEN"], *secrets)
    outside_after = _outside_the_clone(root, clone, home)
    changed = sorted(
        path
        for path in outside_after.keys() | outside_before.keys()
        if outside_after.get(path) != outside_before.get(path)
    )
    assert changed == [], f"written outside the clone: {changed}"


def test_a_url_password_with_a_raw_slash_in_a_path_variable_is_masked(run, pipe_env, clone_dir):
    password = "fuzz-Planted/Secret+0123456789abcdef"
    env = JOB_ENVIRONMENTS["s3-sync"](pipe_env, clone_dir) | {
        "LOCAL_PATH": f"http://user:{password}@example.com"
    }
    result = run(env)
    assert_no_secret(result.output, password)


# Every variable that names a path in the clone, with the job it belongs to. The rotation above gives
# each one kind per run; a value the system cannot take as a path is a class of its own (ENAMETOOLONG
# from a stat, once a crash in kubectl's RESOURCE_PATH and ecs's TASK_DEFINITION), so each meets it here.
PATH_VARIABLES = [
    ("RESOURCE_PATH", "kubectl"),
    ("CHART", "helm"),
    ("VALUES", "helm"),
    ("LOCAL_PATH", "s3-sync"),
    ("ZIP_FILE", "beanstalk"),
    ("SOURCE_PATH", "beanstalk"),
    ("CDK_APP_PATH", "cdk"),
    ("CDK_CACHE_DIR", "cdk"),
    ("TASK_DEFINITION", "ecs"),
]
TOO_LONG_FOR_A_PATH = {
    "one name over 255 bytes": "n" * 300,
    "a path over PATH_MAX": "/".join(["d" * 200] * 25),
    "a thousand words": " ".join(f"i{index}" for index in range(1000)),
}


@pytest.mark.parametrize("value", list(TOO_LONG_FOR_A_PATH.values()), ids=list(TOO_LONG_FOR_A_PATH))
@pytest.mark.parametrize(("name", "job"), PATH_VARIABLES, ids=[name for name, _ in PATH_VARIABLES])
def test_a_value_too_long_to_be_a_path_is_one_line_naming_the_variable(
    name, job, value, run, pipe_env, clone_dir
):
    env = JOB_ENVIRONMENTS[job](pipe_env, clone_dir)
    for other in [n for n in env if n == name or n.startswith(f"{name}_")]:
        del env[other]
    result = run(env | {name: value})
    output = result.output
    assert result.returncode == 1, output
    assert "This is a bug" not in output and "Traceback" not in output, output
    failures = [line for line in output.splitlines() if line.startswith("✖")]
    assert len(failures) == 1 and name in failures[0], output
    assert len(failures[0]) < 1000, "the refusal names the value's length, it does not echo it"
