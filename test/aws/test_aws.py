"""pipe.aws sits below the jobs and the sign-in: it imports neither, and pipe.common imports it not."""

import ast

import pytest

from test.support.run import REPO


def imported(path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize(
    ("package", "above"),
    [("aws", ("pipe.signin", "pipe.jobs", "pipe.main")), ("common", ("pipe.aws",))],
)
def test_no_module_imports_a_layer_above_its_own(package, above):
    upward = {
        f"{path.relative_to(REPO)}: {name}"
        for path in (REPO / "pipe" / package).rglob("*.py")
        for name in imported(path)
        if name.startswith(above)
    }
    assert upward == set()
