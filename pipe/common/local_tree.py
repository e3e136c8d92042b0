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


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file to sync. Small on purpose (a sync may hold 100,000): the root text is one object shared
    by every file of a walk, and a Path is made only when asked for."""

    relative: str  # POSIX separators, relative to LOCAL_PATH (the file name for a single file)
    root: str  # the directory `relative` is relative to
    size: int
    target: str | None = None  # where a followed symbolic link leads, when not root/relative

    @property
    def location(self) -> str:
        return self.target or f"{self.root}/{self.relative}"

    @property
    def path(self) -> Path:
        return Path(self.location)


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
    """The regular files below `root` (already resolved), in the order S3 lists their keys.

    S3 lists keys in UTF-8 byte order, which is Python's order of str. A directory's files and the
    files below it form one run in that order when the directory sorts as `name/`, so a
    depth-first walk over each directory's sorted entries yields every relative path in order while
    holding one directory listing per level, not the whole tree.
    """
    # Each level carries the real paths of the directories above it: a followed link that leads
    # back to one of them would loop for ever.
    root_text = str(root)
    listing = _entries(root, "", root, follow_symlinks, skipped)
    stack = [(iter(listing), "", root_text, frozenset({root}))]
    while stack:
        entries, relative_dir, directory, ancestors = stack[-1]
        entry = next(entries, None)
        if entry is None:
            stack.pop()
            continue
        sort_key, size, target = entry
        name = sort_key if size is not None else sort_key[:-1]
        relative = relative_dir + name
        location = target or f"{directory}/{name}"
        if size is not None:
            if filters.selects(relative):
                moved = None if location == f"{root_text}/{relative}" else location
                yield LocalFile(relative=relative, root=root_text, size=size, target=moved)
            else:
                skipped.filtered += 1
            continue
        real = Path(location).resolve()
        if real in ancestors:
            skipped.symlinks += 1
            logger.warning("Skipped symbolic link %s: it leads back to a directory above it.", relative)
            continue
        listing = _entries(Path(location), relative + "/", root, follow_symlinks, skipped)
        stack.append((iter(listing), relative + "/", location, ancestors | {real}))


# (sort key: the name, `name/` for a directory; size, None for a directory; where a followed link
# leads, None for an entry that is not a link). Small: a level of the walk holds a whole directory.
_Entry = tuple[str, int | None, str | None]


def _entries(directory: Path, relative_dir: str, root: Path, follow: bool, skipped: Skipped) -> list[_Entry]:
    """One directory's regular files and directories, sorted as their keys sort."""
    try:
        scanned = list(os.scandir(directory))
    except OSError as error:
        logger.warning("Skipped directory %s: %s", relative_dir or ".", error.strerror)
        return []
    found: list[_Entry] = []
    for entry in scanned:
        relative = f"{relative_dir}{entry.name}"
        location = entry.path
        target = None
        if entry.is_symlink():
            if not follow:
                skipped.symlinks += 1
                logger.info("Skipped symbolic link %s (FOLLOW_SYMLINKS is false).", relative)
                continue
            try:
                real_target = resolved(Path(location), relative)
            except PipeError:
                skipped.symlinks += 1
                logger.warning("Skipped symbolic link %s: it is a loop of links.", relative)
                continue
            if not inside(real_target, root):
                skipped.outside += 1
                logger.warning("Skipped symbolic link %s: it points outside LOCAL_PATH.", relative)
                continue
            location = target = str(real_target)
        try:
            info = os.stat(location)
        except OSError:
            skipped.special += 1
            logger.warning("Skipped %s: it cannot be read (a broken link?).", relative)
            continue
        if stat.S_ISDIR(info.st_mode):
            found.append((entry.name + "/", None, target))
        elif stat.S_ISREG(info.st_mode):
            found.append((entry.name, info.st_size, target))
        else:
            skipped.special += 1
    found.sort()
    return found
