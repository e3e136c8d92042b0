"""The local side of a sync: the files under LOCAL_PATH, with their relative paths.

Symbolic links are skipped unless followed on request, and a link that resolves outside LOCAL_PATH
is never followed (a build must not be able to publish /etc/passwd or the runner's credentials).
"""

import fnmatch
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.common.private_dir import inside, resolved


@dataclass(frozen=True)
class LocalFile:
    relative: str  # POSIX separators, relative to LOCAL_PATH (the file name for a single file)
    path: Path
    size: int


@dataclass(frozen=True)
class Filters:
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def selects(self, relative: str) -> bool:
        """Every file when INCLUDE is empty, else those matching an INCLUDE glob; minus EXCLUDE."""
        if self.include and not any(fnmatch.fnmatchcase(relative, glob) for glob in self.include):
            return False
        return not any(fnmatch.fnmatchcase(relative, glob) for glob in self.exclude)


@dataclass
class Skipped:
    symlinks: int = 0
    outside: int = 0
    special: int = 0
    filtered: int = 0


def walk(root: Path, follow_symlinks: bool, filters: Filters, skipped: Skipped) -> Iterator[LocalFile]:
    """The regular files below `root` (already resolved), in no particular order."""
    # Each directory carries the real paths of the directories above it: a followed link that
    # leads back to one of them would loop for ever.
    stack: list[tuple[Path, str, frozenset[Path]]] = [(root, "", frozenset({root}))]
    while stack:
        directory, relative_dir, ancestors = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as error:
            logger.warning("Skipped directory %s: %s", relative_dir or ".", error.strerror)
            continue
        for entry in entries:
            relative = f"{relative_dir}{entry.name}"
            path = Path(entry.path)
            if entry.is_symlink():
                if not follow_symlinks:
                    skipped.symlinks += 1
                    logger.info("Skipped symbolic link %s (FOLLOW_SYMLINKS is false).", relative)
                    continue
                try:
                    target = resolved(path, relative)
                except PipeError:
                    skipped.symlinks += 1
                    logger.warning("Skipped symbolic link %s: it is a loop of links.", relative)
                    continue
                if not inside(target, root):
                    skipped.outside += 1
                    logger.warning("Skipped symbolic link %s: it points outside LOCAL_PATH.", relative)
                    continue
                path = target
            try:
                info = path.stat()
            except OSError:
                skipped.special += 1
                logger.warning("Skipped %s: it cannot be read (a broken link?).", relative)
                continue
            if stat.S_ISDIR(info.st_mode):
                real = path.resolve()
                if real in ancestors:
                    skipped.symlinks += 1
                    logger.warning(
                        "Skipped symbolic link %s: it leads back to a directory above it.", relative
                    )
                    continue
                stack.append((path, relative + "/", ancestors | {real}))
            elif stat.S_ISREG(info.st_mode):
                if filters.selects(relative):
                    yield LocalFile(relative=relative, path=path, size=info.st_size)
                else:
                    skipped.filtered += 1
            else:
                skipped.special += 1
