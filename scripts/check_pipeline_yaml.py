"""Validate bitbucket-pipelines.yml, and every whole-step example in every document (the top-level
Markdown files and docs/), against Bitbucket's published pipeline schema (check-jsonschema's `vendor.bitbucket-pipelines`).

Usage: python3 scripts/check_pipeline_yaml.py   (`make lint` runs it; so does test_pipeline.py)
A whole-step example is a ```yaml block that starts with `- step:`; each is checked as the only
item of a `default` pipeline (a block that starts with `pipelines:` is checked as it is), the shape Bitbucket would run it in. Exit 0 when all are valid;
otherwise check-jsonschema's report, naming the document and the example's first line, and exit 1.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = tuple(
    sorted(str(path.relative_to(REPO)) for path in (*REPO.glob("*.md"), *(REPO / "docs").glob("*.md")))
)
SCHEMA = "vendor.bitbucket-pipelines"
_YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)


def step_examples(document: str) -> list[tuple[int, str]]:
    """(line number, text) of each whole-step YAML example in a Markdown document."""
    text = (REPO / document).read_text()
    examples = []
    for block in _YAML_BLOCK.finditer(text):
        if block.group(1).startswith(("- step:", "pipelines:")):
            examples.append((text.count("\n", 0, block.start(1)) + 1, block.group(1)))
    return examples


def as_pipeline(example: str) -> dict:
    loaded = yaml.safe_load(example)
    return loaded if isinstance(loaded, dict) else {"pipelines": {"default": loaded}}


def check(extra_files: tuple[Path, ...] = ()) -> subprocess.CompletedProcess:
    """Run check-jsonschema once over the pipeline file and every example (written to a temporary
    directory, named after where each comes from, so a failure points at the example)."""
    with tempfile.TemporaryDirectory(prefix="pipeline-examples-") as directory:
        files = [REPO / "bitbucket-pipelines.yml", *extra_files]
        for document in DOCUMENTS:
            for line, example in step_examples(document):
                target = Path(directory) / f"{document.replace('/', '-')}-line-{line}.yml"
                target.write_text(yaml.safe_dump(as_pipeline(example), sort_keys=False))
                files.append(target)
        return subprocess.run(
            [
                str(Path(sys.executable).with_name("check-jsonschema")),
                "--builtin-schema",
                SCHEMA,
                *map(str, files),
            ],
            capture_output=True,
            text=True,
            check=False,
        )


def main() -> int:
    completed = check()
    print((completed.stdout + completed.stderr).strip())
    return completed.returncode


if __name__ == "__main__":
    sys.exit(main())
