"""Benchmark: a `DRY_RUN` of s3-sync whose plan holds 10,000 changed files, as one process.

Every local file has an object of another size in the bucket (filled in moto's backend in-process),
so each is "changed" and the whole plan is built, recorded and logged. With `--source DIR` (one or
more, e.g. a `git archive` of main) the same run is made with the pipe's code from each DIR, round by
round interleaved, so a change's cost is read from one run: medians of the client's CPU seconds,
wall seconds, peak RSS and the lines it printed.

Run: `.venv/bin/python bench/s3_sync_plan.py [--files 10000] [--source DIR ...] [--rounds N] [--json]`.
"""

import statistics
import sys
import tempfile
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import _child, _command_line  # noqa: E402
from bench.s3_sync import _put_in_backend, make_tree  # noqa: E402
from test.support.aws import REGION, ROLE_ARN, MotoServer, client  # noqa: E402
from test.support.run import base_environment  # noqa: E402
from test.support.tokens import make_token  # noqa: E402

TIMEOUT_SECONDS = 600


def _grown(site: Path, copy: Path) -> None:
    """`copy` mirrors `site` with every file one byte longer: the bucket side of a plan where every
    file changed."""
    for path in site.rglob("*"):
        if path.is_file():
            target = copy / path.relative_to(site)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes() + b"+")


def measure(files: int, sources: list[Path], rounds: int) -> dict:
    with MotoServer() as server, tempfile.TemporaryDirectory(prefix="s3-plan-bench-") as temporary:
        work = Path(temporary)
        site, grown = work / "site", work / "grown"
        make_tree(site, files)
        _grown(site, grown)
        bucket = f"bench-{uuid.uuid4().hex[:12]}"
        s3 = client("s3", server.url)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        _put_in_backend(bucket, grown)
        env = base_environment(work) | {
            "AWS_ENDPOINT_URL": server.url,
            "AWS_DEFAULT_REGION": REGION,
            "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
            "AWS_OIDC_ROLE_ARN": ROLE_ARN,
            "BITBUCKET_CLONE_DIR": str(work),
            "COMMAND": "s3-sync",
            "S3_BUCKET": bucket,
            "LOCAL_PATH": "site",
            "DRY_RUN": "true",
        }
        samples: dict[str, list[_child.Child]] = {str(source): [] for source in sources}
        for round_number in range(rounds + 1):  # round 0 warms the page cache and .pyc files
            order = sources if round_number % 2 else list(reversed(sources))
            for source in order:
                child = _child.run(
                    f"dry run ({source})",
                    [sys.executable, "-m", "pipe"],
                    env | {"PYTHONPATH": str(source)},
                    work,
                    TIMEOUT_SECONDS,
                    watch_memory=True,
                )
                if f"{files} to upload" not in child.output:
                    raise _child.SampleFailed(f"the plan did not hold {files} files:\n{child.output[-2000:]}")
                if round_number:
                    samples[str(source)].append(child)
    return {
        "files": files,
        "rounds": rounds,
        "results": {
            source: {
                "cpu": statistics.median(child.cpu for child in children),
                "wall": statistics.median(child.wall for child in children),
                "rss_mb": statistics.median(child.peak_rss_mb for child in children),
                "lines": statistics.median(child.output.count("\n") for child in children),
                "walls": [round(child.wall, 2) for child in children],
            }
            for source, children in samples.items()
        },
    }


def report(figures: dict) -> str:
    lines = [
        f"DRY_RUN of {figures['files']} changed files, {figures['rounds']} interleaved round(s); medians",
        f"{'cpu s':>7}{'wall s':>8}{'peak MB':>8}{'lines':>7}  source  walls",
    ]
    for source, row in figures["results"].items():
        lines.append(
            f"{row['cpu']:>7.2f}{row['wall']:>8.2f}{row['rss_mb']:>8.0f}{row['lines']:>7.0f}  {source}  "
            f"{row['walls']}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = _command_line.parser(__doc__, rounds=3)
    parser.add_argument("--files", type=int, default=10_000, help="changed files in the plan")
    parser.add_argument(
        "--source", type=Path, action="append", help="a tree holding the pipe's code (default: this one)"
    )
    arguments = _command_line.parse(parser)
    sources = [path.resolve() for path in arguments.source or [REPO]]
    _command_line.finish(arguments, lambda: measure(arguments.files, sources, arguments.rounds), report)


if __name__ == "__main__":
    main()
