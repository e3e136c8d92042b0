"""Benchmark: what the pipe costs to start as users run it — in the built image (Python 3.13, the
`aws-oidc-deploy` console script, packages installed, no development tools), on this machine.

`bench/startup.py` measures the working tree with this machine's Python 3.11 and the development
virtual environment, whose editable install of the project adds an import finder to every
interpreter's start (about 17 ms here) that the image does not have. This bench measures the
product itself: one `docker container run` (host network, clone mounted as Bitbucket mounts it)
whose Python drives the rounds inside the container, so docker's own start-up is not counted. Each
sample is one fresh `aws-oidc-deploy` process, timed as `bench/startup.py` times it: its own CPU
(os.wait4) and wall time; `trust-policy` (no AWS call), `whoami` and the smallest `s3-sync` (one
file, nothing to send) against a moto server in this process, interleaved, after one warm-up each.

Needs the engine and image test/container/with-docker.sh prepares (DOCKER, PIPE_IMAGE):
`test/container/with-docker.sh .venv/bin/python bench/startup_image.py [--rounds N] [--json]`
(`make bench` runs it so). `--against IMAGE` measures another image (say the last release, kept under
a tag) in the same run, the two alternating in blocks, and prints the differences. A benchmark, not a timed test: it fails only when a sample does not
succeed.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _command_line, startup  # noqa: E402
from bench._child import SampleFailed  # noqa: E402
from test.support.aws import REGION, ROLE_ARN, MotoServer, client  # noqa: E402
from test.support.tokens import make_token  # noqa: E402

# Where Bitbucket mounts the clone in a pipe's container, and what it passes every pipe.
BUILD = "/opt/atlassian/pipelines/agent/build"
STORAGE = f"{BUILD}/.bitbucket/pipelines/generated/pipeline/pipes"
SUMMARY = f"{STORAGE}/aws-oidc-deploy/s3-sync-summary.json"
TIMEOUT_SECONDS = 900

# Runs inside the container with the image's Python; the environments come in BENCH_COMMANDS.
DRIVER = """
import json, os, statistics, subprocess, sys, tempfile, time
commands = json.loads(os.environ.pop("BENCH_COMMANDS"))
rounds = int(sys.argv[1])
samples = {name: {"cpu": [], "wall": []} for name in commands}
for round_number in range(rounds + 1):  # round 0 warms the page cache and uploads the one file
    for name, extra in commands.items():
        with tempfile.TemporaryFile() as output:
            started = time.perf_counter()
            child = subprocess.Popen(["aws-oidc-deploy"], env=os.environ | extra, stdout=output, stderr=subprocess.STDOUT)
            _pid, status, usage = os.wait4(child.pid, 0)
            wall = time.perf_counter() - started
            if status != 0:
                output.seek(0)
                sys.exit(f"{name} failed:\\n" + output.read().decode("utf-8", "replace")[-3000:])
        if name == "s3-sync":
            uploaded = json.load(open(extra["BENCH_SUMMARY"]))["uploaded"]
            if uploaded != (1 if round_number == 0 else 0):
                sys.exit(f"s3-sync uploaded {uploaded} file(s) in round {round_number}")
        if round_number:
            samples[name]["cpu"].append(usage.ru_utime + usage.ru_stime)
            samples[name]["wall"].append(wall)
print(json.dumps(samples))
"""
# Rounds are split into this many blocks per image, the images alternating, so that a change in the
# machine's load during the run falls on both.
BLOCKS = 4


def environments(endpoint: str, bucket: str) -> dict[str, dict[str, str]]:
    common = {
        "BITBUCKET_STEP_OIDC_TOKEN": make_token(expires_in=3 * 3600),
        "BITBUCKET_CLONE_DIR": BUILD,
        "BITBUCKET_REPO_SLUG": "bench",
        "BITBUCKET_WORKSPACE": "bench",
        "BITBUCKET_BUILD_NUMBER": "1",
        "BITBUCKET_PIPE_STORAGE_DIR": f"{STORAGE}/org/aws-oidc-deploy",
        "BITBUCKET_PIPE_SHARED_STORAGE_DIR": STORAGE,
    }
    signed_in = common | {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_OIDC_ROLE_ARN": ROLE_ARN,
    }
    return {
        "trust-policy": common | {"COMMAND": "trust-policy"},
        "whoami": signed_in | {"COMMAND": "whoami"},
        "s3-sync": signed_in
        | {"COMMAND": "s3-sync", "S3_BUCKET": bucket, "LOCAL_PATH": "tiny", "BENCH_SUMMARY": SUMMARY},
    }


def _summary(samples: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    return {
        name: {
            "median_cpu_s": statistics.median(kinds["cpu"]),
            "median_wall_s": statistics.median(kinds["wall"]),
            "min_wall_s": min(kinds["wall"]),
        }
        for name, kinds in samples.items()
    }


def _block(docker: str, image: str, rounds: int, clone: str, commands: dict[str, dict[str, str]]) -> dict:
    command = [docker, "container", "run", "--rm", "--network", "host", "--env", "BENCH_COMMANDS"]
    command += ["--volume", f"{clone}:{BUILD}", "--workdir", BUILD, "--entrypoint", "python", image]
    completed = subprocess.run(
        [*command, "-c", DRIVER, str(rounds)],
        env=os.environ | {"BENCH_COMMANDS": json.dumps(commands)},
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if completed.returncode != 0:
        raise SampleFailed(completed.stderr[-4000:])
    return json.loads(completed.stdout)


def benchmark(rounds: int, against: str | None) -> dict:
    docker, image = os.environ.get("DOCKER"), os.environ.get("PIPE_IMAGE")
    if not (docker and image):
        sys.exit("run under test/container/with-docker.sh, which starts the engine and builds the image")
    images = [image, *([against] if against else [])]
    blocks = BLOCKS if against else 1
    samples: dict[str, dict[str, dict[str, list[float]]]] = {}
    load_before = os.getloadavg()
    with MotoServer() as server, tempfile.TemporaryDirectory(prefix="bench-startup-image-") as clone:
        (Path(clone) / "tiny").mkdir()
        (Path(clone) / "tiny" / "index.html").write_text("<p>hello</p>\n")
        for block in range(blocks):
            share = rounds // blocks + (1 if block < rounds % blocks else 0)
            for number, name in enumerate(images):
                # A bucket per image and block: each block's warm-up round uploads the one file.
                bucket = f"startup-image-{number}-{block}"
                client("s3", server.url).create_bucket(
                    Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
                )
                measured = _block(docker, name, max(1, share), clone, environments(server.url, bucket))
                into = samples.setdefault(name, {})
                for command, kinds in measured.items():
                    for kind, values in kinds.items():
                        into.setdefault(command, {}).setdefault(kind, []).extend(values)
    return {
        "image": image,
        "against": against,
        "rounds": rounds,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "results": _summary(samples[image]),
        "against_results": _summary(samples[against]) if against else None,
    }


def report(figures: dict) -> str:
    title = f"start-up in the image {figures['image']}, {figures['rounds']} rounds (interleaved, after one warm-up)"
    rows = {f"{figures['image']} {name}": row for name, row in figures["results"].items()}
    against = figures.get("against_results")
    if against:
        title += f", against {figures['against']} in the same run ({BLOCKS} alternating blocks each)"
        rows |= {f"{figures['against']} {name}": row for name, row in against.items()}
    lines = startup.table_lines(title, figures, rows)
    lines += ["", *startup.goal_lines(figures["results"], "(in the image)")]
    if against:
        for name, row in figures["results"].items():
            before = against[name]
            lines.append(
                f"{name}: median wall {row['median_wall_s'] * 1000:.1f} ms vs {before['median_wall_s'] * 1000:.1f} ms "
                f"({(row['median_wall_s'] - before['median_wall_s']) * 1000:+.1f} ms), median cpu "
                f"{row['median_cpu_s'] * 1000:.1f} ms vs {before['median_cpu_s'] * 1000:.1f} ms "
                f"({(row['median_cpu_s'] - before['median_cpu_s']) * 1000:+.1f} ms)"
            )
    return "\n".join(lines)


def main() -> None:
    made = _command_line.parser(__doc__, rounds=15)
    made.add_argument(
        "--against",
        metavar="IMAGE",
        help="another image (e.g. the last release's) measured in the same run, in alternating blocks",
    )
    arguments = _command_line.parse(made)
    _command_line.finish(arguments, lambda: benchmark(arguments.rounds, arguments.against), report)


if __name__ == "__main__":
    main()
