"""Benchmark: our `COMMAND=s3-sync` against `aws s3 sync` (awscli from PyPI, .venv/bin/aws).

Both sync the same tree (2,000 files of 1-8 KB, some HTML, in a few directories) to their own fresh
bucket on the same local moto server, in the same run, interleaved round by round:

- first upload: an empty bucket; wall time and the client's CPU seconds;
- re-sync after touch: every file's modification time moved (what a fresh CI clone looks like),
  then the same sync again; files uploaded (ours from the summary JSON, theirs from its
  `upload:` lines) and wall time.

Ours pays for its sign-in (AssumeRoleWithWebIdentity) in every sample; the CLI gets static keys.
Wall time is time.perf_counter around subprocess.run; CPU time is the user+sys delta of
resource.getrusage(RUSAGE_CHILDREN): the client processes only (moto runs in threads of this
process and uses about as much CPU as the client). Only ratios mean anything.

Run: `.venv/bin/python bench/s3_sync.py [--rounds N] [--files N] [--json]`.
"""

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import boto3  # noqa: E402

from test.support.aws import REGION, ROLE_ARN, MotoServer  # noqa: E402
from test.support.run import base_environment  # noqa: E402
from test.support.tokens import make_token  # noqa: E402

AWS = str(Path(sys.executable).with_name("aws"))
TIMEOUT_SECONDS = 600
MIN_SIZE, MAX_SIZE = 1024, 8 * 1024
DIRECTORIES = ("", "assets", "assets/js", "assets/css", "img", "docs", "docs/guide")
HTML_SHARE = 0.2
GOALS = {"first_wall_ratio": 1.0, "first_cpu_ratio": 0.5, "resync_speedup": 5.0}
KEYS = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret"}


class SampleFailed(RuntimeError):
    pass


def make_tree(root: Path, count: int) -> None:
    rng = random.Random(7)
    for number in range(count):
        directory = root / rng.choice(DIRECTORIES)
        directory.mkdir(parents=True, exist_ok=True)
        suffix = ".html" if rng.random() < HTML_SHARE else rng.choice((".js", ".css", ".png", ".json"))
        (directory / f"file-{number}{suffix}").write_bytes(rng.randbytes(rng.randint(MIN_SIZE, MAX_SIZE)))


def touch(root: Path) -> None:
    later = time.time() + 60
    for directory, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(directory, name), (later, later))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(label: str, command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, str]:
    cpu = _children_cpu()
    started = time.perf_counter()
    completed = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        raise SampleFailed(
            f"{label} exited {completed.returncode}\n--- stdout ---\n{completed.stdout[-3000:]}\n"
            f"--- stderr ---\n{completed.stderr[-3000:]}"
        )
    return wall, _children_cpu() - cpu, completed.stdout


class Contenders:
    def __init__(self, endpoint: str, work: Path):
        self.endpoint = endpoint
        self.work = work
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **_lower(KEYS))
        self.env = base_environment(work) | {"AWS_DEFAULT_REGION": REGION}
        self.token = make_token()
        self.ours_extra: dict[str, str] = {}

    def bucket(self) -> str:
        name = f"bench-{uuid.uuid4().hex[:12]}"
        self.s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def ours(self, bucket: str) -> tuple[float, float, int]:
        shared = self.work / "shared"
        env = (
            self.env
            | {
                "AWS_ENDPOINT_URL": self.endpoint,
                "BITBUCKET_STEP_OIDC_TOKEN": self.token,
                "AWS_OIDC_ROLE_ARN": ROLE_ARN,
                "BITBUCKET_CLONE_DIR": str(self.work),
                "BITBUCKET_PIPE_SHARED_STORAGE_DIR": str(shared),
                "COMMAND": "s3-sync",
                "S3_BUCKET": bucket,
                "LOCAL_PATH": "site",
            }
            | self.ours_extra
        )
        wall, cpu, _ = _run("ours", [sys.executable, "-m", "pipe"], env, self.work)
        summary = json.loads((shared / "aws-oidc-deploy" / "s3-sync-summary.json").read_text())
        return wall, cpu, summary["uploaded"]

    def theirs(self, bucket: str) -> tuple[float, float, int]:
        command = [
            AWS,
            "s3",
            "sync",
            "site",
            f"s3://{bucket}/",
            "--endpoint-url",
            self.endpoint,
            "--no-progress",
        ]
        wall, cpu, stdout = _run("aws s3 sync", command, self.env | KEYS, self.work)
        return wall, cpu, sum(1 for line in stdout.splitlines() if line.startswith("upload:"))


def _lower(keys: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in keys.items()}


def benchmark(rounds: int, files: int, ours_extra: dict[str, str]) -> dict:
    names = ("ours", "aws s3 sync")
    samples = {
        name: {"first_wall": [], "first_cpu": [], "resync_wall": [], "resync_uploads": []} for name in names
    }
    with MotoServer() as server, tempfile.TemporaryDirectory(prefix="bench-s3-sync-") as work:
        contenders = Contenders(server.url, Path(work))
        contenders.ours_extra = ours_extra
        make_tree(Path(work) / "site", files)
        runners = {"ours": contenders.ours, "aws s3 sync": contenders.theirs}
        for _ in range(rounds):
            buckets = {name: contenders.bucket() for name in names}
            for name in names:
                wall, cpu, uploaded = runners[name](buckets[name])
                if uploaded != files:
                    raise SampleFailed(f"{name}: first upload sent {uploaded} files, not {files}")
                samples[name]["first_wall"].append(wall)
                samples[name]["first_cpu"].append(cpu)
            touch(Path(work) / "site")
            for name in names:
                wall, _cpu, uploaded = runners[name](buckets[name])
                samples[name]["resync_wall"].append(wall)
                samples[name]["resync_uploads"].append(uploaded)
    medians = {
        name: {metric: statistics.median(v) for metric, v in rows.items()} for name, rows in samples.items()
    }
    ours, theirs = medians["ours"], medians["aws s3 sync"]
    ratios = {
        "first_wall_ratio": ours["first_wall"] / theirs["first_wall"],
        "first_cpu_ratio": ours["first_cpu"] / theirs["first_cpu"],
        "resync_speedup": theirs["resync_wall"] / ours["resync_wall"],
    }
    met = {
        "first_wall_ratio": ratios["first_wall_ratio"] <= GOALS["first_wall_ratio"],
        "first_cpu_ratio": ratios["first_cpu_ratio"] <= GOALS["first_cpu_ratio"],
        "resync_speedup": ratios["resync_speedup"] >= GOALS["resync_speedup"] and ours["resync_uploads"] == 0,
    }
    return {
        "rounds": rounds,
        "files": files,
        "medians": medians,
        "ratios": ratios,
        "goals": GOALS,
        "met": met,
    }


def report(figures: dict) -> str:
    lines = [
        f"s3-sync, {figures['files']} files of 1-8 KB, {figures['rounds']} round(s), local moto server",
        f"{'':<13}{'first wall':>11}{'first cpu':>11}{'resync wall':>13}{'resync uploads':>16}",
    ]
    for name, row in figures["medians"].items():
        lines.append(
            f"{name:<13}{row['first_wall']:>10.2f}s{row['first_cpu']:>10.2f}s"
            f"{row['resync_wall']:>12.2f}s{row['resync_uploads']:>16.0f}"
        )
    ratios, met = figures["ratios"], figures["met"]
    lines += [
        "",
        f"first upload wall, ours/theirs: {ratios['first_wall_ratio']:.2f}x (goal <= 1.0x: "
        f"{'MET' if met['first_wall_ratio'] else 'NOT MET'})",
        f"first upload client CPU, ours/theirs: {ratios['first_cpu_ratio']:.2f}x (goal <= 0.5x: "
        f"{'MET' if met['first_cpu_ratio'] else 'NOT MET'})",
        f"re-sync after touch, theirs/ours wall: {ratios['resync_speedup']:.1f}x faster, uploads "
        f"{figures['medians']['ours']['resync_uploads']:.0f} vs {figures['medians']['aws s3 sync']['resync_uploads']:.0f}"
        f" (goal 0 uploads and >= 5x: {'MET' if met['resync_speedup'] else 'NOT MET'})",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds (default 3)")
    parser.add_argument("--files", type=int, default=2000, help="files in the tree (default 2000)")
    parser.add_argument(
        "--ours",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra pipe variable (MAX_CONCURRENCY=8)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    arguments = parser.parse_args()
    if arguments.rounds < 1 or arguments.files < 1:
        parser.error("--rounds and --files must be at least 1")
    try:
        extra = dict(item.split("=", 1) for item in arguments.ours)
        figures = benchmark(arguments.rounds, arguments.files, extra)
    except SampleFailed as failure:
        sys.exit(f"bench aborted, a sample failed:\n{failure}")
    print(json.dumps(figures, indent=2) if arguments.json else report(figures))


if __name__ == "__main__":
    main()
