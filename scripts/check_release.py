"""Check that a release tag, pyproject.toml, pipe/__init__.py, pipe.yml and CHANGELOG.md agree.

Usage: python3 scripts/check_release.py [TAG]   (the release step passes $BITBUCKET_TAG)
Exit 0 when they agree; otherwise one line per disagreement and exit 1. Standard library only,
so it runs in the pipeline's release step before anything is installed.
"""

import re
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = "org/aws-oidc-deploy"


def versions() -> dict[str, str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    package = re.search(r'^__version__ = "([^"]+)"', (REPO / "pipe/__init__.py").read_text(), re.MULTILINE)
    image = re.search(rf"^image: {IMAGE}:(\S+)$", (REPO / "pipe.yml").read_text(), re.MULTILINE)
    # The latest released entry: an `## Unreleased` section above it collects changes between releases.
    changelog = re.search(r"^## ([0-9]\S*)", (REPO / "CHANGELOG.md").read_text(), re.MULTILINE)
    return {
        "pyproject.toml": pyproject,
        "pipe/__init__.py": package.group(1) if package else "(none)",
        "pipe.yml image": image.group(1) if image else "(none)",
        "CHANGELOG.md latest entry": changelog.group(1) if changelog else "(none)",
    }


def disagreements(tag: str | None) -> list[str]:
    found = versions()
    expected = tag if tag is not None else found["pyproject.toml"]
    problems = [
        f"{where} says {version}, expected {expected}"
        for where, version in found.items()
        if version != expected
    ]
    if tag is not None and not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", tag):
        problems.insert(0, f"tag {tag!r} is not a semantic version MAJOR.MINOR.PATCH")
    if tag is not None:
        problems += unreleased(tag, (REPO / "CHANGELOG.md").read_text())
    return problems


def unreleased(tag: str, changelog: str) -> list[str]:
    """Between releases, changes collect under `## Unreleased`; a release names them by its version."""
    if re.search(r"^## Unreleased", changelog, re.MULTILINE):
        return [f"CHANGELOG.md still has an '## Unreleased' section: make it '## {tag} — date'"]
    return []


def main() -> int:
    tag = sys.argv[1] if len(sys.argv) > 1 else None
    problems = disagreements(tag)
    for problem in problems:
        print(f"✖ {problem}")
    if not problems:
        print(f"✔ version {tag or versions()['pyproject.toml']} agrees everywhere")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
