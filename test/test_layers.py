"""The layers hold: each package imports only from the packages below it, lazy imports included.

From the bottom: `pipe/common/` (the plumbing), `pipe/report/` (the plan and result a job reports),
`pipe/aws/` (AWS client plumbing and errors), the sign-in (`pipe/signin/`), `pipe/kube/` (what the
Kubernetes jobs share: cluster access, the EKS token, the authorization doctor), the jobs (`pipe/jobs/`, one package or module per job, and the dispatch
table beside them), and the entry on top (`pipe/entry.py`, `pipe/main.py`, `pipe/__main__.py`). A job
uses only what the sign-in offers every job, and no job imports another: a piece two jobs need moves
down. Read from the source (every `import`, at the top, inside a function or under TYPE_CHECKING,
`importlib.import_module` with a literal, and `package.module` attribute use), not by importing it.
"""

import ast
from pathlib import Path

import pytest

from pipe.jobs import JOBS
from test.support.run import REPO

PIPE = REPO / "pipe"
ENTRY = frozenset({"pipe.entry", "pipe.main", "pipe.__main__"})
# What a layer may import, besides the package `pipe` itself (it holds the version and nothing else).
MAY_IMPORT = {
    "common": {"common"},
    "report": {"common", "report"},
    "aws": {"common", "aws"},
    "signin": {"common", "aws", "signin"},
    "kube": {"common", "report", "aws", "signin public", "kube"},
    "jobs": {"common", "report", "aws", "signin public", "kube", "jobs"},
}
# What the sign-in offers every job: the identity a signed-in job gets, and the sign-in's own domain
# (token claims, role ARNs, session names, trust and permissions policies) for whoami and trust-policy. Its clients,
# retries, time budgets and error decoding are its own; shared AWS plumbing lives in pipe/aws/.
SIGNIN_PUBLIC_NAMES = frozenset({"Identity"})
SIGNIN_PUBLIC_MODULES = frozenset(
    {
        "pipe.signin.claims",
        "pipe.signin.arns",
        "pipe.signin.session_name",
        "pipe.signin.trust",
        "pipe.signin.policies",
    }
)


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(name: str, root: Path) -> bool:
    return (root.joinpath(*name.split(".")[1:]) / "__init__.py").is_file()


def imported(path: Path, root: Path) -> set[str]:
    """Every name of the package under `root` that the module at `path` imports: a module, or
    `module.name` for a name taken from a module."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()
    # A package bound to a name: `signin.botocore_session()` after `from pipe import signin` takes a
    # name from the package as surely as `from pipe.signin import botocore_session` does.
    bound: dict[str, str] = {}

    def add(target: str, local: str | None = None) -> None:
        if target.split(".")[0] == root.name:
            found.add(target)
            if local and _is_package(target, root):
                bound[local] = target

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, alias.asname)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                add(f"{base}.{alias.name}", alias.asname or alias.name)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            add(node.args[0].value)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in bound:
            found.add(f"{bound[node.value.id]}.{node.attr}")
    return found


def layer(name: str) -> str | None:
    if name in ENTRY:
        return "entry"
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in MAY_IMPORT:
        return parts[1]
    return None


def job_of(name: str, jobs: frozenset[str]) -> str | None:
    """The job package (or single-module job) `name` belongs to, if any."""
    parts = name.split(".")
    return ".".join(parts[:3]) if len(parts) > 2 and ".".join(parts[:3]) in jobs else None


def refused(importer: str, target: str, jobs: frozenset[str]) -> str | None:
    """Why `importer` may not import `target`, or None when it may."""
    if target == "pipe" or target.startswith("pipe.__version__"):
        return None
    own, theirs = layer(importer), layer(target)
    if own == "entry" or own is None:  # a module in no layer is refused on its own
        return None
    if theirs is None:
        return f"{target} is in no layer: add it to test/test_layers.py"
    if theirs == "signin" and own in ("jobs", "kube"):
        if (
            any(target == m or target.startswith(m + ".") for m in SIGNIN_PUBLIC_MODULES)
            or target == "pipe.signin"
            or target.removeprefix("pipe.signin.") in SIGNIN_PUBLIC_NAMES
        ):
            theirs = "signin public"
        else:
            return "a job uses the sign-in's internals (shared AWS plumbing belongs in pipe/aws/)"
    if theirs not in MAY_IMPORT[own]:
        return f"{own} imports from {theirs}, a layer above it"
    mine, other = job_of(importer, jobs), job_of(target, jobs)
    if other is not None and other != mine:
        return f"{'the dispatch table' if mine is None else 'a job'} imports another job (move the shared piece down)"
    return None


def violations(root: Path, jobs: frozenset[str]) -> dict[tuple[str, str], str]:
    found = {}
    for path in sorted(root.rglob("*.py")):
        importer = module_name(path, root)
        if importer == root.name:  # the package itself: only the version
            continue
        if layer(importer) is None:
            found[(importer, "")] = f"{importer} is in no layer: add it to test/test_layers.py"
        for target in sorted(imported(path, root)):
            reason = refused(importer, target, jobs)
            if reason:
                found[(importer, target)] = reason
    return found


def job_packages() -> frozenset[str]:
    return frozenset(".".join(module.split(".")[:3]) for module in JOBS.values())


def test_every_package_imports_only_from_the_layers_below_it():
    found = violations(PIPE, job_packages())
    assert found == {}


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pipe"
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
        for parent in path.relative_to(root).parents:
            (root / parent / "__init__.py").touch()
    return root


_JOBS = frozenset({"pipe.jobs.alpha", "pipe.jobs.beta"})


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"common/a.py": "def f():\n    import pipe.main\n"}, ("pipe.common.a", "pipe.main")),
        ({"common/a.py": "from pipe.signin import retry\n"}, ("pipe.common.a", "pipe.signin.retry")),
        ({"common/a.py": "from ..jobs import alpha\n"}, ("pipe.common.a", "pipe.jobs.alpha")),
        (
            {"common/a.py": "import importlib\nimportlib.import_module('pipe.main')\n"},
            ("pipe.common.a", "pipe.main"),
        ),
        ({"aws/a.py": "from pipe.signin import Identity\n"}, ("pipe.aws.a", "pipe.signin.Identity")),
        ({"signin/a.py": "from pipe.jobs import Context\n"}, ("pipe.signin.a", "pipe.jobs.Context")),
        ({"signin/a.py": "from pipe.entry import entry\n"}, ("pipe.signin.a", "pipe.entry.entry")),
        (
            {"jobs/alpha/job.py": "from pipe.jobs.beta import helper\n", "jobs/beta/helper.py": ""},
            ("pipe.jobs.alpha.job", "pipe.jobs.beta.helper"),
        ),
        (
            {"jobs/alpha/job.py": "from pipe import signin\nsignin.botocore_session()\n", "signin/x.py": ""},
            ("pipe.jobs.alpha.job", "pipe.signin.botocore_session"),
        ),
        (
            {"jobs/alpha/job.py": "from pipe.signin import retry\n", "signin/retry.py": ""},
            ("pipe.jobs.alpha.job", "pipe.signin.retry"),
        ),
        ({"tools.py": "x = 1\n"}, None),
    ],
    ids=[
        "lazy-entry",
        "common-signin",
        "relative",
        "import-module",
        "aws-signin",
        "signin-jobs",
        "signin-entry",
        "job-to-job",
        "signin-attribute",
        "signin-internal",
        "no-layer",
    ],
)
def test_the_checker_sees_an_upward_import(tmp_path, files, expected):
    found = violations(_tree(tmp_path, files), _JOBS)
    if expected is None:  # a module outside every layer is refused until it is placed in one
        assert any("in no layer" in why for why in found.values())
    else:
        assert expected in found


def test_the_checker_allows_the_downward_imports(tmp_path):
    root = _tree(
        tmp_path,
        {
            "common/a.py": "from pipe.common import b\nfrom pipe import __version__\n",
            "common/b.py": "",
            "aws/c.py": "from pipe.common.b import x\n",
            "signin/__init__.py": "from pipe.aws import c\nIdentity = object\n",
            "signin/claims.py": "",
            "jobs/__init__.py": "from pipe.signin import Identity\n",
            "jobs/alpha/job.py": "from pipe.jobs import Context\nfrom pipe.jobs.alpha import util\n"
            "from pipe.signin.claims import Claims\nfrom pipe.aws import c\n",
            "jobs/alpha/util.py": "",
            "main.py": "from pipe.jobs.alpha import job\nfrom pipe import signin\n",
        },
    )
    assert violations(root, _JOBS) == {}
