"""A CDK app's dependencies, installed before the CLI runs it.

- Node.js (TypeScript, JavaScript): `npm ci` when package-lock.json exists and node_modules does not;
  node_modules already there (installed by an earlier step, or cached) is used as it is.
- Python (cdk.json's app runs python): requirements.txt installed into a virtual environment in the
  private directory, outside the clone, which the app's `python` then is.

Installers run third-party code (npm install scripts, setup.py): they get no AWS credentials and no
token, only the CDK app and the CLI do.
"""

import re
import shlex
import shutil
import sys
from pathlib import Path

from pipe import signin
from pipe.common import bounded_read, process
from pipe.common.errors import PipeError
from pipe.common.log import logger

NPM_LOCKFILE = "package-lock.json"
PYTHON_REQUIREMENTS = "requirements.txt"
VENV_DIRECTORY = "python-venv"
# `python`, `python3`, `python3.13`, with or without a directory in front.
_PYTHON = re.compile(r"(?:.*/)?python(?:3(?:\.[0-9]+)?)?")


def app_command(app_dir: Path) -> str | None:
    """cdk.json's "app", the command the CLI runs to synthesize; None without cdk.json."""
    path = app_dir / "cdk.json"
    if not path.is_file():
        return None
    try:
        document = bounded_read.load_json(
            bounded_read.read_bytes(path, bounded_read.SETTINGS_FILE_BYTES, "cdk.json in the CDK app"),
            "cdk.json in the CDK app",
        )
    except (OSError, UnicodeDecodeError) as error:
        raise PipeError(f"cdk.json in the CDK app cannot be read: {error}.") from None
    except ValueError as error:
        raise PipeError(f"cdk.json in the CDK app is not valid JSON: {error}.") from None
    command = document.get("app") if isinstance(document, dict) else None
    return command if isinstance(command, str) else None


def is_python_app(command: str | None) -> bool:
    try:
        words = shlex.split(command or "")
    except ValueError:
        return False
    return bool(words) and _PYTHON.fullmatch(words[0]) is not None


def prepare(app_dir: Path, env, private: Path) -> dict[str, str]:
    """Install what the app needs; return the variables to add to the CLI's environment."""
    installer_env = signin.without_credentials(env)
    if (app_dir / NPM_LOCKFILE).is_file() and not (app_dir / "node_modules").exists():
        _npm_ci(app_dir, installer_env)
    elif (app_dir / "package.json").is_file() and not (app_dir / "node_modules").exists():
        logger.warning(
            "The CDK app has package.json but neither %s nor node_modules: commit the lockfile so that the "
            "pipe can run npm ci, or install the dependencies in an earlier step.",
            NPM_LOCKFILE,
        )
    if is_python_app(app_command(app_dir)):
        return _python_environment(app_dir, installer_env, private / VENV_DIRECTORY)
    return {}


def _npm_ci(app_dir: Path, env) -> None:
    npm = shutil.which("npm", path=env.get("PATH"))
    if npm is None:
        raise PipeError("The CDK app needs npm ci, but npm is not on PATH (the pipe's image ships it).")
    logger.info("Installing the CDK app's dependencies: npm ci (%s, no node_modules yet).", NPM_LOCKFILE)
    status, _ = process.run([npm, "ci", "--no-audit", "--no-fund"], env, app_dir)
    if status != 0:
        raise PipeError(f"npm ci failed (exit status {status}) in the CDK app; npm's output is above.")


def _python_environment(app_dir: Path, env, venv: Path) -> dict[str, str]:
    requirements = app_dir / PYTHON_REQUIREMENTS
    if not requirements.is_file():
        logger.warning(
            "The CDK app runs Python but has no %s; it runs with the image's Python and its packages.",
            PYTHON_REQUIREMENTS,
        )
        return {}
    logger.info("Installing %s into a virtual environment outside the clone (%s).", PYTHON_REQUIREMENTS, venv)
    status, _ = process.run([sys.executable, "-m", "venv", str(venv)], env, app_dir)
    if status != 0:
        raise PipeError(
            f"Could not create a Python virtual environment for the CDK app (exit status {status})."
        )
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    status, _ = process.run([*install, "--requirement", PYTHON_REQUIREMENTS], env, app_dir)
    if status != 0:
        raise PipeError(
            f"pip could not install the CDK app's {PYTHON_REQUIREMENTS} (exit status {status}); pip's output "
            "is above."
        )
    # The app's `python3 app.py` finds the virtual environment's python first, as after `activate`.
    return {"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{env.get('PATH', '')}"}
