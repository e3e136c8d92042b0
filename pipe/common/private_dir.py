"""Where files that hold credentials go: a private directory outside the clone, removed at exit.

The clone directory can be saved as a build artifact or cached, so nothing secret is written there,
even when TMPDIR points inside it.
"""

import atexit
import errno
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from pipe.common.errors import PipeError

PRIVATE_MODE = 0o700
# Used when the system temporary directory lies inside the clone.
FALLBACK_BASE = Path("/tmp")  # noqa: S108 (a private 0700 directory is created inside it)


# Longer paths are named by their length in a refusal.
SHOWN_PATH_CHARACTERS = 200


def clone_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("BITBUCKET_CLONE_DIR") or os.getcwd()).resolve()


def inside(path: Path, directory: Path) -> bool:
    """`path` is `directory` or below it (both already resolved)."""
    return path == directory or directory in path.parents


def in_clone(name: str, raw: str, env: Mapping[str, str]) -> Path:
    """The path the user gave in variable `name`, relative to the clone, resolved with its links
    followed; refused when it is absolute or leads out of the clone (`..`, a link)."""
    clone = clone_dir(env)
    text = raw.strip()
    if Path(text).is_absolute():
        raise PipeError(f"{name} must be relative to the clone directory, got {text!r}.")
    # A value too long to be a path is named by its length: echoing it would be a page, not a line.
    shown = (
        f"{name} {text!r}"
        if len(text) <= SHOWN_PATH_CHARACTERS
        else f"{name} (a {len(text)}-character value)"
    )
    path = resolved(clone / text, shown)
    if not inside(path, clone):
        raise PipeError(f"{shown} leads outside the clone directory {clone}.")
    return path


def resolved(path: Path, what: str) -> Path:
    """`path` with every symbolic link resolved. What the system cannot take as a path (a loop of links,
    a name over 255 bytes, a path over PATH_MAX) is one line here, for every caller, not a crash later
    in whatever stats it next."""
    try:
        real = path.resolve(strict=False)
    except RuntimeError:  # RuntimeError("Symlink loop") before Python 3.13
        raise _unusable(errno.ELOOP, what) from None
    except OSError as error:
        raise _unusable(error.errno, what) from None
    try:
        os.stat(real)
    except OSError as error:  # Python 3.13 returns a loop unresolved; stat says ELOOP
        if error.errno in (errno.ELOOP, errno.ENAMETOOLONG):
            raise _unusable(error.errno, what) from None
    return real


def _unusable(number: int | None, what: str) -> PipeError:
    if number == errno.ELOOP:
        return PipeError(f"{what} is a loop of symbolic links; break the loop.")
    if number == errno.ENAMETOOLONG:
        return PipeError(
            f"{what} is too long to be a path (a name over 255 bytes, or over {os.pathconf('/', 'PC_PATH_MAX')} "
            "bytes in all); set it to a file or directory of the repository."
        )
    return PipeError(f"{what} cannot be used as a path ({os.strerror(number or 0)}).")


def inside_clone(path: Path, clone: Path, what: str) -> Path:
    """The one rule for every path the pipe reads or runs from the user's tree (manifests, files
    named in command lines, the app's CLI): inside the clone once every link is resolved."""
    real = resolved(path, what)
    if not inside(real, clone):
        shown = path.relative_to(clone) if path.is_relative_to(clone) else path
        raise PipeError(
            f"{what} names {str(shown)!r}, which leads outside the clone directory {clone} "
            "(an absolute path, `..` or a symbolic link); the pipe reads only files of the repository."
        )
    return real


def base(env: Mapping[str, str]) -> Path:
    """Where private directories are made: the system's temporary directory, or /tmp when that lies
    inside the clone. Known before the sign-in, so a job's settings reader calls it."""
    try:
        system = Path(tempfile.gettempdir()).resolve()
    except FileNotFoundError:  # no writable temporary directory at all
        system = FALLBACK_BASE.resolve()
    clone = clone_dir(env)
    for candidate in (system, FALLBACK_BASE.resolve()):
        if not inside(candidate, clone):
            return candidate
    raise PipeError(
        f"The clone directory {clone} (BITBUCKET_CLONE_DIR, or the working directory) covers every temporary "
        f"directory ({system} and {FALLBACK_BASE}): the pipe keeps files that hold credentials outside the "
        "clone. Set BITBUCKET_CLONE_DIR to the clone itself, or TMPDIR to a directory outside it."
    )


def create(env: Mapping[str, str]) -> Path:
    try:
        path = Path(tempfile.mkdtemp(prefix="aws-oidc-deploy-", dir=base(env)))
    except OSError as error:
        raise PipeError(
            f"No private temporary directory can be made: {error.strerror or error}; set TMPDIR."
        ) from None
    path.chmod(PRIVATE_MODE)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
