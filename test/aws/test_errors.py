"""pipe.aws.errors: an AWS error read once — code, message, status — told in one format, and the
access-denied, not-found and transient classes every job decides by."""

import re

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from hypothesis import given
from hypothesis import strategies as st

from pipe.aws import errors
from pipe.common.errors import PipeError
from test.support import aws

ENDPOINT = "https://s3.eu-west-1.amazonaws.com"


def client_error(
    code: str | None = "", message: str | None = "", status: int | None = 400, **extra
) -> ClientError:
    detail = {key: value for key, value in (("Code", code), ("Message", message)) if value is not None}
    metadata = {} if status is None else {"HTTPStatusCode": status}
    return ClientError({"Error": detail, "ResponseMetadata": metadata | extra}, "AnOperation")


codes = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=40)
# Messages as services write them: words, then any closing punctuation and white space, or none.
bodies = st.text(st.characters(categories=("L", "N", "Zs")), min_size=1, max_size=60).filter(str.strip)
closings = st.text(st.sampled_from(". \t\n"), max_size=4)


# --- one summary format --------------------------------------------------------------------------------------------


@given(code=codes, body=bodies, closing=closings)
def test_a_summary_is_code_colon_message_without_its_closing_full_stop(code, body, closing):
    error = client_error(code, body + closing)
    assert errors.summary(error) == f"{code}: {body.strip()}"


@given(code=codes, body=bodies, closing=closings, status=st.sampled_from([None, 400, 403, 404, 503]))
def test_a_sentence_ends_in_exactly_one_full_stop_and_never_in_a_dangling_colon(code, body, closing, status):
    text = errors.sentence(client_error(code, body + closing, status))
    assert text.endswith(".") and not text.endswith("..")
    assert not re.search(r":\s*\.?$", text)
    assert text.startswith(f"{code}: ")


@given(code=codes, message=st.sampled_from(["", " ", ".", " . ", "\n"]))
def test_an_empty_message_leaves_the_code_alone(code, message):
    error = client_error(code, message)
    assert errors.summary(error) == code
    assert errors.sentence(error) == f"{code}."


def test_no_code_names_the_http_status_and_no_answer_names_the_exception():
    assert errors.summary(client_error("", "Service Unavailable", 503)) == "HTTP 503: Service Unavailable"
    assert errors.summary(client_error(None, None, None)) == "Error"
    timeout = ReadTimeoutError(endpoint_url=ENDPOINT)
    assert errors.sentence(timeout) == f'Read timeout on endpoint URL: "{ENDPOINT}".'
    assert errors.sentence(ValueError("")) == "ValueError."


@given(text=bodies, closing=closings)
def test_an_error_that_is_no_aws_answer_is_told_by_its_own_text(text, closing):
    assert errors.sentence(PipeError(text + closing)) == f"{text.rstrip()}."


def test_a_question_or_an_exclamation_keeps_its_own_mark():
    assert errors.sentence(client_error("Odd", "Is the bucket empty?")) == "Odd: Is the bucket empty?"


# --- reading -------------------------------------------------------------------------------------------------------


@given(code=codes, message=bodies, status=st.integers(100, 599), attempts=st.integers(0, 9))
def test_code_message_status_and_retries_are_read_as_botocore_raises_them(code, message, status, attempts):
    error = client_error(code, message, status, RetryAttempts=attempts)
    assert (errors.code(error), errors.message(error), errors.status(error)) == (
        code,
        message.strip(),
        status,
    )
    assert errors.retried(error) is (attempts > 0)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("x"),
        PipeError("x"),
        EndpointConnectionError(endpoint_url=ENDPOINT),
        client_error(None, None, None),
    ],
)
def test_what_is_not_an_aws_answer_has_no_code_or_status(error):
    assert errors.code(error) == "" and errors.message(error) == "" and errors.status(error) is None
    assert errors.retried(error) is False


def test_a_name_is_the_code_else_the_status_else_the_exception_type():
    assert errors.name(client_error("Throttling", "x", 400)) == "Throttling"
    assert errors.name(client_error("", "", 503)) == "HTTP 503"
    assert errors.name(EndpointConnectionError(endpoint_url=ENDPOINT)) == "EndpointConnectionError"
    assert errors.name(PipeError("told already")) == "told already"
    assert errors.name_in_answer(502, None) == "HTTP 502"
    assert errors.name_in_answer(400, {"Error": {"Code": "SlowDown"}}) == "SlowDown"


# --- the classes -----------------------------------------------------------------------------------------------------


@given(code=st.sampled_from(sorted(errors.ACCESS_DENIED)), status=st.sampled_from([400, 401, 403]))
def test_every_access_denied_code_is_access_denied_and_nothing_else(code, status):
    error = client_error(code, "User is not authorized", status)
    assert errors.is_access_denied(error)
    assert not errors.is_not_found(error) and not errors.is_transient(error)


@pytest.mark.parametrize(
    "code", ["SignatureDoesNotMatch", "InvalidClientTokenId", "ExpiredToken", "RequestTimeTooSkewed"]
)
def test_a_403_that_no_permission_fixes_is_not_access_denied(code):
    assert not errors.is_access_denied(client_error(code, "x", 403))


@given(code=st.sampled_from(sorted(errors.NOT_FOUND)))
def test_every_not_found_code_is_not_found(code):
    error = client_error(code, "x", 400)
    assert errors.is_not_found(error) and not errors.is_access_denied(error)


def test_a_404_without_a_known_code_is_not_found():
    assert errors.is_not_found(client_error("SomethingNew", "x", 404))
    assert not errors.is_not_found(client_error("SomethingNew", "x", 400))


@given(code=st.sampled_from(sorted(errors.TRANSIENT)))
def test_every_transient_code_is_transient(code):
    assert errors.is_transient(client_error(code, "x", 400))


@given(code=codes, status=st.integers(400, 599))
def test_any_5xx_or_429_is_transient_and_other_4xx_only_by_code(code, status):
    error = client_error(code, "x", status)
    assert errors.is_transient(error) is (code in errors.TRANSIENT or status >= 500 or status == 429)


def test_the_classes_do_not_overlap():
    assert not errors.ACCESS_DENIED & errors.NOT_FOUND
    assert not errors.ACCESS_DENIED & errors.TRANSIENT
    assert not errors.NOT_FOUND & errors.TRANSIENT


# --- as botocore really raises them ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3():
    with aws.MotoServer() as server:
        yield aws.client("s3", server.url)


def test_a_head_of_a_missing_key_is_not_found_with_the_status_as_its_code(s3):
    s3.create_bucket(Bucket="errors-head", CreateBucketConfiguration={"LocationConstraint": aws.REGION})
    with pytest.raises(ClientError) as caught:
        s3.head_object(Bucket="errors-head", Key="missing")
    assert errors.code(caught.value) == "404" and errors.status(caught.value) == 404
    assert errors.is_not_found(caught.value)
    assert errors.sentence(caught.value) == "404: Not Found."


def test_a_missing_bucket_is_not_found_with_its_message(s3):
    with pytest.raises(ClientError) as caught:
        s3.list_objects_v2(Bucket="errors-no-such-bucket")
    assert errors.code(caught.value) == "NoSuchBucket" and errors.is_not_found(caught.value)
    assert errors.sentence(caught.value) == "NoSuchBucket: The specified bucket does not exist."
