"""Benchmark: our `COMMAND=whoami` against the seed recipe users hand-write with the AWS CLI.

What is measured, per sample, is one complete sign-in plus identity check as a pipeline step would pay
for it: a fresh process (or two), from exec to exit.

- ours:       `python -m pipe` with COMMAND=whoami (AssumeRoleWithWebIdentity, then GetCallerIdentity).
- two-call:   `aws sts assume-role-with-web-identity`, then `aws sts get-caller-identity` with the
              returned keys exported; both commands together are one sample.
- token-file: the token written to a file, AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN set, and one
              `aws sts get-caller-identity` (the CLI assumes the role itself).

All three run in the same run, against the same local moto server, with the same clean environment,
interleaved round by round so machine noise hits them equally. Only the ratios between them mean
anything: absolute times depend on the machine. This is a benchmark, not a timed test: nothing here
fails on speed; it fails only if a sample does not succeed (exit 0 and the account in the output).

Wall time is time.perf_counter around subprocess.run; CPU time is the user+sys delta of
resource.getrusage(RUSAGE_CHILDREN), so it covers the child processes only (moto runs in a thread
of this process and is not counted).

Run: `.venv/bin/python bench/whoami.py [--rounds N] [--json]` (or `make bench`).
"""

import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _command_line  # noqa: E402
from bench._child import SampleFailed  # noqa: E402
from test.support.aws import ACCOUNT, REGION, ROLE_ARN, MotoServer  # noqa: E402
from test.support.run import base_environment  # noqa: E402
from test.support.tokens import make_token  # noqa: E402

AWS = str(Path(sys.executable).with_name("aws"))
TIMEOUT_SECONDS = 120
GOAL = 0.5  # ours should take at most half the two-call recipe's median wall time


def _run(label: str, command: list[str], env: dict[str, str], cwd: Path) -> str:
    completed = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    if completed.returncode != 0 or ACCOUNT not in completed.stdout:
        raise SampleFailed(
            f"{label}: `{' '.join(command[:4])} ...` exited {completed.returncode} "
            f"without account {ACCOUNT} in its output.\n"
            f"--- stdout ---\n{completed.stdout}\n--- stderr ---\n{completed.stderr}"
        )
    return completed.stdout


class Recipes:
    """The three ways to answer "who am I?", each a callable that runs one sample."""

    def __init__(self, endpoint: str, home: Path):
        self.home = home
        self.token = make_token()
        self.env = base_environment(home) | {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": REGION}
        token_file = home / "web-identity-token"
        token_file.write_text(self.token)
        self.token_file = token_file

    def ours(self) -> None:
        env = self.env | {
            "BITBUCKET_STEP_OIDC_TOKEN": self.token,
            "AWS_OIDC_ROLE_ARN": ROLE_ARN,
            "COMMAND": "whoami",
            "BITBUCKET_REPO_SLUG": "bench",
            "BITBUCKET_BUILD_NUMBER": "1",
        }
        stdout = _run("ours", [sys.executable, "-m", "pipe"], env, self.home)
        if "Account" not in stdout:
            raise SampleFailed(f"ours: no 'Account' table in its output:\n{stdout}")

    def two_call(self) -> None:
        assume = [
            AWS, "sts", "assume-role-with-web-identity",
            "--role-arn", ROLE_ARN,
            "--role-session-name", "bench",
            "--web-identity-token", self.token,
            "--output", "json",
        ]  # fmt: skip
        stdout = _run("two-call (assume)", assume, self.env, self.home)
        credentials = json.loads(stdout)["Credentials"]
        env = self.env | {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_SESSION_TOKEN": credentials["SessionToken"],
        }
        _run("two-call (identity)", [AWS, "sts", "get-caller-identity"], env, self.home)

    def token_file_recipe(self) -> None:
        env = self.env | {
            "AWS_WEB_IDENTITY_TOKEN_FILE": str(self.token_file),
            "AWS_ROLE_ARN": ROLE_ARN,
            "AWS_ROLE_SESSION_NAME": "bench",
        }
        _run("token-file", [AWS, "sts", "get-caller-identity"], env, self.home)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(sample: Callable[[], None]) -> tuple[float, float]:
    cpu = _children_cpu()
    started = time.perf_counter()
    sample()
    return time.perf_counter() - started, _children_cpu() - cpu


def benchmark(rounds: int) -> dict:
    with MotoServer() as server, tempfile.TemporaryDirectory(prefix="bench-whoami-") as home:
        recipes = Recipes(server.url, Path(home))
        contenders = {
            "ours": recipes.ours,
            "two-call": recipes.two_call,
            "token-file": recipes.token_file_recipe,
        }
        for sample in contenders.values():  # warm-up: page cache, .pyc files, moto's first requests
            sample()
        walls: dict[str, list[float]] = {name: [] for name in contenders}
        cpus: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(rounds):
            for name, sample in contenders.items():
                wall, cpu = measure(sample)
                walls[name].append(wall)
                cpus[name].append(cpu)

    results = {
        name: {
            "median_wall_s": statistics.median(walls[name]),
            "min_wall_s": min(walls[name]),
            "median_cpu_s": statistics.median(cpus[name]),
        }
        for name in contenders
    }
    ours = results["ours"]["median_wall_s"]
    ratios = {f"ours/{name}": ours / results[name]["median_wall_s"] for name in ("two-call", "token-file")}
    return {
        "rounds": rounds,
        "results": results,
        "ratios": ratios,
        "goal": {"max_ratio_to_two_call": GOAL, "met": ratios["ours/two-call"] <= GOAL},
    }


def report(figures: dict) -> str:
    lines = [
        f"whoami, {figures['rounds']} rounds (interleaved, after one warm-up each), local moto server",
        f"{'':<12}{'median wall':>13}{'min wall':>11}{'median cpu':>12}",
    ]
    for name, row in figures["results"].items():
        lines.append(
            f"{name:<12}{row['median_wall_s']:>12.3f}s{row['min_wall_s']:>10.3f}s{row['median_cpu_s']:>11.3f}s"
        )
    lines.append("")
    lines += [f"{name} (median wall): {ratio:.2f}x" for name, ratio in figures["ratios"].items()]
    verdict = "MET" if figures["goal"]["met"] else "NOT MET"
    lines.append(f"goal: ours <= {GOAL}x the two-call recipe: {verdict}")
    return "\n".join(lines)


def main() -> None:
    arguments = _command_line.parse(_command_line.parser(__doc__, rounds=10))
    _command_line.finish(arguments, lambda: benchmark(arguments.rounds), report)


if __name__ == "__main__":
    main()
