"""The policy table (pipe/signin/policies.py): every job has an entry, docs/iam.md is written from it,
and trust-policy prints it, with a CloudFormation template cfn-lint accepts.

That each policy is enough, and that each action in it is needed, is test_policies_enforced.py's.
"""

import json
import re
import shutil
import subprocess
import sys

import pytest

from pipe.jobs import JOBS
from pipe.signin import policies
from scripts import iam_docs
from test.support.run import REPO, base_environment, run_pipe
from test.support.tokens import make_token

ROLE = "arn:aws:iam::123456789012:role/deploy"


def test_every_job_has_a_policy_entry():
    """A job added to JOBS fails here until it adds `"job": (Statement(...), ...)` to POLICIES."""
    assert sorted(set(JOBS) - set(policies.POLICIES)) == []
    assert sorted(set(policies.POLICIES) - set(JOBS)) == []


def test_the_check_catches_a_job_without_an_entry(monkeypatch):
    monkeypatch.setitem(JOBS, "ecs", "pipe.jobs.ecs.job")
    assert sorted(set(JOBS) - set(policies.POLICIES)) == ["ecs"]


def test_every_parameter_a_statement_uses_is_declared_and_every_declared_one_used():
    text = json.dumps({job: [s._asdict() for s in chosen] for job, chosen in policies.POLICIES.items()})
    used = {name for name in re.findall(r"\$\{([A-Za-z:]+)\}", text) if not name.startswith("AWS::")}
    assert used == set(policies.PARAMETERS)


def test_every_statement_is_well_formed():
    sids = set()
    for chosen in policies.POLICIES.values():
        for statement in chosen:
            assert re.fullmatch(r"[A-Za-z0-9]+", statement.sid)
            assert statement.sid not in sids or statement in policies.statements(list(policies.POLICIES))
            sids.add(statement.sid)
            assert statement.actions and all(
                re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a) for a in statement.actions
            )
            assert statement.resources and statement.why


def test_docs_iam_md_is_written_from_the_table():
    text = iam_docs.DOC.read_text(encoding="utf-8")
    assert iam_docs.rendered(text) == text, "run `python -m scripts.iam_docs` and commit docs/iam.md"
    for job, chosen in policies.POLICIES.items():
        assert f"### `{job}`" in text
        for statement in chosen:
            assert statement.sid in text


def test_the_docs_check_sees_a_changed_table(monkeypatch):
    text = iam_docs.DOC.read_text(encoding="utf-8")
    changed = policies.POLICIES["kubectl"][0]._replace(actions=("eks:DescribeCluster", "eks:ListClusters"))
    monkeypatch.setitem(policies.POLICIES, "kubectl", (changed,))
    assert iam_docs.rendered(text) != text


def test_a_filled_policy_has_no_placeholder_left():
    chosen = policies.statements(list(policies.POLICIES))
    values = {name: f"value-of-{name}" for name in policies.PARAMETERS}
    document = policies.policy_with(chosen, values, "123456789012", "aws", "eu-west-1")
    assert "${" not in json.dumps(document) and "<" not in json.dumps(document)


def _trust_policy(tmp_path, **extra) -> str:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = base_environment(home) | {
        "COMMAND": "trust-policy",
        "BITBUCKET_STEP_OIDC_TOKEN": make_token(),
        "AWS_OIDC_ROLE_ARN": ROLE,
    }
    result = run_pipe(env | extra, cwd=tmp_path)
    assert result.returncode == 0, result.output
    return result.stdout


def _json_after(output: str, heading: str) -> dict:
    start = output.index(heading)
    text = output[output.index("\n{", start) + 1 :]
    return json.loads(text[: text.index("\n}\n") + 2])


def _template(output: str) -> str:
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("AWSTemplateFormatVersion"))
    end = next(i for i in range(start, len(lines)) if "✔" in lines[i])
    return "\n".join(lines[start:end]) + "\n"


def test_trust_policy_prints_the_policy_of_the_jobs_named(tmp_path):
    output = _trust_policy(
        tmp_path,
        POLICY_FOR_JOBS_COUNT="2",
        POLICY_FOR_JOBS_0="kubectl",
        POLICY_FOR_JOBS_1="cloudfront-invalidate",
    )
    document = _json_after(output, "# IAM permissions policy for kubectl, cloudfront-invalidate")
    assert [s["Sid"] for s in document["Statement"]] == ["EksDescribeCluster", "CloudFrontInvalidation"]
    assert document == policies.policy(
        policies.statements(["kubectl", "cloudfront-invalidate"]), "123456789012", "aws", None
    )
    assert document["Statement"][0]["Resource"] == "arn:aws:eks:<REGION>:123456789012:cluster/<ClusterName>"
    assert "Trust policy, permissions policy and CloudFormation template printed" in output


def test_without_policy_for_jobs_no_permissions_policy_is_printed(tmp_path):
    output = _trust_policy(tmp_path)
    assert "permissions policy for" not in output and "PolicyName:" not in output


def _cfn_lint(path) -> subprocess.CompletedProcess:
    executable = shutil.which("cfn-lint", path=str(REPO / ".venv" / "bin")) or shutil.which("cfn-lint")
    command = [executable] if executable else [sys.executable, "-m", "cfnlint"]
    return subprocess.run([*command, str(path)], capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(
    "jobs", [[], ["s3-sync"], list(policies.POLICIES)], ids=["no-jobs", "s3-sync", "every-job"]
)
def test_the_template_passes_cfn_lint_and_holds_the_policy(tmp_path, jobs):
    listed = {f"POLICY_FOR_JOBS_{i}": job for i, job in enumerate(jobs)}
    output = _trust_policy(tmp_path, POLICY_FOR_JOBS_COUNT=str(len(jobs)), **listed)
    template = tmp_path / "template.yaml"
    template.write_text(_template(output), encoding="utf-8")
    linted = _cfn_lint(template)
    assert linted.returncode == 0, linted.stdout + linted.stderr
    import yaml

    loaded = yaml.safe_load(template.read_text(encoding="utf-8"))
    role = loaded["Resources"]["DeployRole"]["Properties"]
    chosen = policies.statements(jobs)
    if chosen:
        assert role["Policies"][0]["PolicyDocument"] == policies.cloudformation_policy(chosen)
        assert set(policies.parameters_used(chosen)) <= set(loaded["Parameters"])
    else:
        assert "Policies" not in role


def test_cfn_lint_catches_a_broken_template(tmp_path):
    """The lint can fail: a policy statement with no Effect is refused."""
    output = _trust_policy(tmp_path, POLICY_FOR_JOBS="kubectl")
    template = tmp_path / "template.yaml"
    template.write_text(_template(output).replace("Effect: Allow", "Effect: Permit", 1), encoding="utf-8")
    assert _cfn_lint(template).returncode != 0
