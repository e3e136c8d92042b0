"""MIGRATING.md holds: every variable it says we accept is one the pipe declares, every "after" step
sets only declared variables and names a real job, every example parses, and each table covers the
variables of its "before" example. (Its examples' schema check is in test_pipeline.py.)"""

import re

import pytest
import yaml

from pipe import jobs, main, signin
from scripts.check_pipeline_yaml import step_examples
from test.support.run import REPO

GUIDE = (REPO / "MIGRATING.md").read_text()
PEERS = (
    "atlassian/aws-eks-kubectl-run",
    "atlassian/aws-s3-deploy",
    "atlassian/aws-cloudfront-invalidate",
    "atlassian/aws-elasticbeanstalk-deploy",
    "atlassian/aws-ecs-deploy",
)
OURS = "org/aws-oidc-deploy"
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")


def declared_variables() -> set[str]:
    names = {v.name for v in main.COMMON_VARIABLES + signin.VARIABLES + (signin.TOKEN,)}
    for command in jobs.JOBS:
        names |= {v.name for v in jobs.load(command).VARIABLES}
    return names


def section(peer: str) -> str:
    return GUIDE.split(f"## `{peer}`", 1)[1].split("\n## ", 1)[0]


def table_rows(text: str) -> list[tuple[str, str, str]]:
    rows = re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \| (.*?) \| (.*) \|$", text, re.MULTILINE)
    return [(theirs, here, notes) for theirs, here, notes in rows]


def whole_steps_in(text: str) -> list[str]:
    blocks = re.findall(r"^```yaml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return [block for block in blocks if block.startswith("- step:")]


def pipe_entries(example: str) -> list[dict]:
    entries = []
    for item in yaml.safe_load(example):
        entries += [line for line in item["step"]["script"] if isinstance(line, dict) and "pipe" in line]
    return entries


def test_the_guide_has_a_section_and_a_table_for_each_peer_and_the_readme_links_it():
    for peer in PEERS:
        assert len(table_rows(section(peer))) >= 5, peer
    assert "(MIGRATING.md)" in (REPO / "README.md").read_text()


@pytest.mark.parametrize("peer", PEERS)
def test_every_variable_the_guide_says_we_accept_is_declared(peer):
    accepted = {name for _, here, _ in table_rows(section(peer)) for name in _NAME.findall(here)}
    assert accepted and accepted <= declared_variables(), accepted - declared_variables()


@pytest.mark.parametrize("peer", PEERS)
def test_each_table_covers_every_variable_of_the_before_example(peer):
    theirs = {name for name, _, _ in table_rows(section(peer))}
    [before, after] = whole_steps_in(section(peer))
    [old] = pipe_entries(before)
    assert old["pipe"].startswith(peer + ":")
    assert set(old["variables"]) <= theirs
    [new] = pipe_entries(after)
    assert new["pipe"].startswith(OURS + ":")


def test_every_after_step_signs_in_with_oidc_and_sets_only_declared_variables():
    declared = declared_variables()
    afters = [example for _, example in step_examples("MIGRATING.md") if OURS in example]
    assert len(afters) == len(PEERS)
    for example in afters:
        [step] = [item["step"] for item in yaml.safe_load(example)]
        assert step["oidc"] is True
        for entry in pipe_entries(example):
            variables = entry["variables"]
            assert set(variables) <= declared, set(variables) - declared
            assert jobs.parse_command(variables["COMMAND"]) in jobs.JOBS
            assert "AWS_OIDC_ROLE_ARN" in variables and "AWS_SECRET_ACCESS_KEY" not in variables


def test_every_whole_step_example_parses():
    examples = step_examples("MIGRATING.md")
    assert len(examples) == 2 * len(PEERS)
    for line, example in examples:
        document = yaml.safe_load(example)
        assert isinstance(document, list) and all("step" in item for item in document), line


def test_every_source_the_guide_cites_is_a_link():
    sources = GUIDE.split("## Where the variable lists come from", 1)[1]
    for peer in PEERS:
        assert f"<https://bitbucket.org/{peer}>" in sources, peer
