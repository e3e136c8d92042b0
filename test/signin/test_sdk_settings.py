"""pipe.signin.sdk_settings: the SDK's own variables are checked up front, and a URL's password is never echoed."""

import os
import re
from contextlib import contextmanager
from pathlib import Path

import botocore
import certifi
import pytest
from hypothesis import given, settings
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


# --- every variable botocore reads, read as botocore reads it ------------------------------------------

BOTOCORE_DIR = Path(botocore.__file__).parent
# `environ.get('NAME'` / `environ['NAME'` in botocore's own modules: variables read outside the chain.
_ENVIRON_READ = re.compile(r"environ(?:\.get\(|\[)\s*['\"]([A-Z_][A-Z0-9_]*)['\"]")
# Names in botocore's source that are not read from a step's environment (a docstring's example).
NOT_VARIABLES = {"FOO"}


def test_the_canary_every_variable_of_botocores_chain_has_a_rule():
    """Fails when a botocore upgrade adds a variable to its configuration chain: give it a rule."""
    chain = sdk_settings.botocore_variables()
    assert len(chain) > 30  # the chain was found at all
    assert set(chain) - set(sdk_settings.RULES) == set()


def test_the_canary_every_variable_botocores_modules_read_has_a_rule():
    read = {
        name
        for source in BOTOCORE_DIR.rglob("*.py")
        if "vendored" not in source.parts
        for name in _ENVIRON_READ.findall(source.read_text(encoding="utf-8"))
    }
    assert {"AWS_EXECUTION_ENV", "BOTOCORE_EXPERIMENTAL__PLUGINS"} <= read  # the scan works
    assert read - NOT_VARIABLES - set(sdk_settings.RULES) == set()


def test_the_chains_booleans_and_numbers_have_the_matching_rules():
    for name, kind in sdk_settings.botocore_variables().items():
        rule = sdk_settings.RULES[name]
        if kind == "boolean":
            assert rule("TRUE") is True and rule("false") is False, name
        if kind == "integer":
            assert isinstance(rule("1"), int), name


@contextmanager
def environment(changes: dict[str, str]):
    """os.environ with `changes`, as botocore reads it (it reads os.environ, not a mapping)."""
    saved = dict(os.environ)
    try:
        for name in [n for n in os.environ if n in sdk_settings.RULES or n.startswith("AWS_")]:
            del os.environ[name]
        os.environ.update(changes)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _botocore_takes(env: dict[str, str]) -> None:
    """What botocore does with `env` before and while it connects, short of sending: make the
    client, pick the proxy, set up the proxy manager and the TLS settings."""
    import botocore.session

    with environment(env):
        session = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
        client = session.create_client(
            "sts", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x" * 20
        )
        http = client._endpoint.http_session
        url = client.meta.endpoint_url
        proxy = http._proxy_config.proxy_url_for(url)
        connection = http._get_connection_manager(url, proxy).connection_from_url(url)
        http._setup_ssl_cert(connection, url, http._verify)


VALID = {
    "boolean": ["true", "FALSE"],
    "integer": ["1", "3"],
}
SAMPLES = [
    "standard",
    "legacy",
    "regional",
    "auto",
    "when_required",
    "preferred",
    "ipv4",
    "eu-west-1",
    "http://localhost:4566",
    "https://proxy.example.com:3128",
    "proxy.example.com:3128",
    "true",
    "3",
]
hostile = st.one_of(
    st.sampled_from(SAMPLES),
    st.sampled_from(SAMPLES).map(lambda v: " " + v),
    st.sampled_from(SAMPLES).map(lambda v: v + "\t"),
    st.sampled_from(SAMPLES).map(lambda v: v[:2] + "\t" + v[2:]),
    st.sampled_from(SAMPLES).map(lambda v: v + "\udcff"),
    st.sampled_from(SAMPLES).map(lambda v: v.upper()),
    st.sampled_from(
        [
            "maybe",
            "abc",
            "0",
            "-1",
            "99999999999",
            "1e3",
            "http://",
            "http://h:port",
            "http://[::1",
            "ftp://x",
            "//h",
            "h:99999",
            "/no/such/file",
            "\u00a0true",
        ]
    ),
    st.text(max_size=12),
)
NAMES = sorted(
    set(sdk_settings.RULES) - {"AWS_CA_BUNDLE", "REQUESTS_CA_BUNDLE"}
    | {"AWS_ENDPOINT_URL_STS", "HTTPS_PROXY", "https_proxy"}
)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10)
@given(value=hostile.filter(lambda v: "\x00" not in v))
def test_a_value_the_pipe_takes_botocore_takes_too_and_the_others_are_one_line_naming_it(name, value):
    env = {name: value}
    sdk_settings.drop_empty(env)  # as main() does before anything reads the environment
    try:
        sdk_settings.check(env)
    except PipeError as refused:
        assert refused.message.startswith(name + " "), refused.message
        assert "\n" not in refused.message
        return
    _botocore_takes(env)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"AWS_RETRY_MODE": " standard"}, "AWS_RETRY_MODE must not start or end with spaces"),
        ({"AWS_DEFAULT_REGION": "eu-\twest-1"}, "AWS_DEFAULT_REGION must not start or end with spaces"),
        ({"AWS_REGION": " eu-west-1"}, "AWS_REGION must not start or end with spaces"),
        ({"AWS_MAX_ATTEMPTS": "abc"}, "AWS_MAX_ATTEMPTS must be a whole number"),
        ({"AWS_USE_FIPS_ENDPOINT": "maybe"}, "AWS_USE_FIPS_ENDPOINT must be true or false"),
        ({"HTTPS_PROXY": "http://h:port"}, "HTTPS_PROXY must be a proxy URL"),
        ({"AWS_CA_BUNDLE": "/no/such/bundle.pem"}, "AWS_CA_BUNDLE '/no/such/bundle.pem' cannot be read"),
        ({"AWS_ENDPOINT_URL_KINESIS": " http://x"}, "AWS_ENDPOINT_URL_KINESIS must not start or end"),
        ({"AWS_ENDPOINT_URL_KINESIS": "ftp://x"}, "AWS_ENDPOINT_URL_KINESIS must be an http"),
        ({"BOTOCORE_EXPERIMENTAL__PLUGINS": "x=os"}, "BOTOCORE_EXPERIMENTAL__PLUGINS must not be set"),
    ],
)
def test_named_examples(env, expected):
    with pytest.raises(PipeError) as refused:
        sdk_settings.check(env)
    assert refused.value.message.startswith(expected), refused.value.message


def test_a_ca_bundle_that_is_not_pem_or_not_a_file_is_one_line(tmp_path):
    (tmp_path / "junk.pem").write_text("not a certificate\n")
    os.mkfifo(tmp_path / "fifo.pem")
    for path, expected in [
        ("junk.pem", "holds no PEM CA certificates"),
        ("fifo.pem", "is not a regular file"),
    ]:
        with pytest.raises(PipeError, match=expected):
            sdk_settings.check({"AWS_CA_BUNDLE": str(tmp_path / path)})
    sdk_settings.check({"AWS_CA_BUNDLE": certifi.where()})


def test_a_proxy_password_is_not_echoed():
    with pytest.raises(PipeError) as refused:
        sdk_settings.check({"HTTPS_PROXY": "http://user:S3cret-Pass@host:port"})
    assert "S3cret" not in refused.value.message


def test_an_empty_sdk_variable_is_unset_as_an_empty_pipe_variable_is():
    env = {"AWS_RETRY_MODE": "", "AWS_MAX_ATTEMPTS": "", "AWS_ENDPOINT_URL_S3": "", "COMMAND": ""}
    sdk_settings.drop_empty(env)
    assert env == {"COMMAND": ""}
