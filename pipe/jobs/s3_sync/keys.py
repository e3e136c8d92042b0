"""S3 locations and keys: parse `bucket/prefix`, map a local relative path to a key that can never
leave the prefix, and tell whether a listed key belongs to the prefix."""

import re

# The S3 naming rules for buckets (no upper case, no underscores, 3 to 63 characters).
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# S3's limit on a key's length, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Segments that a browser, a CDN or another tool would resolve, and so move a key out of its prefix.
_RELATIVE_SEGMENTS = {".", ".."}


class UnsafeKey(ValueError):
    """A path that cannot become a key inside the prefix."""


def parse_location(raw: str) -> tuple[str, str]:
    """`bucket`, `bucket/prefix`, `s3://bucket/prefix/` -> (bucket, prefix without slashes)."""
    text = raw.strip()
    if text.startswith("s3://"):
        text = text[len("s3://") :]
    bucket, _, prefix = text.partition("/")
    if not _BUCKET.fullmatch(bucket):
        raise ValueError("must be a bucket name, optionally followed by /prefix")
    prefix = prefix.strip("/")
    if prefix:
        check_relative(prefix)
    return bucket, prefix


def check_relative(path: str) -> None:
    """Raise UnsafeKey unless `path` is a plain relative key path: no empty, `.` or `..` segment, no
    leading slash, no backslash (some tools treat it as a separator), no NUL, valid UTF-8."""
    if not path:
        raise UnsafeKey("is empty")
    if "\x00" in path:
        raise UnsafeKey("contains a NUL character")
    if "\\" in path:
        raise UnsafeKey("contains a backslash")
    if path.startswith("/"):
        raise UnsafeKey("is absolute")
    for segment in path.split("/"):
        if segment == "":
            raise UnsafeKey("has an empty segment (//)")
        if segment in _RELATIVE_SEGMENTS:
            raise UnsafeKey(f"has a {segment!r} segment")
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError:
        raise UnsafeKey("is not valid UTF-8") from None
    if len(encoded) > MAX_KEY_BYTES:
        raise UnsafeKey(f"is longer than {MAX_KEY_BYTES} bytes")


def key_for(prefix: str, relative: str) -> str:
    """The key of a local file at `relative` (POSIX separators) under `prefix`."""
    check_relative(relative)
    key = f"{prefix}/{relative}" if prefix else relative
    check_relative(key)
    return key


def listing_prefix(prefix: str) -> str:
    """The ListObjects prefix: with the trailing slash, so that `www` never matches `www-old/...`."""
    return f"{prefix}/" if prefix else ""


def relative_of(prefix: str, key: str) -> str | None:
    """The part of `key` under `prefix`, or None when the key is not inside the prefix."""
    start = listing_prefix(prefix)
    if not key.startswith(start) or len(key) == len(start):
        return None
    return key[len(start) :]
