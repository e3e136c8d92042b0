"""Benchmark: what credentials cost per kubectl call — our exec plugin against `aws eks get-token`.

kubectl runs a kubeconfig's exec plugin once per process, so every `kubectl` call a pipeline makes
pays for one token. Three kubeconfigs differ only in how the user gets its token:

- ours:      exec `python -P -m pipe.kube.eks_token` (standard library SigV4, no botocore);
- awscli:    exec `aws eks get-token` (awscli 1.46, what hand-written recipes and Atlassian's pipe use);
- baseline:  a static token written into the kubeconfig (no plugin at all).

Each sample is one `kubectl get configmaps -o name` against the real kube-apiserver of the test bench
(test/support/controlplane: each token reviewed by the EKS-shaped webhook), same pinned kubectl, same warm discovery cache, interleaved round by round.
The credential cost is a config's median minus the baseline's median; the ratio ours/awscli of those
costs is the figure (goal: <= 0.5). Not a timed test: it fails only if a sample fails.

Run: `.venv/bin/python bench/kubectl_credentials.py [--rounds N] [--json]` (or `make bench`).
"""

import base64
import statistics
import sys
import tempfile
from pathlib import Path

import boto3
import yaml
from botocore import UNSIGNED
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _child, _command_line  # noqa: E402
from pipe.kube import eks_token  # noqa: E402
from test.support.aws import ACCOUNT, REGION, ROLE_ARN, MotoServer  # noqa: E402
from test.support.controlplane import ControlPlane, binaries  # noqa: E402
from test.support.controlplane.access import ClusterAccess  # noqa: E402
from test.support.run import base_environment  # noqa: E402
from test.support.tokens import make_token  # noqa: E402

CLUSTER = "bench"
BIN = Path(sys.executable).parent
GOAL = 0.5
TIMEOUT_SECONDS = 60


def credentials(endpoint: str) -> dict[str, str]:
    sts = boto3.client(
        "sts", region_name=REGION, endpoint_url=endpoint, config=Config(signature_version=UNSIGNED)
    )
    answer = sts.assume_role_with_web_identity(
        RoleArn=ROLE_ARN, RoleSessionName="bench", WebIdentityToken=make_token()
    )
    raw = answer["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": raw["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": raw["SecretAccessKey"],
        "AWS_SESSION_TOKEN": raw["SessionToken"],
    }


def kubeconfig(path: Path, standin: ControlPlane, user: dict) -> Path:
    ca = base64.b64encode(standin.ca_pem.encode()).decode()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER, "cluster": {"server": standin.url, "certificate-authority-data": ca}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": CLUSTER, "user": "u"}}],
        "current-context": "c",
    }
    path.write_text(yaml.safe_dump(config))
    return path


def exec_user(command: str, args: list[str], api_version: str) -> dict:
    return {"exec": {"apiVersion": api_version, "command": command, "args": args, "interactiveMode": "Never"}}


def sample(config: Path, cache: Path, env: dict[str, str]) -> float:
    """The wall seconds of one `kubectl get` with `config`'s credentials."""
    command = [str(BIN / "kubectl"), "--kubeconfig", str(config), "--cache-dir", str(cache)]
    command += ["get", "configmaps", "-o", "name"]
    return _child.run(config.name, command, env, config.parent, TIMEOUT_SECONDS).wall


def main() -> None:
    arguments = _command_line.parse(_command_line.parser(__doc__, rounds=10))
    _command_line.finish(arguments, lambda: benchmark(arguments.rounds), report)


def benchmark(rounds: int) -> dict:
    with (
        MotoServer() as moto,
        tempfile.TemporaryDirectory() as scratch,
        ControlPlane(CLUSTER, binaries(), Path(scratch) / "controlplane") as standin,
        ClusterAccess(standin, CLUSTER, REGION, ACCOUNT) as access,
    ):
        access.allow(ROLE_ARN)
        access.grant(
            "deployer",
            [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
            "default",
        )
        home = Path(scratch)
        env = (
            base_environment(home)
            | credentials(moto.url)
            | {"AWS_ENDPOINT_URL": moto.url, "AWS_DEFAULT_REGION": REGION}
        )
        ours_args = ["-P", "-m", "pipe.kube.eks_token", "--cluster", CLUSTER, "--region", REGION]
        static = eks_token.make_token(CLUSTER, REGION, env)
        configs = {
            "ours": kubeconfig(
                home / "ours", standin, exec_user(sys.executable, ours_args, eks_token.EXEC_API_VERSIONS[0])
            ),
            "awscli": kubeconfig(
                home / "awscli",
                standin,
                exec_user(
                    str(BIN / "aws"),
                    ["eks", "get-token", "--cluster-name", CLUSTER],
                    eks_token.EXEC_API_VERSIONS[1],
                ),
            ),
            "baseline": kubeconfig(home / "baseline", standin, {"token": static}),
        }
        times: dict[str, list[float]] = {name: [] for name in configs}
        for name, config in configs.items():  # warm-up: fills each discovery cache
            sample(config, home / f"cache-{name}", env)
        for _ in range(rounds):
            for name, config in configs.items():
                times[name].append(sample(config, home / f"cache-{name}", env))
    medians = {name: statistics.median(values) for name, values in times.items()}
    cost = {name: medians[name] - medians["baseline"] for name in ("ours", "awscli")}
    return {
        "rounds": rounds,
        "median_seconds": medians,
        "credential_seconds": cost,
        "ratio": cost["ours"] / cost["awscli"],
    }


def report(figures: dict) -> str:
    medians, cost, ratio = figures["median_seconds"], figures["credential_seconds"], figures["ratio"]
    lines = [
        f"kubectl get configmaps, {figures['rounds']} rounds (interleaved, after one warm-up each), real kube-apiserver",
        f"{'':12}{'median wall':>12}{'credential cost':>17}",
    ]
    for name in medians:
        extra = f"{cost[name]:16.3f}s" if name in cost else f"{'-':>17}"
        lines.append(f"{name:12}{medians[name]:11.3f}s{extra}")
    lines += [
        "",
        f"ours/awscli (credential cost per kubectl call): {ratio:.2f}x",
        f"ours/awscli (whole kubectl call): {medians['ours'] / medians['awscli']:.2f}x",
        f"goal: ours <= {GOAL}x aws eks get-token: {'MET' if ratio <= GOAL else 'NOT MET'}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
