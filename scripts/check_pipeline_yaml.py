"""Validate bitbucket-pipelines.yml, and every YAML example in every document (the top-level
Markdown files and docs/), against Bitbucket's published pipeline schema (check-jsonschema's
`vendor.bitbucket-pipelines`).

Usage: python3 scripts/check_pipeline_yaml.py   (`make lint` runs it; so does test_pipeline.py)
Every ```yaml block of a document is an example a user pastes, so each is one of three shapes: a whole
step (`- step:`, checked as the only item of a `default` pipeline), a pipeline file (a mapping with
`pipelines:`, checked as it is), or a pipe (`- pipe:`, checked as the script of a step with
`oidc: true`, the step the README's YAML definition shows). A block of any other shape (a fragment
of variables) does not paste and is an error. Exit 0 when all are valid; otherwise the report, naming
the document and the example's first line, and exit 1.
"""

import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = tuple(
    sorted(str(path.relative_to(REPO)) for path in (*REPO.glob("*.md"), *(REPO / "docs").glob("*.md")))
)
SCHEMA = "vendor.bitbucket-pipelines"
# A block may be indented (inside a list item): its lines are read without that indent.
_YAML_BLOCK = re.compile(r"^( *)```yaml\n(.*?)^\1```", re.MULTILINE | re.DOTALL)


def yaml_blocks(document: str) -> list[tuple[int, str]]:
    """(line number, text) of each ```yaml block of a Markdown document."""
    text = (REPO / document).read_text()
    return [
        (text.count("\n", 0, block.start(2)) + 1, textwrap.dedent(block.group(2)))
        for block in _YAML_BLOCK.finditer(text)
    ]


def shape(example: str) -> str:
    """ "step", "pipeline", "pipe", or "fragment" (what does not paste)."""
    if example.startswith("- step:"):
        return "step"
    if example.startswith("- pipe:"):
        return "pipe"
    loaded = yaml.safe_load(example)
    return "pipeline" if isinstance(loaded, dict) and "pipelines" in loaded else "fragment"


def step_examples(document: str) -> list[tuple[int, str]]:
    """(line number, text) of each example that pastes: a whole step, a pipeline file or a pipe."""
    return [(line, example) for line, example in yaml_blocks(document) if shape(example) != "fragment"]


def fragments() -> list[str]:
    return [
        f"{document}, line {line}: a YAML example that is not a whole step, a pipeline or a pipe does not "
        "paste; write it as one (or as a table of settings)"
        for document in DOCUMENTS
        for line, example in yaml_blocks(document)
        if shape(example) == "fragment"
    ]


def as_pipeline(example: str) -> dict:
    loaded = yaml.safe_load(example)
    if shape(example) == "pipe":
        loaded = [{"step": {"oidc": True, "script": loaded}}]
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
    problems = fragments()
    print("\n".join([(completed.stdout + completed.stderr).strip(), *problems]).strip())
    return completed.returncode or (1 if problems else 0)


if __name__ == "__main__":
    sys.exit(main())
