"""What S3's ETag would be for a local file, and whether a listed ETag decides "unchanged".

A single-part upload's ETag is the MD5 of the content. A multipart upload's ETag is the MD5 of the
parts' binary MD5s followed by `-<number of parts>`, so it depends on the part size: the pipe
uploads with fixed, named sizes and computes the same. Objects encrypted with SSE-KMS, or uploaded
by another tool with another part size, have ETags the pipe cannot reproduce: those are decided by
the MD5 the pipe stores in the object's metadata (read with HeadObject).
"""

import base64
import hashlib
import zlib
from dataclasses import dataclass
from pathlib import Path

MIB = 1024 * 1024
# Fixed rather than s3transfer's defaults so that a default changing in a new s3transfer does not
# make every multipart object look changed; equal to those defaults today (8 MiB).
MULTIPART_THRESHOLD = 8 * MIB
MULTIPART_CHUNKSIZE = 8 * MIB
# The metadata key (x-amz-meta-<key>) holding the hex MD5 of the whole content, written at upload.
METADATA_MD5 = "content-md5-hex"
_READ_SIZE = 1 * MIB


@dataclass(frozen=True)
class Digest:
    md5: str  # hex MD5 of the whole content
    etag: str  # the ETag S3 gives this content when the pipe uploads it (without quotes)
    crc32: str = ""  # base64 of the big-endian CRC32, as S3's x-amz-checksum-crc32 header wants it


def part_size(size: int) -> int:
    """The part size s3transfer uses for a file of `size` bytes (it grows the chunk for huge files
    so that there are at most 10,000 parts)."""
    from s3transfer.utils import ChunksizeAdjuster

    return ChunksizeAdjuster().adjust_chunksize(MULTIPART_CHUNKSIZE, size)


def digest_file(path: Path | str, size: int) -> Digest:
    whole = hashlib.md5(usedforsecurity=False)
    if size < MULTIPART_THRESHOLD:
        crc = 0
        # A path as text is enough: making a Path per file is a measurable share of a large sync.
        with open(path, "rb") as stream:
            while block := stream.read(_READ_SIZE):
                whole.update(block)
                crc = zlib.crc32(block, crc)
        md5 = whole.hexdigest()
        return Digest(md5=md5, etag=md5, crc32=base64.b64encode(crc.to_bytes(4, "big")).decode())
    chunk = part_size(size)
    parts: list[bytes] = []
    with open(path, "rb") as stream:
        while True:
            part = hashlib.md5(usedforsecurity=False)
            remaining = chunk
            while remaining and (block := stream.read(min(_READ_SIZE, remaining))):
                part.update(block)
                whole.update(block)
                remaining -= len(block)
            if remaining == chunk:
                break
            parts.append(part.digest())
    return Digest(md5=whole.hexdigest(), etag=multipart_etag(parts))


def multipart_etag(part_digests: list[bytes]) -> str:
    combined = hashlib.md5(b"".join(part_digests), usedforsecurity=False).hexdigest()
    return f"{combined}-{len(part_digests)}"


def same_content(remote_etag: str, local: Digest) -> bool | None:
    """True: the ETag proves the content is the same. None: the ETag cannot tell (another part
    size, SSE-KMS, a format we do not know), so look at the metadata MD5. Never False: a differing
    ETag may still be the same content, and the caller only reaches here for same-size objects."""
    return True if remote_etag.strip().strip('"').lower() == local.etag else None
