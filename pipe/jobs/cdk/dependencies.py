"""A CDK app's dependencies, installed before the CLI runs it.

- Node.js (TypeScript, JavaScript): `npm ci` when package-lock.json exists and node_modules does not;
  node_modules already there (installed by an earlier step, or cached) is used as it is.
- Python (cdk.json's app runs python): requirements.txt installed into a virtual environment, which
  the app's `python` then is. With CDK_CACHE_DIR the environment is kept there, named by the hash of
  requirements.txt and the Python that made it, and reused while both stay the same; without it, it
  is made afresh in the private directory, outside the clone.
- With CDK_CACHE_DIR, pip's and npm's download caches live there too (unless the step sets its own).

Installers run third-party code (npm install scripts, setup.py): they get no AWS credentials and no
token, only the CDK app and the CLI do.
"""

import hashlib
import re
import shlex
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from pipe.aws.environment import without_credentials
from pipe.common import bounded_read, process
from pipe.common.errors import PipeError
from pipe.common.log import logger

NPM_LOCKFILE = "package-lock.json"
PYTHON_REQUIREMENTS = "requirements.txt"
VENV_DIRECTORY = "python-venv"
# A cached environment is complete only when this file exists: a run killed while installing leaves a
# directory without it, which the next run removes and builds again.
COMPLETE_MARKER = ".aws-oidc-deploy-complete"
# Enough of the hash to tell requirements apart, short enough for a readable directory name.
_KEY_LENGTH = 16
PIP_CACHE = "pip"
NPM_CACHE = "npm"
# npm ci, python -m venv and pip install: minutes at most; half an hour means a registry or a build
# script that hangs.
INSTALL_LIMIT_SECONDS = 30 * 60
_INSTALL_LIMIT = "the CDK app's dependency installs' limit (INSTALL_LIMIT_SECONDS)"
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


def prepare(
    app_dir: Path, env: Mapping[str, str], private: Path, cache: Path | None = None
) -> dict[str, str]:
    """Install what the app needs; return the variables to add to the CLI's environment."""
    installer_env = without_credentials(env) | _download_caches(env, cache)
    if (app_dir / NPM_LOCKFILE).is_file() and not (app_dir / "node_modules").exists():
        _npm_ci(app_dir, installer_env)
    elif (app_dir / "package.json").is_file() and not (app_dir / "node_modules").exists():
        logger.warning(
            "The CDK app has package.json but neither %s nor node_modules: commit the lockfile so that the "
            "pipe can run npm ci, or install the dependencies in an earlier step.",
            NPM_LOCKFILE,
        )
    if is_python_app(app_command(app_dir)):
        return _python_environment(app_dir, installer_env, private, cache)
    return {}


def _download_caches(env: Mapping[str, str], cache: Path | None) -> dict[str, str]:
    if cache is None:
        return {}
    wanted = {"PIP_CACHE_DIR": cache / PIP_CACHE, "npm_config_cache": cache / NPM_CACHE}
    # The step's own settings win: a user who already caches pip or npm elsewhere keeps that.
    return {name: str(path) for name, path in wanted.items() if not env.get(name)}


def _npm_ci(app_dir: Path, env: Mapping[str, str]) -> None:
    npm = shutil.which("npm", path=env.get("PATH"))
    if npm is None:
        raise PipeError("The CDK app needs npm ci, but npm is not on PATH (the pipe's image ships it).")
    logger.info("Installing the CDK app's dependencies: npm ci (%s, no node_modules yet).", NPM_LOCKFILE)
    status, _ = process.run(
        [npm, "ci", "--no-audit", "--no-fund"], env, app_dir, INSTALL_LIMIT_SECONDS, _INSTALL_LIMIT
    )
    if status != 0:
        raise PipeError(f"npm ci failed (exit status {status}) in the CDK app; npm's output is above.")


def venv_name(requirements: bytes) -> str:
    """The cached environment's directory: the Python that makes it and the hash of requirements.txt."""
    python = f"{sys.version_info.major}.{sys.version_info.minor}"
    # The full version and the interpreter's path: the environment links to that interpreter.
    digest = hashlib.sha256(requirements + f"\0{sys.version}\0{sys.executable}".encode()).hexdigest()
    return f"{VENV_DIRECTORY}-{python}-{digest[:_KEY_LENGTH]}"


def _python_environment(
    app_dir: Path, env: Mapping[str, str], private: Path, cache: Path | None
) -> dict[str, str]:
    requirements = app_dir / PYTHON_REQUIREMENTS
    if not requirements.is_file():
        logger.warning(
            "The CDK app runs Python but has no %s; it runs with the image's Python and its packages.",
            PYTHON_REQUIREMENTS,
        )
        return {}
    started = time.monotonic()
    if cache is None:
        venv = private / VENV_DIRECTORY
        _install(app_dir, env, venv, f"a virtual environment outside the clone ({venv})")
    else:
        venv = cache / venv_name(requirements.read_bytes())
        if _complete(venv):
            logger.info(
                "Reusing the virtual environment for this %s in CDK_CACHE_DIR (%s).",
                PYTHON_REQUIREMENTS,
                venv,
            )
        else:
            _forget_other_environments(cache, keep=venv)
            _install(app_dir, env, venv, f"a virtual environment in CDK_CACHE_DIR ({venv})")
            (venv / COMPLETE_MARKER).write_text(f"{PYTHON_REQUIREMENTS} installed\n", encoding="utf-8")
    logger.info("Python dependencies ready in %.1f s.", time.monotonic() - started)
    # The app's `python3 app.py` finds the virtual environment's python first, as after `activate`.
    return {"VIRTUAL_ENV": str(venv), "PATH": f"{venv / 'bin'}:{env.get('PATH', '')}"}


def _complete(venv: Path) -> bool:
    # The interpreter link breaks when the image's Python moves; then the environment is rebuilt.
    return (venv / COMPLETE_MARKER).is_file() and (venv / "bin" / "python").exists()


def _forget_other_environments(cache: Path, keep: Path) -> None:
    """Environments for older requirements (and a half-built one for these): a Bitbucket cache is
    saved whole, so what is no longer used would only make it bigger."""
    for stale in cache.glob(f"{VENV_DIRECTORY}-*"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
    shutil.rmtree(keep, ignore_errors=True)


def _install(app_dir: Path, env: Mapping[str, str], venv: Path, where: str) -> None:
    logger.info("Installing %s into %s.", PYTHON_REQUIREMENTS, where)
    status, _ = process.run(
        [sys.executable, "-m", "venv", str(venv)], env, app_dir, INSTALL_LIMIT_SECONDS, _INSTALL_LIMIT
    )
    if status != 0:
        raise PipeError(
            f"Could not create a Python virtual environment for the CDK app (exit status {status})."
        )
    python = venv / "bin" / "python"
    install = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    status, _ = process.run(
        [*install, "--requirement", PYTHON_REQUIREMENTS], env, app_dir, INSTALL_LIMIT_SECONDS, _INSTALL_LIMIT
    )
    if status != 0:
        raise PipeError(
            f"pip could not install the CDK app's {PYTHON_REQUIREMENTS} (exit status {status}); pip's output "
            "is above."
        )
