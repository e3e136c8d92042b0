"""The lean listing reader gives what botocore's own parser gives for Key, Size and ETag, page by
page, for any key; everything it does not expect is left to botocore, and errors stay botocore's."""

import threading
import time
import uuid
from xml.sax.saxutils import escape

import botocore.awsrequest
import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError, ResponseParserFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.jobs.s3_sync import pages
from test.support import aws

# Any Unicode S3 takes in a key, XML's specials, entities' look-alikes and line ends included.
KEY_PIECES = st.characters(codec="utf-8", exclude_characters="\x00") | st.sampled_from(
    [*"<>&\"'\r\n\t %+;#?/", "&amp;", "&#13;", "]]>", "\u2028", "\ufeff"]
)
KEY_TEXT = st.lists(KEY_PIECES, min_size=1, max_size=30).map("".join)
KEYS = st.lists(
    KEY_TEXT.filter(lambda key: len(key.encode()) <= 1024),
    min_size=1,
    max_size=12,
    unique=True,
)
LISTING_OUTPUT = (
    botocore.session.get_session().get_service_model("s3").operation_model("ListObjectsV2").output_shape
)


def botocore_reading(body: bytes) -> dict:
    factory = ResponseParserFactory()
    factory.set_parser_defaults(timestamp_parser=str)
    parsed = factory.create_parser("rest-xml").parse(
        {"body": body, "headers": {}, "status_code": 200}, LISTING_OUTPUT
    )
    parsed.pop("ResponseMetadata", None)
    return parsed


def lean_fields(parsed: dict) -> dict:
    """What the lean reader promises: the paginator's fields and Key, Size, ETag per object."""
    kept = {
        name: parsed[name]
        for name in ("IsTruncated", "NextContinuationToken", "EncodingType")
        if name in parsed
    }
    if parsed.get("CommonPrefixes"):
        kept["CommonPrefixes"] = [{"Prefix": item["Prefix"]} for item in parsed["CommonPrefixes"]]
    if parsed.get("Contents"):
        kept["Contents"] = [
            {field: item[field] for field in ("Key", "Size", "ETag") if field in item}
            for item in parsed["Contents"]
        ]
    return kept


def as_xml_text(key: str) -> str:
    # What S3 sends without encoding-type=url: escaped, a carriage return as a character reference
    # (XML would read a literal one as a line feed).
    return escape(key, {'"': "&quot;"}).replace("\r", "&#13;")


def listing_body(keys: list[str], truncated: bool, token: str, prefixes: tuple[str, ...] = ()) -> bytes:
    objects = "".join(
        f"<Contents><Key>{as_xml_text(key)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
        f"<ETag>&quot;{number:032x}&quot;</ETag><Size>{number}</Size>"
        "<Owner><ID>x</ID><Key>not this one</Key></Owner><StorageClass>STANDARD</StorageClass></Contents>"
        for number, key in enumerate(keys)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        f"<Name>b</Name><Prefix></Prefix><KeyCount>{len(keys)}</KeyCount><MaxKeys>1000</MaxKeys>"
        f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>"
        + (f"<NextContinuationToken>{as_xml_text(token)}</NextContinuationToken>" if truncated else "")
        + objects
        + "".join(f"<CommonPrefixes><Prefix>{as_xml_text(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        + "</ListBucketResult>"
    ).encode()


@given(keys=KEYS, truncated=st.booleans(), token=KEY_TEXT, prefixes=st.lists(KEY_TEXT, max_size=4))
def test_a_page_reads_as_botocore_reads_it(keys, truncated, token, prefixes):
    # The common prefixes too: the delimiter listing of the sync's prefix is read the same way.
    body = listing_body(keys, truncated, token, tuple(prefixes))
    try:
        expected = lean_fields(botocore_reading(body))
    except ResponseParserError:
        # Control characters are not XML even as references: S3 sends such keys URL-encoded. The
        # lean reader leaves the body to botocore, which fails as it would have.
        expected = None
    assert pages.read_page(body) == expected


def test_an_empty_page_reads_as_botocore_reads_it():
    body = listing_body([], False, "")
    assert pages.read_page(body) == lean_fields(botocore_reading(body)) == {"IsTruncated": False}


@pytest.mark.parametrize(
    "body",
    [
        b"<Error><Code>InternalError</Code></Error>",
        b"<ListBucketResult><Contents><Key>a</Key><Size>many</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>a</Key>",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<ListBucketResult><Contents><Key>&b;</Key><Size>1</Size></Contents></ListBucketResult>",
    ],
    ids=["error", "size-not-a-number", "no-size", "no-key", "cut-short", "document-type"],
)
def test_a_body_of_another_shape_is_left_to_botocore(body):
    response = {"status_code": 200, "headers": {}, "body": body}
    customized: dict = {}
    pages._read_page_lean(response_dict=response, customized_response_dict=customized)
    assert pages.read_page(body) is None
    assert customized == {} and response["body"] == body


def test_a_page_larger_than_any_s3_page_is_refused():
    body = b"<ListBucketResult>" + b" " * pages.MAX_PAGE_BYTES + b"</ListBucketResult>"
    with pytest.raises(PipeError, match="AWS_ENDPOINT_URL"):
        pages._read_page_lean(response_dict={"status_code": 200, "body": body}, customized_response_dict={})


def lean_client(url: str, bodies: list | None = None):
    s3 = aws.client("s3", url)
    if bodies is not None:  # runs before the lean reader, which replaces the body it has read
        s3.meta.events.register(
            pages.LISTING_EVENT, lambda response_dict, **_: bodies.append(response_dict["body"])
        )
    pages.read_lean(s3)
    return s3


@pytest.fixture(scope="module")
def listing_server():
    with aws.MotoServer() as server:
        yield server


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=KEYS, page_size=st.integers(1, 5))
def test_moto_listings_read_the_same_through_either_reader(listing_server, keys, page_size):
    bodies: list[bytes] = []
    full, lean = aws.client("s3", listing_server.url), lean_client(listing_server.url, bodies)
    bucket = f"lean-{uuid.uuid4().hex[:12]}"
    full.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    # Straight into moto's backend (it runs in this process): its HTTP routing refuses some keys S3
    # takes, such as a line feed; listing them is what is tested.
    from moto.s3.models import s3_backends

    for number, key in enumerate(keys):
        s3_backends[aws.ACCOUNT]["global"].put_object(bucket, key, b"x" * number)

    def listed(s3) -> list[dict]:
        paginator = s3.get_paginator("list_objects_v2")
        return [
            lean_fields(page)
            for page in paginator.paginate(Bucket=bucket, PaginationConfig={"PageSize": page_size})
        ]

    read = listed(lean)
    assert read == listed(full)
    assert sorted(item["Key"] for page in read for item in page.get("Contents", ())) == sorted(keys)
    assert bodies and all(pages.read_page(body) is not None for body in bodies)  # not left to botocore


def test_an_error_is_still_botocores_with_its_code(listing_server):
    with pytest.raises(ClientError) as raised:
        lean_client(listing_server.url).list_objects_v2(Bucket=f"missing-{uuid.uuid4().hex[:12]}")
    assert raised.value.response["Error"]["Code"] == "NoSuchBucket"


# Keys built from pieces that sort around the delimiter ("a.b" < "a/" < "a0"), empty segments
# ("a//b"), keys equal to a directory's name ("a" beside "a/x"), directory markers ("a/") and
# non-ASCII, nested a few levels: the parallel listing joins the streams back in S3's order.
SEGMENTS = st.sampled_from(
    ["a", "a.b", "a0", "a-", "b", "", "é", "日本", "\U0001f600", "~", " "]
) | KEY_TEXT.filter(lambda text: "/" not in text)
NESTED_KEYS = st.lists(
    st.lists(SEGMENTS, min_size=1, max_size=4)
    .map("/".join)
    .filter(lambda key: 0 < len(key.encode()) <= 1024),
    min_size=0,
    max_size=40,
    unique=True,
)


def filled_bucket(url: str, keys: list[str]) -> str:
    s3 = aws.client("s3", url)
    bucket = f"parallel-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    from moto.s3.models import s3_backends  # in this process: its HTTP routing refuses some keys

    for number, key in enumerate(keys):
        s3_backends[aws.ACCOUNT]["global"].put_object(bucket, key, b"x" * (number % 7))
    return bucket


def sequential(url: str, bucket: str, prefix: str) -> list[tuple]:
    paginator = aws.client("s3", url).get_paginator("list_objects_v2")
    return [
        (item["Key"], item["Size"], item["ETag"])
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", ())
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=NESTED_KEYS, prefix=st.sampled_from(["", "a/", "a", "a/a/", "é/"]), page_keys=st.integers(1, 4))
def test_the_parallel_listing_yields_what_one_sequential_listing_yields(
    listing_server, keys, prefix, page_keys
):
    bucket = filled_bucket(listing_server.url, keys)
    listed = [
        (item["Key"], item["Size"], item["ETag"])
        for item in pages.listed(lean_client(listing_server.url), bucket, prefix, page_keys=page_keys)
    ]
    assert listed == sequential(listing_server.url, bucket, prefix)
    assert [key for key, _size, _etag in listed] == sorted(key for key in keys if key.startswith(prefix))


def test_a_bucket_with_more_directories_than_listings_at_once_keeps_its_order(listing_server, monkeypatch):
    # More directories than run at once, each of several pages, and objects between them.
    monkeypatch.setattr(pages, "PREFIX_LISTINGS", 3)
    keys = [f"d{number:02}/{leaf}" for number in range(12) for leaf in ("x", "y/z", "y0", "y.a")]
    keys += [f"d{number:02}" for number in range(12)] + [f"d{number:02}.html" for number in range(0, 12, 3)]
    bucket = filled_bucket(listing_server.url, keys)
    listed = [item["Key"] for item in pages.listed(lean_client(listing_server.url), bucket, "", page_keys=2)]
    assert listed == [key for key, _size, _etag in sequential(listing_server.url, bucket, "")] == sorted(keys)


def test_a_flat_bucket_is_one_delimiter_listing(listing_server):
    keys = [f"file-{number:03}.html" for number in range(25)]
    bucket = filled_bucket(listing_server.url, keys)
    requests: list[str] = []
    s3 = lean_client(listing_server.url)
    s3.meta.events.register(
        "before-call.s3.ListObjectsV2",
        lambda params, **_: requests.append(params["url_path"] + str(params["query_string"])),
    )
    assert [item["Key"] for item in pages.listed(s3, bucket, "", page_keys=10)] == keys
    assert len(requests) == 3 and all("delimiter" in request for request in requests), requests


def test_an_error_in_one_directorys_listing_is_raised_and_every_listing_stops(listing_server):
    keys = [f"{directory}/{number}" for directory in ("a", "b", "c", "d") for number in range(5)]
    bucket = filled_bucket(listing_server.url, keys)
    s3 = lean_client(listing_server.url)

    def refuse_c(params, **_):
        if params["query_string"].get("prefix") == "c/":
            error = {
                "Error": {"Code": "AccessDenied", "Message": "not c"},
                "ResponseMetadata": {"HTTPStatusCode": 403},
            }
            return botocore.awsrequest.AWSResponse(None, 403, {}, None), error
        return None

    s3.meta.events.register("before-call.s3.ListObjectsV2", refuse_c)
    before = _listing_threads()
    seen = []
    with pytest.raises(ClientError) as raised:
        for item in pages.listed(s3, bucket, "", page_keys=2):
            seen.append(item["Key"])
    assert raised.value.response["Error"]["Code"] == "AccessDenied"
    assert seen == keys[:10]  # a/ and b/ in full, nothing after the refusal
    # Every fetcher sees the stop at its next put, within its poll interval: none outlives the run.
    deadline = time.monotonic() + 10 * pages._STOP_POLL_SECONDS
    while time.monotonic() < deadline and _listing_threads() - before:
        time.sleep(0.05)
    assert not _listing_threads() - before


def _listing_threads() -> set[str]:
    return {
        f"{thread.name}-{thread.ident}"
        for thread in threading.enumerate()
        if thread.name.startswith("s3-listing")
    }
