import base64
import datetime
import zlib
from types import SimpleNamespace

import botocore.session
import pytest
from botocore.config import Config
from s3transfer.crt import BotocoreCRTRequestSerializer
from s3transfer.utils import CallArgs

from pipe.common import etag
from pipe.jobs.s3_sync import engine as s3_upload
from pipe.jobs.s3_sync.crt_serializer import TemplateSerializer


@pytest.mark.parametrize(
    ("choice", "env", "engine"),
    [
        ("auto", {}, "crt"),
        ("auto", {"HTTPS_PROXY": "http://proxy:3128"}, "classic"),
        ("auto", {"http_proxy": "http://proxy:3128"}, "classic"),
        ("auto", {"ALL_PROXY": "socks5://proxy:1080"}, "classic"),
        ("auto", {"HTTPS_PROXY": ""}, "crt"),
        ("classic", {}, "classic"),
        ("crt", {"HTTPS_PROXY": "http://proxy:3128"}, "crt"),
    ],
)
def test_engine_choice(choice, env, engine):
    assert s3_upload.engine_for(choice, env) == engine


def test_whole_object_crc32_only_below_the_multipart_threshold(tmp_path):
    path = tmp_path / "a"
    path.write_bytes(b"hello world")
    digest = etag.digest_file(path, 11)
    expected = base64.b64encode(zlib.crc32(b"hello world").to_bytes(4, "big")).decode()
    assert s3_upload.checksum_args(digest, 11) == {"ChecksumAlgorithm": "CRC32", "ChecksumCRC32": expected}
    assert s3_upload.checksum_args(digest, etag.MULTIPART_THRESHOLD) == {}


def _client(endpoint, addressing):
    return botocore.session.get_session().create_client(
        "s3",
        region_name="eu-west-1",
        endpoint_url=endpoint,
        aws_access_key_id="a",
        aws_secret_access_key="b",
        config=Config(s3={"addressing_style": addressing}, request_checksum_calculation="when_required"),
    )


def _future(bucket, key, extra_args):
    # What s3transfer's CRT manager hands a serializer, after it added its own arguments.
    extra = dict(extra_args, ContentLength=len(key) + 3, ContentMD5="override-to-be-removed")
    return SimpleNamespace(meta=SimpleNamespace(call_args=CallArgs(bucket=bucket, key=key, extra_args=extra)))


SETTINGS = [
    {"ContentType": "text/html", "CacheControl": "no-cache", "Metadata": {etag.METADATA_MD5: "0" * 32}},
    {
        "ContentType": "image/png",
        "Metadata": {etag.METADATA_MD5: "f" * 32},
        "ChecksumAlgorithm": "CRC32",
        "ChecksumCRC32": "AAAAAA==",
        "ACL": "public-read",
        "StorageClass": "STANDARD_IA",
        "ContentEncoding": "gzip",
        "Expires": datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC),
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "alias/site",
    },
]
KEYS = ["www/index.html", "www/dir with space/ü ñ+%.png", "www/a~b/c=d&e?f#g.css", "top"]


@pytest.mark.parametrize(
    ("endpoint", "addressing"),
    [("http://127.0.0.1:5000", "path"), ("https://s3.eu-west-1.amazonaws.com", "virtual")],
)
def test_requests_from_a_template_equal_what_botocore_serializes_for_each_file(endpoint, addressing):
    s3 = _client(endpoint, addressing)
    ours = TemplateSerializer(s3)
    theirs = BotocoreCRTRequestSerializer(
        botocore.session.get_session(),
        {"region_name": "eu-west-1", "endpoint_url": endpoint, "config": s3.meta.config},
    )
    for settings in SETTINGS:
        for key in KEYS:
            for md5 in ("1" * 32, "2" * 32):
                extra = dict(settings, Metadata={etag.METADATA_MD5: md5})
                mine = ours.serialize_http_request("put_object", _future("my-site", key, extra))
                reference = theirs.serialize_http_request("put_object", _future("my-site", key, extra))
                assert mine.path == reference.path
                assert mine.method == reference.method == "PUT"
                assert _headers(mine) == _headers(reference)
    # One botocore serialization per set of object settings, not per file.
    assert len(ours._templates) == len(SETTINGS)


def _headers(request):
    ignored = {"user-agent", "x-amz-date", "amz-sdk-invocation-id", "amz-sdk-request"}
    return sorted((name.lower(), value) for name, value in request.headers if name.lower() not in ignored)


def test_crt_managers_relay_and_every_file_arrives(monkeypatch, moto_server, s3, tmp_path):
    """s3transfer's CRT manager holds every transfer until it is closed: the engine hands over to a
    fresh one every CRT_FILES_PER_MANAGER files, and no file is lost at a hand-over."""
    import s3transfer.crt

    monkeypatch.setattr(s3_upload, "CRT_FILES_PER_MANAGER", 3)
    made = []
    real = s3transfer.crt.CRTTransferManager

    def counted(*args, **kwargs):
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(s3transfer.crt, "CRTTransferManager", counted)
    s3.create_bucket(Bucket="relay", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    identity = SimpleNamespace(
        credentials=SimpleNamespace(access_key_id="a", secret_access_key="b", session_token=None),
        region="eu-west-1",
    )
    files = []
    for number in range(10):
        path = tmp_path / f"file-{number}.txt"
        path.write_text(f"content {number}")
        files.append(path)
    client = _client(moto_server.url, "path")
    with s3_upload.transfer_manager("crt", client, identity, 4, {}) as manager:
        futures = [manager.upload(str(path), "relay", path.name, extra_args={}) for path in files]
        for future in futures:
            future.result()
    assert len(made) == 4  # 3 + 3 + 3 + 1
    listed = s3.list_objects_v2(Bucket="relay")["Contents"]
    assert sorted(item["Key"] for item in listed) == sorted(path.name for path in files)
