"""pipe.signin.sdk_settings: the SDK's own variables are checked up front, and a URL's password is never echoed."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipe.common.errors import PipeError
from pipe.common.variables import read_all
from pipe.signin import sdk_settings

password = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=8, max_size=30)
host = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)


@given(
    user=st.text(alphabet="abcxyz", max_size=8),
    secret=password,
    where=host,
    scheme=st.sampled_from(["http", "https"]),
)
def test_a_url_with_user_info_is_refused_without_echoing_it(user, secret, where, scheme):
    url = f"{scheme}://{user}:{secret}@{where}:4566"
    with pytest.raises(PipeError) as raised:
        read_all(sdk_settings.VARIABLES, {"AWS_ENDPOINT_URL": url})
    assert raised.value.message.startswith("AWS_ENDPOINT_URL must not hold a user name or password")
    assert secret not in raised.value.message


@given(where=host, port=st.integers(min_value=1, max_value=65535), scheme=st.sampled_from(["http", "https"]))
def test_an_http_url_with_a_host_is_taken_as_it_is(where, port, scheme):
    url = f"{scheme}://{where}:{port}"
    assert read_all(sdk_settings.VARIABLES, {"AWS_ENDPOINT_URL_STS": url})["AWS_ENDPOINT_URL_STS"] == url


@pytest.mark.parametrize(
    "value", ["not a url", "localhost:4566", "ftp://x", "http://", "http://h:port", "http://[::1"]
)
def test_anything_else_is_one_line(value):
    with pytest.raises(PipeError, match="AWS_ENDPOINT_URL must be an http:// or https:// URL"):
        read_all(sdk_settings.VARIABLES, {"AWS_ENDPOINT_URL": value})
