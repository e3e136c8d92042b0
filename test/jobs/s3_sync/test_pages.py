"""The lean listing reader gives what botocore's own parser gives for Key, Size and ETag, page by
page, for any key; everything it does not expect is left to botocore, and errors stay botocore's."""

import uuid
from xml.sax.saxutils import escape

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError, ResponseParserFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipe.aws import sdk_private
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


def listing_body(keys: list[str], truncated: bool, token: str) -> bytes:
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
        + "</ListBucketResult>"
    ).encode()


@given(keys=KEYS, truncated=st.booleans(), token=KEY_TEXT)
def test_a_page_reads_as_botocore_reads_it(keys, truncated, token):
    body = listing_body(keys, truncated, token)
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
        b"<ListBucketResult><CommonPrefixes><Prefix>a/</Prefix></CommonPrefixes></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>a</Key><Size>many</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>a</Key></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Size>1</Size></Contents></ListBucketResult>",
        b"<ListBucketResult><Contents><Key>a</Key>",
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<ListBucketResult><Contents><Key>&b;</Key><Size>1</Size></Contents></ListBucketResult>",
    ],
    ids=["error", "delimiter", "size-not-a-number", "no-size", "no-key", "cut-short", "document-type"],
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
            sdk_private.LISTING_BEFORE_PARSE, lambda response_dict, **_: bodies.append(response_dict["body"])
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
