import json
import logging
import os
import shutil
import sys
from pathlib import Path

import pytest

from pipe.common.errors import PipeError
from pipe.jobs.cdk import dependencies as cdk_dependencies
from test.support.cdk import npm_cache

SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.mark.parametrize(
    ("command", "python"),
    [
        ("python3 app.py", True),
        ("python app.py", True),
        ("python3.13 app.py", True),
        ("/usr/bin/python3 -m app", True),
        (".venv/bin/python app.py", True),
        ("node bin/app.js", False),
        ("npx ts-node --prefer-offline bin/app.ts", False),
        ("pythonic app", False),
        ("'unbalanced", False),
        (None, False),
    ],
)
def test_a_python_app_is_one_whose_command_runs_python(command, python):
    assert cdk_dependencies.is_python_app(command) is python


def test_app_command_is_read_from_cdk_json(tmp_path):
    assert cdk_dependencies.app_command(tmp_path) is None
    (tmp_path / "cdk.json").write_text(json.dumps({"app": "python3 app.py"}))
    assert cdk_dependencies.app_command(tmp_path) == "python3 app.py"
    (tmp_path / "cdk.json").write_text(json.dumps({"app": ["not", "a", "string"]}))
    assert cdk_dependencies.app_command(tmp_path) is None
    (tmp_path / "cdk.json").write_text("{'app': 1}")
    with pytest.raises(PipeError, match=r"cdk\.json in the CDK app is not valid JSON"):
        cdk_dependencies.app_command(tmp_path)


def node_environment() -> dict[str, str]:
    return {
        "PATH": f"{npm_cache.node_bin()}:{os.environ.get('PATH', '/usr/bin:/bin')}",
        "HOME": os.environ.get("HOME", "/root"),
        "npm_config_cache": str(npm_cache.npm_cache()),
        "npm_config_update_notifier": "false",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }


def node_app(directory, lockfile=True):
    # npm ci runs the project's own install script: it records the environment npm gave it.
    script = "require('fs').writeFileSync('install-env.json', JSON.stringify(process.env))"
    package = {"name": "app", "version": "1.0.0", "scripts": {"install": f'node -e "{script}"'}}
    (directory / "package.json").write_text(json.dumps(package))
    if lockfile:
        lock = {"name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": True}
        lock["packages"] = {"": {"name": "app", "version": "1.0.0", "hasInstallScript": True}}
        (directory / "package-lock.json").write_text(json.dumps(lock))


def test_npm_ci_runs_without_credentials_when_node_modules_is_missing(tmp_path):
    node_app(tmp_path)
    assert cdk_dependencies.prepare(tmp_path, node_environment(), tmp_path / "private") == {}
    seen = json.loads((tmp_path / "install-env.json").read_text())
    assert "npm_lifecycle_event" in seen and "AWS_SECRET_ACCESS_KEY" not in seen


def test_existing_node_modules_is_used_as_it_is(tmp_path):
    node_app(tmp_path)
    (tmp_path / "node_modules").mkdir()
    cdk_dependencies.prepare(tmp_path, node_environment(), tmp_path / "private")
    assert not (tmp_path / "install-env.json").exists()


def test_package_json_without_a_lockfile_is_a_warning(tmp_path, caplog):
    node_app(tmp_path, lockfile=False)
    with caplog.at_level(logging.WARNING):
        cdk_dependencies.prepare(tmp_path, node_environment(), tmp_path / "private")
    assert "neither package-lock.json nor node_modules" in caplog.text
    assert not (tmp_path / "install-env.json").exists()


def test_a_failing_npm_ci_is_one_clear_error(tmp_path):
    node_app(tmp_path)
    (tmp_path / "package-lock.json").write_text("{")
    with pytest.raises(PipeError, match=r"npm ci failed \(exit status [0-9]+\) in the CDK app"):
        cdk_dependencies.prepare(tmp_path, node_environment(), tmp_path / "private")


def python_app(directory, requirements: str | None):
    (directory / "cdk.json").write_text(json.dumps({"app": "python3 app.py"}))
    if requirements is not None:
        (directory / "requirements.txt").write_text(requirements)


def test_a_python_apps_requirements_go_into_a_virtual_environment_in_the_private_directory(tmp_path):
    app, private = tmp_path / "app", tmp_path / "private"
    app.mkdir()
    private.mkdir()
    python_app(app, "# nothing to install\n")
    added = cdk_dependencies.prepare(app, {"PATH": "/usr/bin:/bin"}, private)
    venv = private / cdk_dependencies.VENV_DIRECTORY
    assert added == {"VIRTUAL_ENV": str(venv), "PATH": f"{venv}/bin:/usr/bin:/bin"}
    assert (venv / "bin" / "python").exists()
    assert sorted(path.name for path in app.iterdir()) == ["cdk.json", "requirements.txt"]


def test_a_python_app_without_requirements_runs_with_the_images_python(tmp_path, caplog):
    python_app(tmp_path, None)
    with caplog.at_level(logging.WARNING):
        assert cdk_dependencies.prepare(tmp_path, {"PATH": "/usr/bin:/bin"}, tmp_path / "private") == {}
    assert "has no requirements.txt" in caplog.text


def test_requirements_pip_cannot_install_are_one_clear_error(tmp_path):
    app = tmp_path / "app"
    app.mkdir()
    python_app(app, "./missing-1.0-py3-none-any.whl\n")
    env = {"PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin"}
    with pytest.raises(
        PipeError, match=r"pip could not install the CDK app's requirements.txt \(exit status 1\)"
    ):
        cdk_dependencies.prepare(app, env, tmp_path / "private")


def test_with_a_cache_the_environment_is_kept_and_reused_while_requirements_stay_the_same(tmp_path, caplog):
    app, cache = tmp_path / "app", tmp_path / "cache"
    app.mkdir()
    python_app(app, "# nothing to install\n")
    env = {"PATH": "/usr/bin:/bin", "AWS_SECRET_ACCESS_KEY": SECRET}
    with caplog.at_level(logging.INFO):
        first = cdk_dependencies.prepare(app, env, tmp_path / "private-1", cache)
    venv = cache / cdk_dependencies.venv_name(b"# nothing to install\n")
    assert first["VIRTUAL_ENV"] == str(venv) and (venv / cdk_dependencies.COMPLETE_MARKER).is_file()
    assert "Installing requirements.txt into a virtual environment in CDK_CACHE_DIR" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert cdk_dependencies.prepare(app, env, tmp_path / "private-2", cache) == first
    assert "Reusing the virtual environment" in caplog.text and "Installing" not in caplog.text
    python_app(app, "# changed\n")
    second = cdk_dependencies.prepare(app, env, tmp_path / "private-3", cache)
    assert second["VIRTUAL_ENV"] != first["VIRTUAL_ENV"]
    # The environment for the old requirements is gone: a Bitbucket cache is saved whole.
    assert [p.name for p in cache.glob("python-venv-*")] == [Path(second["VIRTUAL_ENV"]).name]
    for path in cache.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_half_built_cached_environment_is_built_again(tmp_path):
    app, cache = tmp_path / "app", tmp_path / "cache"
    app.mkdir()
    python_app(app, "# nothing to install\n")
    venv = cache / cdk_dependencies.venv_name(b"# nothing to install\n")
    (venv / "bin").mkdir(parents=True)
    (venv / "left-by-a-killed-run").write_text("")
    cdk_dependencies.prepare(app, {"PATH": "/usr/bin:/bin"}, tmp_path / "private", cache)
    assert (venv / cdk_dependencies.COMPLETE_MARKER).is_file()
    assert not (venv / "left-by-a-killed-run").exists()


def test_the_cache_holds_pip_and_npm_downloads_unless_the_step_sets_its_own(tmp_path):
    node_app(tmp_path)
    env = node_environment()
    del env["npm_config_cache"]
    cdk_dependencies.prepare(tmp_path, env, tmp_path / "private", tmp_path / "cache")
    seen = json.loads((tmp_path / "install-env.json").read_text())
    assert seen["npm_config_cache"] == str(tmp_path / "cache" / cdk_dependencies.NPM_CACHE)
    assert seen["PIP_CACHE_DIR"] == str(tmp_path / "cache" / cdk_dependencies.PIP_CACHE)
    (tmp_path / "install-env.json").unlink()
    shutil.rmtree(tmp_path / "node_modules", ignore_errors=True)
    cdk_dependencies.prepare(tmp_path, node_environment(), tmp_path / "private", tmp_path / "cache")
    seen = json.loads((tmp_path / "install-env.json").read_text())
    assert seen["npm_config_cache"] == str(npm_cache.npm_cache())
