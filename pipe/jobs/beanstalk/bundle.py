"""An application bundle: a zip made from a directory the same way every time, and its digest.

The same files give the same bytes (sorted entries, a fixed timestamp, modes reduced to 644/755), so
a re-run of a step zips to an identical bundle and the version it already uploaded is reused.
"""

import os
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipe.common import etag, private_dir
from pipe.common.errors import PipeError
from pipe.common.local_tree import Filters, Skipped, walk
from pipe.common.log import logger
from pipe.jobs.beanstalk.settings import BundleSource

# The earliest time a zip entry can carry; any fixed value keeps the bytes reproducible.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
# Version control data is not part of the application (and can hold credentials in .git/config).
EXCLUDED = (".git", ".git/*", "*/.git", "*/.git/*")
COMPRESS_LEVEL = 6
# Elastic Beanstalk's limit on a source bundle.
MAX_BUNDLE_BYTES = 500 * 1024 * 1024
_READ_SIZE = 1024 * 1024


@dataclass(frozen=True)
class Bundle:
    path: Path
    size: int
    md5: str  # hex MD5 of the whole file
    etag: str  # the ETag S3 gives it when the pipe uploads it (multipart above the threshold)
    crc32: str  # base64 CRC32 of a single-part bundle, for S3 to verify on arrival ('' if multipart)


def digest(path: Path) -> Bundle:
    size = path.stat().st_size
    made = etag.digest_file(path, size)
    return Bundle(path, size, made.md5, made.etag, made.crc32)


def make_zip(source: Path, target: Path) -> int:
    """Zip the regular files under `source` (links inside it followed, links leading out skipped)
    into `target`; return how many files went in."""
    skipped = Skipped()
    files = sorted(walk(source, True, Filters(exclude=EXCLUDED), skipped), key=lambda item: item.relative)
    if skipped.outside:
        logger.warning("%d symbolic link(s) point outside SOURCE_PATH and were left out.", skipped.outside)
    if not files:
        raise PipeError(f"SOURCE_PATH {source.name!r} holds no files to deploy; build the application first.")
    undecodable = [item.relative for item in files if not _is_utf8(item.relative)]
    if undecodable:
        # A zip names its entries in UTF-8 (or the old code page, which Elastic Beanstalk misreads).
        raise PipeError(
            f"SOURCE_PATH {source.name!r} holds {len(undecodable)} file name(s) that are not UTF-8 text, such as "
            f"{undecodable[0].encode('utf-8', 'surrogateescape')!r}; rename them."
        )
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL) as archive:
        for item in files:
            entry = zipfile.ZipInfo(item.relative, date_time=FIXED_TIME)
            mode = os.stat(item.path).st_mode
            executable = mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
            entry.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # Unix, so that the modes above are read on any platform
            with (
                item.path.open("rb") as stream,
                archive.open(entry, "w", force_zip64=item.size >= zipfile.ZIP64_LIMIT) as out,
            ):
                while block := stream.read(_READ_SIZE):
                    out.write(block)
    target.chmod(0o600)
    return len(files)


def _is_utf8(name: str) -> bool:
    # os.fsdecode turned the bytes that are not UTF-8 into lone surrogates.
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _in_clone(name: str, raw: str, env: Mapping[str, str]) -> Path:
    path = private_dir.in_clone(name, raw, env)
    if not path.exists():
        raise PipeError(
            f"{name} {raw.strip()!r} does not exist in {private_dir.clone_dir(env)}; build it before this step."
        )
    return path


def prepare(source: BundleSource, env: Mapping[str, str]) -> Bundle:
    """The bundle to upload: ZIP_FILE as it is, or SOURCE_PATH zipped outside the clone."""
    if source.is_zip:
        path = _in_clone("ZIP_FILE", source.path, env)
        if not path.is_file() or not zipfile.is_zipfile(path):
            raise PipeError(f"ZIP_FILE {source.path!r} is not a zip archive; point it at the bundle (.zip).")
    else:
        directory = _in_clone("SOURCE_PATH", source.path, env)
        if not directory.is_dir():
            raise PipeError(f"SOURCE_PATH {source.path!r} is not a directory; use ZIP_FILE for a file.")
        # Outside the clone: the clone may be cached or saved as an artifact.
        path = private_dir.create(env) / "bundle.zip"
        count = make_zip(directory, path)
        logger.info("Zipped %d file(s) from %s (without .git).", count, source.path)
    made = digest(path)
    if made.size > MAX_BUNDLE_BYTES:
        raise PipeError(
            f"The bundle is {made.size // (1024 * 1024)} MiB; Elastic Beanstalk takes at most 500 MiB. "
            "Leave build caches and dependencies the platform installs out of it."
        )
    return made
