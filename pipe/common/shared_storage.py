"""Results for later steps: JSON in $BITBUCKET_PIPE_SHARED_STORAGE_DIR, which Bitbucket gives a pipe
to share files with the steps after it. Without it (a run outside Pipelines) nothing is written.

Bitbucket puts that directory inside the clone, so it is treated like the clone: the repository
may hold symbolic links anywhere in it. No link is followed on the way to a result: each directory
is opened relative to the one above it, checked (O_NOFOLLOW, O_DIRECTORY), from `/` down; a link
at the result's own name is refused too, and the file is written under a new name and renamed over
the old one, so nothing outside is ever written. Every string written is redacted as the log is
(pipe.common.log.redact): a stack output or a path holding a secret is masked, the file stays JSON.

The deploy is done when a result is written: a directory that cannot take it (a file, read-only, a
link on the way) is a warning naming it, not a failed step.
"""

import contextlib
import json
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipe.common import log
from pipe.common.log import logger

VARIABLE = "BITBUCKET_PIPE_SHARED_STORAGE_DIR"
_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
_DIRECTORY_MODE = 0o755
_FILE_MODE = 0o644


class Refused(OSError):
    """A symbolic link (or something else than a directory or a regular file) where a result goes."""


def write_json(env: Mapping[str, str], relative: str, document: Any, sort_keys: bool = False) -> Path | None:
    """Write `document` at `relative` (a path of the pipe's own, `/`-separated) under the shared
    directory; the path written, or None when there is none or it could not be written."""
    directory = env.get(VARIABLE)
    if not directory:
        return None
    text = json.dumps(log.redact_all(document), indent=2, sort_keys=sort_keys) + "\n"
    folder, _, name = relative.rpartition("/")
    try:
        descriptor = open_directory(os.path.join(directory, folder))
        try:
            _replace(descriptor, name, text.encode("utf-8"))
        finally:
            os.close(descriptor)
    except OSError as error:
        logger.warning(
            "Could not write %s for later steps in %s %s: %s.",
            relative,
            VARIABLE,
            directory,
            error.strerror or error,
        )
        return None
    return Path(directory) / relative


def open_directory(path: str) -> int:
    """A descriptor of directory `path`, reached from `/` one name at a time without following a
    link; directories missing on the way are created. Refused: a link or a non-directory on the way.
    `..` is resolved by name first, which is what it means when no link is followed."""
    names = [name for name in os.path.normpath(os.path.abspath(path)).split("/") if name]
    descriptor = os.open("/", _DIRECTORY)
    try:
        walked = ""
        for name in names:
            walked += "/" + name
            try:
                below = _open_below(descriptor, name, walked)
            except FileNotFoundError:
                # One made meanwhile is opened (and checked) below all the same.
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, _DIRECTORY_MODE, dir_fd=descriptor)
                below = _open_below(descriptor, name, walked)
            os.close(descriptor)
            descriptor = below
        return descriptor
    except BaseException:
        os.close(descriptor)
        raise


def _open_below(descriptor: int, name: str, walked: str) -> int:
    try:
        return os.open(name, _DIRECTORY, dir_fd=descriptor)
    except OSError as error:
        if isinstance(error, FileNotFoundError):
            raise
        kind = _kind(descriptor, name)
        if kind is not None and kind != "directory":
            raise Refused(f"{walked} is {kind}; no link is followed in shared storage") from None
        raise


def _kind(descriptor: int, name: str) -> str | None:
    """What is at `name` (not following a link), in words; None when nothing is."""
    try:
        mode = os.stat(name, dir_fd=descriptor, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISREG(mode):
        return "file"
    return "not a regular file"


def _replace(descriptor: int, name: str, data: bytes) -> None:
    """`data` at `name` in the open directory: written under a new name, then renamed over `name`
    (a link or a hard link there is replaced, never written through). A link is refused first."""
    kind = _kind(descriptor, name)
    if kind not in (None, "file"):
        raise Refused(f"{name} is {kind}; the result was not written")
    temporary = f".{name}.{os.getpid()}.tmp"
    handle = os.open(temporary, _NEW_FILE, _FILE_MODE, dir_fd=descriptor)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, name, src_dir_fd=descriptor, dst_dir_fd=descriptor)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=descriptor)
        raise
