"""Upgrade canaries for pipe.aws.sdk_private: each hook into botocore's or s3transfer's private code,
run against the installed SDK. A failure here means an upgrade moved a private name: re-verify that
hook (its why is in docs/decisions.md) before raising the pin."""

import logging
import re
import subprocess
import sys
import uuid
from datetime import datetime
from importlib import metadata

import pytest

from pipe.aws import call_budget, clients, sdk_private
from test.support import aws
from test.support.run import REPO

HOOK = "pipe/aws/sdk_private.py"


def moved(hook: str, error: BaseException) -> str:
    return (
        f"{hook} no longer works with the installed SDK ({type(error).__name__}: {error}): an upgrade moved "
        f"a private name it uses. Re-verify it ({HOOK}, docs/decisions.md) before raising the pin."
    )


def pins() -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", (REPO / "requirements.txt").read_text(), re.MULTILINE)
    return {name.lower(): version for name, version in found}


@pytest.mark.parametrize("package", sorted(sdk_private.VERIFIED))
def test_the_hooks_were_verified_with_the_pinned_and_installed_versions(package):
    verified, pinned, installed = sdk_private.VERIFIED[package], pins()[package], metadata.version(package)
    assert verified == pinned == installed, (
        f"{package}: requirements.txt pins {pinned}, {installed} is installed, and the hooks in {HOOK} were "
        f"verified with {verified}. Run this file's canaries with the new version, re-verify each hook, then "
        "update VERIFIED."
    )


def _raw_client(service: str, endpoint: str = "http://127.0.0.1:9"):
    """A client as botocore makes it, before the call budget replaces its retry handler."""
    return clients.botocore_session().create_client(
        service,
        region_name=aws.REGION,
        endpoint_url=endpoint,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret-example",
        config=clients.client_config(retries=call_budget.RETRIES),
    )


@pytest.mark.parametrize("service", ["s3", "cloudfront", "elastic-beanstalk", "eks", "ssm", "sts"])
def test_botocore_keeps_each_clients_standard_retry_handler_where_the_call_budget_finds_it(service):
    from botocore.retries import standard

    client = _raw_client({"elastic-beanstalk": "elasticbeanstalk"}.get(service, service))
    try:
        handler = sdk_private.standard_retry_handler(client.meta.events, f"retry-config-{service}")
    except (AttributeError, KeyError, TypeError) as error:
        pytest.fail(moved("standard_retry_handler (the call budget's retry handler lookup)", error))
    assert isinstance(handler, standard.RetryHandler)
    assert callable(handler.needs_retry)


@pytest.fixture(scope="module")
def s3_server():
    with aws.MotoServer() as server:
        yield server


@pytest.fixture
def bucket(s3_server):
    name = f"canary-{uuid.uuid4().hex[:12]}"
    s3 = aws.client("s3", s3_server.url)
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    s3.put_object(Bucket=name, Key="a.txt", Body=b"a")
    return name


def test_a_client_made_inside_dates_as_text_leaves_dates_as_text_and_no_other_does(s3_server, bucket):
    session = clients.botocore_session()
    shared = session.get_component("response_parser_factory")
    try:
        with sdk_private.dates_as_text(session):
            as_text = _raw_client("s3", s3_server.url)
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        pytest.fail(moved("dates_as_text (the parser factory swap)", error))
    assert session.get_component("response_parser_factory") is shared
    listed = as_text.list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"]
    assert isinstance(listed, str), moved("dates_as_text", TypeError(f"LastModified came as {type(listed)}"))
    parsed = _raw_client("s3", s3_server.url).list_objects_v2(Bucket=bucket)["Contents"][0]["LastModified"]
    assert isinstance(parsed, datetime)


def test_what_a_listing_hook_puts_in_the_customized_answer_is_merged_over_botocores(s3_server, bucket):
    s3 = _raw_client("s3", s3_server.url)
    seen: list[bytes] = []

    def hook(response_dict, customized_response_dict, **_):
        seen.append(response_dict["body"])
        customized_response_dict["Contents"] = [{"Key": "from-the-hook", "Size": 7, "ETag": '"x"'}]
        response_dict["body"] = b"<ListBucketResult/>"

    sdk_private.on_listing_page(s3, hook)
    answer = s3.list_objects_v2(Bucket=bucket)
    assert seen and b"a.txt" in seen[0], moved(
        "on_listing_page", LookupError("the before-parse event never came")
    )
    assert answer["Contents"] == [{"Key": "from-the-hook", "Size": 7, "ETag": '"x"'}], moved(
        "on_listing_page", LookupError("customized_response_dict was not merged over the parsed answer")
    )


def test_an_answer_reaches_the_hook_before_botocore_logs_its_body(s3_server, bucket):
    s3 = _raw_client("s3", s3_server.url)
    order: list[str] = []

    def hook(response_dict, **_):
        order.append("hook" if b"a.txt" in response_dict["body"] else "other")

    class InOrder(logging.Handler):
        def emit(self, record):
            order.append("logged" if "Response body" in record.getMessage() else "other")

    sdk_private.before_answer_is_logged(s3, "s3", hook)
    # A handler of its own: caplog's is one object for the whole session (pytest 9), and a test that
    # replaced its emit left every later test in the worker with a caplog that captured nothing.
    parsers, in_order = logging.getLogger("botocore.parsers"), InOrder(logging.DEBUG)
    level = parsers.level
    parsers.addHandler(in_order)
    parsers.setLevel(logging.DEBUG)
    try:
        s3.list_objects_v2(Bucket=bucket)
    finally:
        parsers.removeHandler(in_order)
        parsers.setLevel(level)
    mine = [step for step in order if step != "other"]
    assert mine[:2] == ["hook", "logged"], moved(
        "before_answer_is_logged", LookupError(f"the hook and the body's log line came as {mine}")
    )


def test_s3transfers_crt_serializer_still_has_the_client_and_conversion_the_templates_use():
    from pipe.common import crt

    crt.release()
    from awscrt.http import HttpRequest
    from s3transfer.crt import BotocoreCRTRequestSerializer

    serializer = BotocoreCRTRequestSerializer(
        clients.botocore_session(), {"region_name": aws.REGION, "endpoint_url": "http://127.0.0.1:9"}
    )
    try:
        request = sdk_private.serializer_client(serializer).put_object(Bucket="b", Key="the-key", Body=b"")
        converted = sdk_private.crt_request(serializer, request["HTTPRequest"])
    except (AttributeError, KeyError, TypeError) as error:
        pytest.fail(moved("serializer_client / crt_request (the CRT request templates)", error))
    assert isinstance(converted, HttpRequest)
    assert converted.method == "PUT" and converted.path.endswith("/the-key")


def test_botocore_takes_an_awscrt_held_back_as_no_crt():
    """pipe.common.crt makes `import awscrt` fail; botocore must then use its own signers."""
    probe = (
        "from pipe.common import crt\n"
        "crt.hold_back()\n"
        "import botocore.compat, sys\n"
        "print(botocore.compat.HAS_CRT, sys.modules.get('awscrt') is None)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False, timeout=60
    )
    assert completed.stdout.split() == ["False", "True"], moved(
        "pipe.common.crt.hold_back (botocore.compat.HAS_CRT)",
        RuntimeError(completed.stdout + completed.stderr),
    )
