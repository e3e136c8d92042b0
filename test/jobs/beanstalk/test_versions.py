"""pipe.jobs.beanstalk.versions: when an object on S3 is proved to hold this bundle (the rest of the
module is exercised end to end in test_job.py)."""

from hypothesis import given
from hypothesis import strategies as st

from pipe.common.etag import METADATA_MD5
from pipe.jobs.beanstalk.bundle import Bundle
from pipe.jobs.beanstalk.versions import _same_content

_HEX = st.text(alphabet="0123456789abcdef", min_size=32, max_size=32)


@given(md5=_HEX, other=_HEX, parts=st.integers(2, 10_000), size=st.integers(1, 500 * 1024 * 1024))
def test_only_a_proof_counts_as_the_same_bundle(md5, other, parts, size):
    multipart = Bundle(path=None, size=size, md5=md5, etag=f"{other}-{parts}", crc32="")
    # The metadata MD5 decides first, whatever the ETag says.
    assert _same_content({"Metadata": {METADATA_MD5: md5}, "ETag": '"x"'}, multipart) is True
    assert _same_content({"Metadata": {METADATA_MD5: other}, "ContentLength": size}, multipart) is (
        md5 == other
    )
    # Without metadata: the multipart ETag the pipe would make proves it; another one cannot tell.
    head = {"ContentLength": size, "ETag": f'"{other}-{parts}"'}
    assert _same_content(head, multipart) is True
    assert _same_content(head | {"ETag": f'"{md5}-{parts + 1}"'}, multipart) is None
    assert _same_content(head | {"ContentLength": size + 1}, multipart) is False
    single = Bundle(path=None, size=size, md5=md5, etag=md5, crc32="AAAAAA==")
    assert _same_content({"ContentLength": size, "ETag": f'"{other}"'}, single) is (md5 == other)
    kms = {"ContentLength": size, "ETag": f'"{other}"', "ServerSideEncryption": "aws:kms"}
    assert _same_content(kms, single) is (True if md5 == other else None)
