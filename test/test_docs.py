"""The documents a user reads: the README is short and in the order Atlassian's pipes use, every link
between documents lands on a file and a heading that exist, and every YAML example pastes as a
working step (the pipe's version, a job that exists, only variables that job reads, its required ones,
values its own parsers accept, and a sign-in it can do)."""

import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from pipe import __version__, jobs, main
from pipe.common.errors import PipeError
from pipe.common.variables import Variable, read_all
from scripts import check_pipeline_yaml
from test.support.run import REPO

README = REPO / "README.md"
# What a platform engineer reads in two minutes (issue 28); the rest is in docs/ and CONTRIBUTING.md.
README_MAX_LINES = 350
# The order of Atlassian's pipe READMEs (YAML definition, Variables, Prerequisites, Examples, Support),
# with this pipe's own sections where a user looks for them.
README_SECTIONS = [
    "YAML definition",
    "Variables",
    "Prerequisites: IAM in three steps",
    "Examples",
    "Exit statuses",
    "Troubleshooting",
    "What 1.x promises",
    "More documentation",
    "Quick start (on a fresh machine with Python 3.11+ and make)",
    "Support",
    "License",
]
PIPE_IMAGE = "org/aws-oidc-deploy"
# Values Bitbucket puts in place of its own variables when it runs a step.
BITBUCKET_VALUES = {
    "BITBUCKET_COMMIT": "7f3c2a1d9e8b6c5a4f3e2d1c0b9a8f7e6d5c4b3a",
    "BITBUCKET_BUILD_NUMBER": "42",
    "BITBUCKET_CLONE_DIR": "/opt/atlassian/pipelines/agent/build",
}
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_CODE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def documents() -> list[Path]:
    return [REPO / name for name in check_pipeline_yaml.DOCUMENTS]


def slug(heading: str) -> str:
    """GitHub's and Bitbucket's anchor for a heading: lower case, punctuation dropped, spaces to `-`."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip()).lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(document: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", _CODE.sub("", document.read_text(encoding="utf-8")), re.MULTILINE)
    found: set[str] = set()
    for heading in headings:
        anchor, n = slug(heading), 1
        while anchor in found:  # a repeated heading gets -1, -2, ...
            anchor, n = f"{slug(heading)}-{n}", n + 1
        found.add(anchor)
    return found


def broken_links(document: Path) -> list[str]:
    """ "<document>: <target>: what is wrong" for each relative link that lands nowhere."""
    text = _CODE.sub("", document.read_text(encoding="utf-8"))
    name = document.relative_to(REPO) if document.is_relative_to(REPO) else document.name
    problems = []
    for target in _LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            problems.append(f"{name}: {target}: no such file")
        elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
            problems.append(f"{name}: {target}: no heading with that anchor")
    return problems


def test_the_readme_is_short_and_in_the_order_users_know():
    text = README.read_text(encoding="utf-8")
    assert text.count("\n") < README_MAX_LINES
    sections = re.findall(r"^## (.+)$", _CODE.sub("", text), re.MULTILINE)
    assert sections == README_SECTIONS


def test_every_link_between_documents_lands_on_a_file_and_a_heading():
    assert [problem for document in documents() for problem in broken_links(document)] == []


def test_the_link_check_sees_a_moved_section(tmp_path):
    moved = tmp_path / "moved.md"
    moved.write_text("# Title\n\n## Access entries\n\n[a](#access-entries), [b](#limits), [c](nowhere.md)\n")
    assert broken_links(moved) == [
        "moved.md: #limits: no heading with that anchor",
        "moved.md: nowhere.md: no such file",
    ]


def test_the_readme_links_every_document_in_docs():
    text = README.read_text(encoding="utf-8")
    linked = {
        Path(target.partition("#")[0]).name for target in _LINK.findall(text) if target.startswith("docs/")
    }
    assert linked == {path.name for path in (REPO / "docs").glob("*.md")}


def test_slugs_are_the_ones_github_makes():
    assert slug("`COMMAND: kubectl`") == "command-kubectl"
    assert slug("Waits and Bitbucket's step time limit") == "waits-and-bitbuckets-step-time-limit"
    assert slug("The delete guard (`DELETE_GUARD_PERCENT`)") == "the-delete-guard-delete_guard_percent"
    assert slug("What 1.x promises") == "what-1x-promises"


# Every job has its example in the README: whoami is the YAML definition, trust-policy the
# Prerequisites' step, every other job one of the Examples.
def test_every_job_has_an_example_in_the_readme():
    commands = {variables.get("COMMAND") for _, _, _, variables in pipe_uses("README.md")}
    assert commands == set(jobs.JOBS)


def pipe_uses(document: str) -> list[tuple[int, dict, dict, dict]]:
    """(line, step, pipe item, variables) of each use of this pipe in a document's examples."""
    found = []
    for line, example in check_pipeline_yaml.step_examples(document):
        for step in _steps(check_pipeline_yaml.as_pipeline(example)):
            for item in step.get("script", []):
                if isinstance(item, dict) and PIPE_IMAGE in str(item.get("pipe", "")):
                    found.append((line, step, item, item.get("variables") or {}))
    return found


def _steps(node: Any) -> list[dict]:
    if isinstance(node, dict):
        own = [node["step"]] if isinstance(node.get("step"), dict) else []
        return own + [step for value in node.values() for step in _steps(value)]
    if isinstance(node, list):
        return [step for value in node for step in _steps(value)]
    return []


def declared(command: str) -> tuple[Variable, ...]:
    return main.COMMON_VARIABLES + main.variables_of(command)


def as_bitbucket_passes(variables: dict) -> dict[str, str] | None:
    """The environment Bitbucket gives the pipe for these variables (a list as NAME_COUNT, NAME_0, ...);
    None when a value names a variable of the user's own, which only their pipeline knows."""
    env: dict[str, str] = {}

    def text(value: Any) -> str:
        value = "true" if value is True else "false" if value is False else str(value)
        for name, known in BITBUCKET_VALUES.items():
            value = value.replace("${" + name + "}", known).replace("$" + name, known)
        return value

    for name, value in variables.items():
        if isinstance(value, list):
            env[f"{name}_COUNT"] = str(len(value))
            env.update({f"{name}_{index}": text(item) for index, item in enumerate(value)})
        else:
            env[name] = text(value)
    return None if any("$" in value for value in env.values()) else env


def paste_problems(step: dict, item: dict, variables: dict) -> list[str]:
    problems = []
    if item["pipe"] != f"{PIPE_IMAGE}:{__version__}":
        problems.append(f"pipe {item['pipe']!r} is not {PIPE_IMAGE}:{__version__}")
    command = variables.get("COMMAND")
    if command not in jobs.JOBS:
        return [*problems, f"COMMAND {command!r} is not a job"]
    known = {variable.name for variable in declared(command)}
    problems += [f"{name} is not a variable of COMMAND {command}" for name in variables if name not in known]
    if jobs.load(command).SIGNS_IN:
        if not {"AWS_OIDC_ROLE_ARN", "AWS_ROLE_ARN", "AWS_ACCESS_KEY_ID"} & set(variables):
            problems.append(f"COMMAND {command} signs in, and no role or key is set")
        if not {"AWS_DEFAULT_REGION", "AWS_REGION"} & set(variables):
            problems.append(f"COMMAND {command} calls AWS, and no region is set")
    if ("AWS_OIDC_ROLE_ARN" in variables or command == "trust-policy") and step.get("oidc") is not True:
        problems.append("the step has no `oidc: true`: Bitbucket issues no token")
    env = as_bitbucket_passes({name: value for name, value in variables.items() if name in known})
    if env is not None:
        try:
            read_all(declared(command), env)
        except PipeError as error:
            problems.append(f"the pipe would refuse it: {error}")
    return problems


@pytest.mark.parametrize("document", check_pipeline_yaml.DOCUMENTS)
def test_every_example_pastes_as_a_working_step(document):
    found = [
        f"{document}, line {line}: {problem}"
        for line, step, item, variables in pipe_uses(document)
        for problem in paste_problems(step, item, variables)
    ]
    assert found == []


def test_no_example_is_a_fragment_that_does_not_paste():
    assert check_pipeline_yaml.fragments() == []


def test_the_paste_check_sees_what_a_user_would_trip_on():
    current = {"pipe": f"{PIPE_IMAGE}:{__version__}"}
    good = {
        "AWS_OIDC_ROLE_ARN": "arn:aws:iam::123456789012:role/deploy",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "COMMAND": "s3-sync",
        "S3_BUCKET": "site",
        "LOCAL_PATH": "build",
        "CACHE_CONTROL": ["*.html=no-cache", "public, max-age=3600"],
    }
    step = {"oidc": True, "script": []}
    assert paste_problems(step, current, good) == []
    assert paste_problems(step, {"pipe": f"{PIPE_IMAGE}:0.9.0"}, good) == [
        f"pipe '{PIPE_IMAGE}:0.9.0' is not {PIPE_IMAGE}:{__version__}"
    ]
    assert paste_problems({"script": []}, current, good) == [
        "the step has no `oidc: true`: Bitbucket issues no token"
    ]
    assert paste_problems(step, current, {**good, "PATHS": "/*"}) == [
        "PATHS is not a variable of COMMAND s3-sync"
    ]
    without_region = {name: value for name, value in good.items() if name != "AWS_DEFAULT_REGION"}
    assert paste_problems(step, current, without_region) == [
        "COMMAND s3-sync calls AWS, and no region is set"
    ]
    without_path = {name: value for name, value in good.items() if name != "LOCAL_PATH"}
    [missing] = paste_problems(step, current, without_path)
    assert missing.startswith("the pipe would refuse it: LOCAL_PATH is required")
    [refused] = paste_problems(step, current, {**good, "DELETE_FLAG": "maybe"})
    assert refused.startswith("the pipe would refuse it: DELETE_FLAG")
    assert paste_problems(step, current, {**good, "DELETE_FLAG": "$MY_FLAG"}) == []  # the user's own value
    assert paste_problems(step, current, {"COMMAND": "deploy-all"}) == ["COMMAND 'deploy-all' is not a job"]
