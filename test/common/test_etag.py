import hashlib
import os

from pipe.common import etag


def test_single_part_etag_is_the_md5(tmp_path):
    path = tmp_path / "a"
    path.write_bytes(b"hello")
    digest = etag.digest_file(path, 5)
    assert digest.md5 == digest.etag == hashlib.md5(b"hello", usedforsecurity=False).hexdigest()


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert etag.digest_file(path, 0).etag == hashlib.md5(b"", usedforsecurity=False).hexdigest()


def test_multipart_etag_is_the_md5_of_part_md5s(tmp_path):
    data = os.urandom(etag.MULTIPART_CHUNKSIZE * 2 + 123)
    path = tmp_path / "big"
    path.write_bytes(data)
    chunk = etag.MULTIPART_CHUNKSIZE
    parts = [
        hashlib.md5(data[i : i + chunk], usedforsecurity=False).digest() for i in range(0, len(data), chunk)
    ]
    digest = etag.digest_file(path, len(data))
    assert digest.etag == hashlib.md5(b"".join(parts), usedforsecurity=False).hexdigest() + "-3"
    assert digest.md5 == hashlib.md5(data, usedforsecurity=False).hexdigest()


def test_exact_multiple_of_the_part_size_has_no_empty_last_part(tmp_path):
    data = os.urandom(etag.MULTIPART_CHUNKSIZE)
    path = tmp_path / "exact"
    path.write_bytes(data)
    assert etag.digest_file(path, len(data)).etag.endswith("-1")


def test_huge_files_use_the_part_size_s3transfer_grows_to():
    # 10,000 parts at most: 100 GB cannot be 8 MiB parts.
    assert etag.part_size(100 * 1024**3) > etag.MULTIPART_CHUNKSIZE
    assert etag.part_size(20 * 1024**2) == etag.MULTIPART_CHUNKSIZE


def test_same_content_decides_only_on_a_match():
    digest = etag.Digest(md5="0" * 32, etag="0" * 32)
    assert etag.same_content('"' + "0" * 32 + '"', digest) is True
    assert etag.same_content('"' + "1" * 32 + '"', digest) is None  # SSE-KMS or an edit: ask metadata
    assert etag.same_content('"' + "0" * 32 + '-2"', digest) is None
    assert etag.same_content("", digest) is None
    multipart = etag.Digest(md5="0" * 32, etag="a" * 32 + "-2")
    assert etag.same_content('"' + "A" * 32 + '-2"', multipart) is True
