"""The tree says what the program is: CONTRIBUTING.md's layout table matches pipe/, test/ mirrors pipe/,
no module outgrows a screenful of reading, and the exec plugin loads without the sign-in."""

import re
import subprocess
import sys

from test.support.run import REPO

CONTRIBUTING = (REPO / "CONTRIBUTING.md").read_text()
PIPE = REPO / "pipe"
TEST = REPO / "test"
MAX_MODULE_LINES = 350
# Tests that cross every job (or test the test bench itself) sit at the top of test/.
CROSS_CUTTING = {
    "test_bad_inputs",
    "test_contract",
    "test_contract_fuzz",
    "test_docs",
    "test_every_job",
    "test_controlplane",
    "test_beanstalk_standin",
    "test_codeinsights_standin",
    "test_faults",
    "test_faults_e2e",
    "test_interrupts_e2e",
    "test_layers",
    "test_layout",
    "test_leak_scan",
    "test_main",
    "test_packages",
    "test_migrating",
    "test_pipeline",
    "test_test_bench",
    "test_project",
}


def layout_table() -> dict[str, set[str]]:
    section = CONTRIBUTING.split("\n## How the code is laid out\n", 1)[1].split("\n#", 1)[0]
    rows = re.findall(r"^\| `(pipe/[a-z0-9_/]*)` \| .* \| (.*) \|$", section, re.MULTILINE)
    return {folder: set(re.findall(r"`([a-z0-9_]+)`", modules)) for folder, modules in rows}


def tree() -> dict[str, set[str]]:
    folders: dict[str, set[str]] = {}
    for path in PIPE.rglob("*.py"):
        if "__pycache__" in path.parts or path.name == "__init__.py":
            continue
        folder = path.parent.relative_to(REPO).as_posix() + "/"
        folders.setdefault(folder, set()).add(path.stem)
    for init in PIPE.rglob("__init__.py"):
        folders.setdefault(init.parent.relative_to(REPO).as_posix() + "/", set())
    return folders


def test_the_layout_table_names_every_package_and_module_and_no_other():
    assert layout_table() == tree()


def test_no_module_is_over_the_size_a_reader_takes_in():
    sizes = {
        path.relative_to(REPO).as_posix(): len(path.read_text().splitlines()) for path in PIPE.rglob("*.py")
    }
    assert {name: lines for name, lines in sizes.items() if lines > MAX_MODULE_LINES} == {}


def test_every_test_module_sits_where_its_module_sits():
    misplaced = []
    for path in TEST.rglob("test_*.py"):
        relative = path.relative_to(TEST)
        if relative.parts[0] in ("support", "container"):
            continue
        if len(relative.parts) == 1 and path.stem in CROSS_CUTTING:
            continue
        module = REPO / "pipe" / relative.parent / (path.stem.removeprefix("test_") + ".py")
        package_front = REPO / "pipe" / relative.parent / "__init__.py"
        if not (module.exists() or (path.stem == f"test_{relative.parent.name}" and package_front.exists())):
            misplaced.append(relative.as_posix())
    assert misplaced == []


def test_each_job_package_keeps_its_init_free_of_imports():
    # kubectl runs `python -m pipe.kube.eks_token` per token: importing the package must be cheap.
    for init in (PIPE / "jobs").glob("*/__init__.py"):
        code = [line for line in init.read_text().splitlines() if line.startswith(("import ", "from "))]
        assert code == [], init


def test_the_token_plugin_loads_neither_the_sign_in_nor_the_sdk():
    probe = (
        "import sys, runpy\n"
        "import pipe.kube.eks_token\n"
        "heavy = [m for m in ('pipe.signin', 'botocore', 'yaml', 'bitbucket_pipes_toolkit', 'colorlog') "
        "if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert completed.stdout.strip() == ""
