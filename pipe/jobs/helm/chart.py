"""The chart Helm gets: always a directory in the private directory, never the user's tree.

A chart in the clone is copied file by file with the clone's one path rule (a link out of the clone is
refused, not followed), a chart archive (in the clone, a dependency in charts/, or one Helm pulled
from a repository or registry) is unpacked here with the limits of every outside file: no absolute
path, `..` or link inside, regular files only, bounded in count, in size per file and in all.
"""

import re
import shutil
import stat
import tarfile
from pathlib import Path, PurePosixPath

from pipe.common import bounded_read, private_dir
from pipe.common.errors import PipeError

# Helm's own loader refuses charts over 100 MiB unpacked and files over 5 MiB; ours are the pipe's
# limits for outside files, met before Helm reads anything.
MAX_CHART_FILES = 5000
MAX_CHART_BYTES = 64 * bounded_read.MIB
MAX_FILE_BYTES = bounded_read.MANIFEST_FILE_BYTES
MAX_DEPTH = 32
ARCHIVE_SUFFIXES = (".tgz", ".tar.gz")
# A values.schema.json `$ref` that is not a pointer into the same file makes Helm's schema loader read
# a file of the machine (file://) or fetch a URL: refused.
_OUTSIDE_REF = re.compile(r'"\$ref"\s*:\s*"(?!#)')


class Budget:
    def __init__(self, what: str):
        self.what = what
        self.files = 0
        self.bytes = 0

    def take(self, size: int, name: str) -> None:
        self.files += 1
        self.bytes += size
        if size > MAX_FILE_BYTES:
            raise PipeError(
                f"{self.what}: {name} is {size} bytes; the limit for a chart file is {MAX_FILE_BYTES}."
            )
        if self.files > MAX_CHART_FILES or self.bytes > MAX_CHART_BYTES:
            raise PipeError(
                f"{self.what} holds over {MAX_CHART_FILES} files or {MAX_CHART_BYTES} bytes; "
                "the pipe's limit for a chart."
            )


def from_clone(path: Path, clone: Path, workdir: Path, what: str) -> Path:
    """The chart at `path` (a directory or an archive in the clone) as a directory under `workdir`."""
    budget = Budget(what)
    if path.is_file():
        return unpack(path, workdir / "chart", budget)
    target = workdir / "chart" / path.name
    _copy_tree(path, target, clone, budget, 0)
    _unpack_dependencies(target, budget)
    _check_schemas(target, what)
    return target


def unpack(archive: Path, destination: Path, budget: Budget | None = None) -> Path:
    """A chart archive unpacked under `destination` (its one top directory is the chart)."""
    budget = budget or Budget(f"the chart archive {archive.name}")
    destination.mkdir(parents=True, exist_ok=True)
    tops: set[str] = set()
    try:
        # r:gz, not the stream mode r|gz: Helm writes a gzip FEXTRA field, which Python's stream reader
        # misreads (3.11-3.13). Members are still taken one by one, each within the budget.
        with tarfile.open(archive, mode="r:gz") as stream:
            for member in stream:
                parts = _member_parts(member.name, budget.what)
                if not parts:
                    continue
                tops.add(parts[0])
                target = destination.joinpath(*parts)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise PipeError(
                        f"{budget.what} holds {member.name[:80]!r}, which is not a regular file "
                        "(a link or device); the pipe unpacks regular files only."
                    )
                budget.take(member.size, member.name[:80])
                source = stream.extractfile(member)
                if source is None:
                    raise PipeError(f"{budget.what}: {member.name[:80]!r} cannot be read.")
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("wb") as output:
                    shutil.copyfileobj(source, output)
    except (tarfile.TarError, EOFError, OSError) as error:
        raise PipeError(
            f"{budget.what} is not a readable chart archive (.tgz): {type(error).__name__}."
        ) from None
    if len(tops) != 1:
        raise PipeError(f"{budget.what} must hold one chart directory at its top, found {len(tops)}.")
    chart = destination / tops.pop()
    _unpack_dependencies(chart, budget)
    _check_schemas(chart, budget.what)
    return chart


def _member_parts(name: str, what: str) -> tuple[str, ...]:
    path = PurePosixPath(name)
    parts = tuple(part for part in path.parts if part not in ("", "."))
    if path.is_absolute() or ".." in parts or "\\" in name or len(parts) > MAX_DEPTH:
        raise PipeError(
            f"{what} holds the entry {name[:80]!r}, which would be unpacked outside the chart "
            "(an absolute path or `..`); the archive is refused."
        )
    return parts


def _copy_tree(source: Path, target: Path, clone: Path, budget: Budget, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise PipeError(f"{budget.what} nests directories over {MAX_DEPTH} levels deep.")
    target.mkdir(parents=True, exist_ok=True)
    for entry in sorted(source.iterdir()):
        real = private_dir.inside_clone(entry, clone, budget.what)
        mode = real.stat().st_mode
        if stat.S_ISDIR(mode):
            _copy_tree(real, target / entry.name, clone, budget, depth + 1)
        elif stat.S_ISREG(mode):
            shown = str(entry.relative_to(clone))
            data = bounded_read.read_bytes(real, MAX_FILE_BYTES, f"{budget.what}: {shown}")
            budget.take(len(data), shown)
            (target / entry.name).write_bytes(data)
        else:
            raise PipeError(
                f"{budget.what}: {entry.relative_to(clone)} is not a regular file (a pipe, device or socket)."
            )


def _unpack_dependencies(chart: Path, budget: Budget) -> None:
    """charts/*.tgz become directories beside them, unpacked here rather than by Helm."""
    dependencies = chart / "charts"
    if not dependencies.is_dir():
        return
    for archive in sorted(dependencies.iterdir()):
        if archive.is_file() and archive.name.endswith(ARCHIVE_SUFFIXES):
            unpacked = unpack(archive, dependencies / f".{archive.name}.d", budget)
            archive.unlink()
            unpacked.rename(dependencies / unpacked.name)
            shutil.rmtree(dependencies / f".{archive.name}.d")


def _check_schemas(chart: Path, what: str) -> None:
    for schema in chart.rglob("values.schema.json"):
        text = schema.read_text(encoding="utf-8", errors="replace")
        if _OUTSIDE_REF.search(text):
            raise PipeError(
                f"{what}: {schema.relative_to(chart.parent)} has a $ref to another file or a URL, which Helm "
                "would read or fetch; keep the schema in one file (refs starting with #)."
            )
