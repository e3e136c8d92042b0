"""The 1.0.0 contract: contract/variables-1.0.yml, the code's declarations and README's variable
tables agree, in both directions (README, "What 1.x promises").

Each side is turned into the same shape, {(variable, job): terms}, and compared; a difference is a
line that says what to do about it. The comparison is also run on a side with a variable taken away
or added, so this test shows it would catch the change it exists for.
"""

import os
import re
import signal
from dataclasses import dataclass, replace

import yaml

from pipe import jobs, main, signin
from pipe.common import signals
from pipe.common.variables import Variable
from pipe.jobs.s3_sync import job as s3_sync_job
from test.support.run import REPO

CONTRACT_FILE = REPO / "contract" / "variables-1.0.yml"
README = (REPO / "README.md").read_text(encoding="utf-8")
EVERY_JOB = "every job"
EVERY_JOB_THAT_SIGNS_IN = "every job that signs in"
# The README table a variable read by every job (or every job that signs in) is listed in.
COMMON_TABLE = "common"
HOW_TO_ADD = (
    "add an entry to contract/variables-1.0.yml (name, jobs, default, ...) and a row to the job's table "
    "in README.md, 'Variables' (a new variable is a minor release: README, 'What 1.x promises')"
)


@dataclass(frozen=True)
class Terms:
    required: bool = False
    default: str | None = None
    computed: bool = False
    is_list: bool = False
    secret: bool = False


def signing_in_jobs() -> list[str]:
    return [command for command in jobs.JOBS if jobs.load(command).SIGNS_IN]


def contract() -> dict[tuple[str, str], Terms]:
    entries = yaml.safe_load(CONTRACT_FILE.read_text(encoding="utf-8"))["variables"]
    found: dict[tuple[str, str], Terms] = {}
    for entry in entries:
        named = {EVERY_JOB: list(jobs.JOBS), EVERY_JOB_THAT_SIGNS_IN: signing_in_jobs()}
        commands = named[entry["jobs"]] if isinstance(entry["jobs"], str) else entry["jobs"]
        terms = Terms(
            required=entry.get("required", False),
            default=entry.get("default"),
            computed=entry.get("computed", False),
            is_list=entry.get("list", False),
            secret=entry.get("secret", False),
        )
        for command in commands:
            assert (entry["name"], command) not in found, f"{entry['name']} for {command} is listed twice"
            found[(entry["name"], command)] = terms
    return found


def as_written(default) -> str | None:
    """A declared default as a user would write it in a step; None for "no value"."""
    if default is None or default == [] or (hasattr(default, "rules") and not default.rules):
        return None
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, float):
        return f"{default:g}"
    if isinstance(default, list | tuple):
        return " ".join(default)
    return str(default)


def declared(job_variables=None) -> dict[tuple[str, str], Terms]:
    """What each job reads, as the entry point reads it (pipe/main.py): the common variables, the
    job's own, and the sign-in's for a job that signs in (the token alone for one that does not)."""
    found: dict[tuple[str, str], Terms] = {}
    for command in jobs.JOBS:
        job = jobs.load(command)
        own = job_variables(command, job.VARIABLES) if job_variables else job.VARIABLES
        extra = signin.VARIABLES if job.SIGNS_IN else (signin.TOKEN,)
        for variable in main.COMMON_VARIABLES + own + extra + main.report_variables(command):
            found.setdefault((variable.name, command), _terms(variable))
    return found


def _terms(variable: Variable) -> Terms:
    return Terms(
        required=variable.required,
        default=as_written(variable.default),
        is_list=variable.is_list,
        secret=variable.secret,
    )


# A row names one variable, or several that share one usage (`AWS_ENDPOINT_URL_*`): `A`, `B`.
_ROW = re.compile(r"^\| ((?:`[A-Z0-9_]+`(?:, )?)+) \| (.*) \|$", re.MULTILINE)


def readme_tables(readme: str = README) -> dict[str, dict[str, str]]:
    """{table: {variable: usage}}: COMMON_TABLE for the first table of "## Variables", then one per
    "### `COMMAND: job`" table; a row naming several variables gives each of them its usage."""
    section = readme.split("\n## Variables\n", 1)[1].split("\n## ", 1)[0]
    tables: dict[str, dict[str, str]] = {}
    for heading, body in zip(
        ["### common", *re.findall(r"^### .*$", section, re.M)],
        re.split(r"^### .*$", section, flags=re.M),
        strict=True,
    ):
        job = re.fullmatch(r"### `COMMAND: ([a-z0-9-]+)`", heading)
        rows = {
            name: usage
            for names, usage in _ROW.findall(body)
            for name in re.findall(r"`([A-Z0-9_]+)`", names)
        }
        if rows:
            tables[job.group(1) if job else COMMON_TABLE] = rows
    return tables


def reporting_jobs() -> list[str]:
    return [command for command in jobs.JOBS if main.report_variables(command)]


def _table_of(name: str, command: str, promised: dict) -> str:
    """The common table holds what every job that signs in reads, and what every job that reports does
    (REPORT and its token: one row, not one per job)."""
    shared_by = (signing_in_jobs(), reporting_jobs())
    every = any(all((name, other) in promised for other in group) for group in shared_by)
    return COMMON_TABLE if every else command


def code_problems(promised: dict, found: dict) -> list[str]:
    problems = []
    for (name, command), terms in sorted(found.items()):
        if (name, command) not in promised:
            problems.append(
                f"{name} is declared for COMMAND {command} but is not in the 1.0 contract: {HOW_TO_ADD}."
            )
            continue
        expected = promised[(name, command)]
        # A computed default is worked out at run time: the declaration holds none (or the machine's).
        if expected.computed:
            terms, expected = replace(terms, default=None), replace(expected, default=None, computed=False)
        if terms != expected:
            problems.append(
                f"{name} for COMMAND {command} is declared as {terms} but the 1.0 contract says {expected}: "
                "within 1.x a variable keeps its default, list form, secrecy and whether it is required."
            )
    for name, command in sorted(set(promised) - set(found)):
        problems.append(
            f"{name} is in the 1.0 contract for COMMAND {command} but the code no longer declares it there: "
            "no variable is removed within 1.x."
        )
    return problems


def readme_problems(promised: dict, tables: dict[str, dict[str, str]]) -> list[str]:
    problems = []
    wanted: dict[tuple[str, str], Terms] = {}
    for (name, command), terms in promised.items():
        wanted.setdefault((name, _table_of(name, command, promised)), terms)
    for (name, table), terms in sorted(wanted.items(), key=lambda item: item[0]):
        usage = tables.get(table, {}).get(name)
        if usage is None:
            problems.append(f"{name} is missing from README's {table} variable table.")
            continue
        plain = usage.replace("`", "")
        if terms.default is not None and not re.search(rf"Default:? {re.escape(terms.default)}(?!\w)", plain):
            problems.append(f"README's {table} row of {name} does not say its default {terms.default!r}.")
        if terms.default is None and "Default" in plain:
            problems.append(f"README's {table} row of {name} names a default the contract does not have.")
        if terms.required != ("**Required.**" in usage):
            problems.append(f"README's {table} row of {name} and the contract disagree on **Required.**")
    for table, rows in tables.items():
        for name in sorted(set(rows) - {name for name, where in wanted if where == table}):
            problems.append(
                f"README's {table} table lists {name}, which is not in the 1.0 contract: {HOW_TO_ADD}."
            )
    return problems


def test_the_code_declares_exactly_the_contracts_variables():
    assert code_problems(contract(), declared()) == []


def test_readme_tables_list_exactly_the_contracts_variables_with_their_defaults():
    assert readme_problems(contract(), readme_tables()) == []


def test_a_variable_removed_from_the_code_or_the_readme_fails():
    without_wait_timeout = declared(lambda _, own: tuple(v for v in own if v.name != "WAIT_TIMEOUT"))
    assert code_problems(contract(), without_wait_timeout) == [
        "WAIT_TIMEOUT is in the 1.0 contract for COMMAND helm but the code no longer declares it there: "
        "no variable is removed within 1.x.",
        "WAIT_TIMEOUT is in the 1.0 contract for COMMAND kubectl but the code no longer declares it there: "
        "no variable is removed within 1.x.",
    ]
    readme = README.replace("| `DEPLOY_TIMEOUT` |", "| `DEPLOY_DEADLINE` |")
    problems = readme_problems(contract(), readme_tables(readme))
    assert "DEPLOY_TIMEOUT is missing from README's beanstalk variable table." in problems
    assert any(p.startswith("README's beanstalk table lists DEPLOY_DEADLINE") for p in problems)


def test_a_new_variable_in_the_code_fails_with_how_to_add_it():
    added = declared(lambda command, own: (*own, Variable("NEW_THING")) if command == "cdk" else own)
    [problem] = code_problems(contract(), added)
    assert problem.startswith(
        "NEW_THING is declared for COMMAND cdk but is not in the 1.0 contract: add an entry"
    )
    assert "contract/variables-1.0.yml" in problem and "README.md" in problem


def test_a_changed_default_or_a_newly_required_variable_fails():
    def changed(command, own):
        if command != "kubectl":  # helm shares both names
            return own
        return tuple(
            v._replace(default=600)
            if v.name == "WAIT_TIMEOUT"
            else v._replace(required=True)
            if v.name == "NAMESPACE"
            else v
            for v in own
        )

    problems = code_problems(contract(), declared(changed))
    assert [p.split(" is declared")[0] for p in problems] == [
        "NAMESPACE for COMMAND kubectl",
        "WAIT_TIMEOUT for COMMAND kubectl",
    ]
    readme = README.replace("| Default `1800`. Seconds", "| Default `3600`. Seconds")
    assert "README's beanstalk row of DEPLOY_TIMEOUT does not say its default '1800'." in readme_problems(
        contract(), readme_tables(readme)
    )


def test_the_machine_dependent_default_is_the_documented_rule():

    assert min(32, 8 * (os.cpu_count() or 2)) == s3_sync_job.DEFAULT_CONCURRENCY


def test_every_job_has_a_readme_table_or_reads_only_common_variables():
    tables = readme_tables()
    for command in jobs.JOBS:
        own = {
            name for name, job in contract() if job == command and _table_of(name, job, contract()) == command
        }
        assert not own or command in tables, command


def test_the_exit_status_table_lists_every_status_the_pipe_can_end_with():
    section = README.split("\n## Exit statuses\n", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `?([^|`]+?)`? \|", section, re.MULTILINE)
    assert listed[1:] == ["0", "1", "kubectl's own", "130", "143"]  # [0] is the header
    assert signals.EXIT_INTERRUPTED == 130 and 128 + signal.SIGTERM == 143
    # A status other than 1 is passed through only where kubectl's own is (its command line, its rollout
    # waits): a new one needs a row.
    passing_a_status = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "pipe").rglob("*.py")
        if re.search(r"exit_status=(?!1\b)", path.read_text(encoding="utf-8"))
    )
    assert passing_a_status == ["pipe/jobs/kubectl/job.py", "pipe/kube/cluster.py"]
