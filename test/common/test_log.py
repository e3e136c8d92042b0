"""pipe.common.log: what redact() masks and leaves alone, the filter on records, and the one handler setup() makes."""

import base64
import io
import logging
import sys
import warnings

import colorlog
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from pipe.common import line_safe, log
from pipe.common.line_safe import LineSafeFilter
from pipe.common.log import MASK, RedactingFilter, redact, register_secret
from test.support.tokens import make_token

# Unique per test file: registered secrets stay registered for the rest of the process.
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzLOGSECRET1"
SHORT = "s3cr3t!"  # 7 characters: below the registration threshold


# Each test registers them (registering again changes nothing): so every test exercises the
# registration, which is what `make mutate` needs to know which tests to run for it.
@pytest.fixture(autouse=True)
def registered():
    register_secret(SECRET)
    register_secret(SHORT)


# --- redact(): registered secrets ---------------------------------------------------------------------------


def test_a_registered_secret_is_masked_wherever_it_appears():
    assert redact(f"key is {SECRET}, again:{SECRET}.") == f"key is {MASK}, again:{MASK}."


@pytest.mark.parametrize(
    "encode",
    [base64.b64encode, base64.urlsafe_b64encode],
    ids=["standard", "urlsafe"],
)
def test_the_base64_forms_of_a_registered_secret_are_masked_padded_or_not(encode):
    encoded = encode(SECRET.encode()).decode()
    assert "=" in encoded  # so that the unpadded form below really differs
    assert redact(f"Authorization: Basic {encoded}") == f"Authorization: Basic {MASK}="
    assert redact(f"blob {encoded.rstrip('=')} end") == f"blob {MASK} end"


def test_standard_and_urlsafe_base64_of_a_secret_differ_and_both_are_masked():
    secret = "??>>??>>secret-with-plus-and-slash-in-base64"
    register_secret(secret)
    standard = base64.b64encode(secret.encode()).decode().rstrip("=")
    urlsafe = base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")
    assert standard != urlsafe
    assert redact(f"{standard} {urlsafe}") == f"{MASK} {MASK}"


@pytest.mark.parametrize(
    "before", [b"", b"u", b"us", b"user:", b"x" * 301], ids=lambda b: f"{len(b)}-bytes-before"
)
@pytest.mark.parametrize("after", [b"", b"!", b"\n  more: data\n"], ids=lambda b: f"{len(b)}-bytes-after")
@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode], ids=["standard", "urlsafe"])
def test_a_secret_inside_a_longer_base64_blob_masks_the_whole_blob(before, after, encode):
    blob = encode(before + SECRET.encode() + after).decode()
    masked = redact(f"Authorization: Basic {blob} (sent)")
    # The padding, if any, may stay: it says nothing about the blob.
    assert masked.replace("=", "") == f"Authorization: Basic {MASK} (sent)"


def test_a_secret_inside_a_base64_kubeconfig_blob_is_masked():
    config = f"users:\n- name: ci\n  user:\n    token: {SECRET}\n".encode()
    blob = base64.b64encode(config).decode()
    assert redact(f"config: {blob}\nnext line").replace("=", "") == f"config: {MASK}\nnext line"


def test_a_base64_blob_without_a_secret_is_left_alone():
    blob = base64.b64encode(b"user:not-a-registered-value-at-all" * 3).decode()
    assert redact(f"Basic {blob}") == f"Basic {blob}"


def test_masking_a_long_base64_body_does_not_backtrack():
    import threading

    body = base64.b64encode(bytes(range(256)) * 4000).decode()  # 1.3 MB without a secret
    results = []
    worker = threading.Thread(target=lambda: results.append(redact(body)), daemon=True)
    worker.start()
    # Linear masking takes milliseconds; a pattern that backtracked over the run would take hours.
    # The limit is a hang guard on a loaded machine, not a measurement.
    worker.join(timeout=60)
    assert results == [body]


def test_values_shorter_than_eight_characters_are_not_registered():
    assert redact(f"the word {SHORT} stays") == f"the word {SHORT} stays"


def test_empty_and_missing_values_are_ignored():
    register_secret("")
    register_secret(None)
    assert redact("nothing to hide") == "nothing to hide"


# --- redact(): shapes masked without registration ---------------------------------------------------------------


def test_any_jwt_shaped_string_is_masked():
    token = make_token()
    assert redact(f"token={token}") == f"token={MASK}"
    assert redact(f"Bearer {token} sent") == f"Bearer {MASK} sent"


def test_a_jwt_with_an_empty_signature_is_masked():
    assert redact("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0. tail") == f"{MASK} tail"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId>"
            "<SecretAccessKey>abc/def+ghi</SecretAccessKey></Credentials>",
            f"<Credentials><AccessKeyId>ASIAEXAMPLE</AccessKeyId><SecretAccessKey>{MASK}</SecretAccessKey></Credentials>",
            id="xml-secret-access-key",
        ),
        pytest.param(
            "<SessionToken>FwoGZXIvYXdzEJr//////////wEaDN+abc=</SessionToken>",
            f"<SessionToken>{MASK}</SessionToken>",
            id="xml-session-token",
        ),
        pytest.param(
            "{'RoleArn': 'arn:aws:iam::123456789012:role/deploy', 'WebIdentityToken': 'xyz.abc.def', 'X': 1}",
            f"{{'RoleArn': 'arn:aws:iam::123456789012:role/deploy', 'WebIdentityToken': '{MASK}', 'X': 1}}",
            id="params-dict",
        ),
        pytest.param(
            "host:sts.eu-west-1.amazonaws.com\nx-amz-security-token:IQoJb3JpZ2luX2VjEJr+abc/def=\nx-amz-date:20250101",
            f"host:sts.eu-west-1.amazonaws.com\nx-amz-security-token:{MASK}\nx-amz-date:20250101",
            id="canonical-request-line",
        ),
        pytest.param(
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Security-Token=IQoJ%2Fabc%3D"
            "&X-Amz-Signature=0123",
            "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
            f"&X-Amz-Security-Token={MASK}&X-Amz-Signature=0123",
            id="presigned-url",
        ),
        pytest.param(
            "{'User-Agent': b'Boto3/1.40', 'X-Amz-Security-Token': b'IQoJb3JpZ2luX2VjEJr', 'X-Amz-Date': b'2025'}",
            f"{{'User-Agent': b'Boto3/1.40', 'X-Amz-Security-Token': b'{MASK}', 'X-Amz-Date': b'2025'}}",
            id="header-dict-bytes",
        ),
        pytest.param(
            "aws_secret_access_key = abcdEFGH1234\naws_session_token=zyxw9876",
            f"aws_secret_access_key = {MASK}\naws_session_token={MASK}",
            id="ini-file",
        ),
        pytest.param(
            "BITBUCKET_STEP_OIDC_TOKEN=not-even-a-jwt",
            f"BITBUCKET_STEP_OIDC_TOKEN={MASK}",
            id="env-assignment",
        ),
    ],
)
def test_values_of_secret_fields_in_botocore_text_are_masked(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "arn:aws:iam::123456789012:role/deploy",
        "arn:aws:sts::123456789012:assumed-role/deploy/bitbucket-my-repo-42",
        "Signed in to AWS account 123456789012 in eu-west-1.",
        "us-gov-west-1 cn-north-1 ap-southeast-2",
        "AKIAIOSFODNN7EXAMPLE",
        "The SessionToken expired; AWS_SESSION_TOKEN is required with AWS_ACCESS_KEY_ID.",
        "BITBUCKET_STEP_OIDC_TOKEN is not set: add `oidc: true` to this step.",
        "ok, yes, no, true, a, an, the",
        "eyJ alone is not a token",
        "",
    ],
)
def test_ordinary_text_is_left_untouched(text):
    assert redact(text) == text


# --- RedactingFilter ------------------------------------------------------------------------------------------


def _record(msg, args=(), exc_info=None, name="botocore.endpoint") -> logging.LogRecord:
    return logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args, exc_info)


def test_the_filter_masks_a_record_built_from_arguments():
    record = _record("Response body: %s (%d bytes)", (f"<SessionToken>{SECRET}</SessionToken>", 40))
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == f"Response body: <SessionToken>{MASK}</SessionToken> (40 bytes)"
    assert record.args is None


def test_the_filter_masks_the_traceback_and_clears_exc_info():
    try:
        raise RuntimeError(f"request failed with token {SECRET}")
    except RuntimeError:
        exc_info = sys.exc_info()
    record = _record("Unexpected error", exc_info=exc_info, name=log.LOGGER_NAME)
    RedactingFilter().filter(record)
    assert record.exc_info is None
    assert record.exc_text is None
    message = record.getMessage()
    assert message.startswith("Unexpected error\nTraceback (most recent call last):")
    assert message.endswith(f"RuntimeError: request failed with token {MASK}")
    assert SECRET not in message
    # Nothing is left for a formatter to append unfiltered.
    assert logging.Formatter().format(record) == message


def test_a_librarys_error_is_its_chain_of_causes_one_line_each_not_a_traceback():
    """botocore logs each failed attempt with its traceback at DEBUG before it retries: the pipe shows
    the error and its causes, so that no DEBUG run prints a traceback for an error that was handled."""
    try:
        try:
            raise ConnectionRefusedError(f"refused, token {SECRET}")
        except ConnectionRefusedError as refused:
            raise RuntimeError("Failed to connect to proxy URL\n✔ Deployed") from refused
    except RuntimeError:
        exc_info = sys.exc_info()
    record = _record("Exception received when sending HTTP request.", exc_info=exc_info)
    RedactingFilter().filter(record)
    assert record.exc_info is None
    assert record.getMessage() == (
        "Exception received when sending HTTP request.\n"
        "  RuntimeError: Failed to connect to proxy URL\\n✔ Deployed\n"
        f"  caused by ConnectionRefusedError: refused, token {MASK}"
    )


def test_the_filter_masks_cached_exception_text_and_stack_info():
    record = _record("failed")
    record.exc_text = f"Traceback ...\nValueError: {SECRET}"
    record.stack_info = f"Stack (most recent call last):\n  x = '{SECRET}'"
    RedactingFilter().filter(record)
    assert (
        record.getMessage()
        == f"failed\nTraceback ...\nValueError: {MASK}\nStack (most recent call last):\n  x = '{MASK}'"
    )
    assert record.exc_text is None and record.stack_info is None


def test_a_record_whose_format_fails_is_still_written_masked():
    record = _record("value %d", (SECRET,))
    RedactingFilter().filter(record)
    assert record.getMessage() == f"'value %d' ('{MASK}',)"


# --- setup() ----------------------------------------------------------------------------------------------------

_TOUCHED_LOGGERS = (log.LOGGER_NAME, *log._LIBRARY_LOGGERS, *log._QUIET_LOGGERS)


@pytest.fixture
def logging_state():
    """Puts back every logger setup() changes, and its handler, so no other test sees them."""
    root = logging.getLogger()
    saved_root = (list(root.handlers), root.level)
    saved = {}
    for name in _TOUCHED_LOGGERS:
        named = logging.getLogger(name)
        saved[name] = (list(named.handlers), named.level, named.propagate)
    saved_handler = log._handler
    capturing_warnings = logging._warnings_showwarning is not None
    yield
    root.handlers[:] = saved_root[0]
    root.setLevel(saved_root[1])
    for name, (handlers, level, propagate) in saved.items():
        named = logging.getLogger(name)
        named.handlers[:] = handlers
        named.setLevel(level)
        named.propagate = propagate
    log._handler = saved_handler
    logging.captureWarnings(capturing_warnings)


def _fresh_setup(stream: io.StringIO, debug: bool = False) -> None:
    log._handler = None
    log.setup(debug=debug)
    log._handler.setStream(stream)


@pytest.fixture
def output(logging_state, monkeypatch):
    """setup() run afresh, without colours, its one handler writing to a string instead of stderr."""
    monkeypatch.setenv("NO_COLOR", "1")
    stream = io.StringIO()
    _fresh_setup(stream)
    return stream


def test_setup_leaves_the_root_logger_with_only_the_redacting_handler(logging_state):
    root = logging.getLogger()
    # A library may give the root logger an unfiltered handler (bitbucket-pipes-toolkit did on import).
    foreign_handler = logging.StreamHandler()
    root.addHandler(foreign_handler)

    log.setup(debug=False)

    assert foreign_handler not in root.handlers
    assert root.handlers == [log._handler]
    assert [type(f) for f in log._handler.filters] == [LineSafeFilter, RedactingFilter]
    assert root.level == logging.WARNING


def test_setup_twice_keeps_one_handler_everywhere(output):
    log.setup(debug=True)
    log.setup(debug=False)
    assert logging.getLogger().handlers == [log._handler]
    for name in (log.LOGGER_NAME, *log._LIBRARY_LOGGERS):
        assert logging.getLogger(name).handlers == [log._handler]
        assert logging.getLogger(name).propagate is False


def test_botocore_debug_lines_are_written_masked_when_debug_is_on(output):
    log.setup(debug=True)
    logging.getLogger("botocore.endpoint").debug(
        "Response body:\n%s", f"<SecretAccessKey>x</SecretAccessKey> {SECRET}"
    )
    assert output.getvalue() == f"DEBUG: Response body:\n<SecretAccessKey>{MASK}</SecretAccessKey> {MASK}\n"


def test_botocore_debug_lines_are_dropped_when_debug_is_off(output):
    logging.getLogger("botocore.endpoint").debug("Response body: %s", "anything")
    logging.getLogger("urllib3.connectionpool").info("Starting new HTTPS connection")
    assert output.getvalue() == ""


def test_the_pipe_logger_writes_info_masked_and_debug_only_when_asked(output):
    log.logger.info("token %s", SECRET)
    log.logger.debug("hidden")
    log.setup(debug=True)
    log.logger.debug("shown %s", SECRET)
    assert output.getvalue() == f"INFO: token {MASK}\nDEBUG: shown {MASK}\n"


def test_a_root_logger_warning_goes_through_the_filter(output):
    logging.getLogger("some.other.library").warning("leaked %s?", SECRET)
    assert output.getvalue() == f"WARNING: leaked {MASK}?\n"


def test_python_warnings_are_logged_through_the_filter(output):
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"deprecated option with {SECRET}", UserWarning, stacklevel=1)
    assert f"UserWarning: deprecated option with {MASK}" in output.getvalue()
    assert SECRET not in output.getvalue()


def test_output_is_coloured_in_a_bitbucket_build_unless_no_color_is_set(logging_state, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("BITBUCKET_BUILD_NUMBER", "42")
    coloured = io.StringIO()
    _fresh_setup(coloured)
    log.logger.info("hello")
    monkeypatch.setenv("NO_COLOR", "")
    plain = io.StringIO()
    _fresh_setup(plain)
    log.logger.info("hello")
    assert coloured.getvalue() == "\x1b[34mINFO: hello\x1b[0m\n"
    assert plain.getvalue() == "INFO: hello\n"


def test_colorlog_paints_the_lines_on_a_stream_that_is_not_a_terminal(logging_state, monkeypatch):
    """Bitbucket's log is no TTY: colorlog would leave colour out there; the pipe's decision stands."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("BITBUCKET_BUILD_NUMBER", "42")
    stream = io.StringIO()
    assert not stream.isatty()
    _fresh_setup(stream)
    log.logger.warning("careful")
    assert stream.getvalue() == "\x1b[33mWARNING: careful\x1b[0m\n"
    assert {type(made) for made in log._handler.formatter._coloured.values()} == {colorlog.ColoredFormatter}


@pytest.mark.parametrize("force_color", ["1", ""])
def test_no_color_wins_over_force_color(logging_state, monkeypatch, force_color):
    """colorlog lets FORCE_COLOR beat NO_COLOR; the pipe does not."""
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("FORCE_COLOR", force_color)
    monkeypatch.setenv("BITBUCKET_BUILD_NUMBER", "42")
    stream = io.StringIO()
    _fresh_setup(stream)
    log.logger.error("plain")
    log.logger.info("plain too", extra={log.COLOUR: "green"})
    assert stream.getvalue() == "ERROR: plain\nINFO: plain too\n"


def test_a_line_can_take_its_own_colour_instead_of_its_levels():
    formatter = log.LevelFormatter(colour=True)
    record = logging.LogRecord(log.LOGGER_NAME, logging.INFO, __file__, 1, "  added index.html", None, None)
    record.colour = "green"
    assert formatter.format(record) == "\x1b[32mINFO:   added index.html\x1b[0m"
    record.colour = None
    assert formatter.format(record) == "\x1b[34mINFO:   added index.html\x1b[0m"


@pytest.mark.parametrize(
    ("level", "colour"),
    [
        (logging.DEBUG, "\x1b[37m"),
        (logging.INFO, "\x1b[34m"),
        (logging.WARNING, "\x1b[33m"),
        (logging.ERROR, "\x1b[31m"),
        (logging.CRITICAL, "\x1b[31m"),
    ],
)
def test_each_level_keeps_the_colour_colorlog_gave_it(level, colour):
    record = logging.LogRecord(log.LOGGER_NAME, level, __file__, 1, "line one\nline two", None, None)
    name = logging.getLevelName(level)
    assert log.LevelFormatter(colour=True).format(record) == f"{colour}{name}: line one\nline two\x1b[0m"
    assert log.LevelFormatter(colour=False).format(record) == f"{name}: line one\nline two"


def test_emit_prints_a_document_redacted_on_stdout(capsys):
    log.emit("policy", f"secret: {SECRET}")
    assert capsys.readouterr().out == f"policy\nsecret: {MASK}\n"


def test_an_eks_bearer_token_is_masked():
    token = "k8s-aws-v1.aHR0cHM6Ly9zdHMuZXUtd2VzdC0xLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eQ"
    assert redact(f"Authorization: Bearer {token}") == f"Authorization: Bearer {MASK}"


# --- redact(): the user-info of URLs -------------------------------------------------------------------------

_PERCENT_ESCAPE = st.from_regex(r"%[0-9A-Fa-f]{2}", fullmatch=True)
# What a user-info may hold as users write it: RFC 3986's characters, escapes (`%40` is an `@`, `%2F`
# a `/`), a raw `@` (which clients take up to the last one), escapes as the log shows control
# characters, and any non-ASCII character. Not ASCII white space, `/`, `?` or `#`: they end the
# authority, so what comes before them is no user-info of the URL.
_USER_INFO_CHARACTER = st.one_of(
    st.sampled_from("abcXYZ019-._~!$&'()*+,;=@:\\"),
    _PERCENT_ESCAPE,
    st.just("%40"),
    st.characters(min_codepoint=0x80, max_codepoint=0x10FFFF, exclude_categories=("Cs",)),
    st.characters(min_codepoint=0x00, max_codepoint=0x1F).filter(lambda c: c not in " \t\n\r\f\v"),
)
_SCHEME = st.from_regex(r"[a-z][a-z0-9+.\-]{0,8}", fullmatch=True)
_HOST = st.from_regex(r"[a-z0-9][a-z0-9.\-]{0,15}(:[0-9]{1,5})?", fullmatch=True)
# A path or query may hold an `@` (`/@scope/pkg`, `?mail=a@b`): that is not user-info.
_PATH = st.one_of(st.just(""), st.text(alphabet="abc/@?=&#%.~-_", max_size=12).map(lambda path: "/" + path))
# Text around the URLs, separated from them by a space: anything but another URL.
_FILLER = st.text(max_size=30).filter(lambda text: "://" not in text and ":\\/" not in text)


def _url(scheme: str, user_info: str | None, host: str, path: str) -> str:
    return f"{scheme}://{user_info + '@' if user_info is not None else ''}{host}{path}"


@st.composite
def _texts_with_user_info(draw) -> tuple[str, str, str]:
    """(text, what redact must make of it, the password), a URL with user-info among other text."""
    user = "".join(draw(st.lists(_USER_INFO_CHARACTER, max_size=8)))
    password = "".join(draw(st.lists(_USER_INFO_CHARACTER, min_size=1, max_size=24)))
    scheme, host, path = draw(_SCHEME), draw(_HOST), draw(_PATH)
    before, after = draw(_FILLER), draw(_FILLER)
    text = f"{before} {_url(scheme, f'{user}:{password}', host, path)} {after}"
    return text, f"{before} {scheme}://{MASK}@{host}{path} {after}", password


@given(_texts_with_user_info())
def test_the_user_info_of_a_url_is_masked_in_any_text(case):
    text, expected, _password = case
    assert redact(text) == expected


@given(_texts_with_user_info(), st.sampled_from(["/", "\\/"]))
def test_the_user_info_of_a_url_is_masked_inside_json_too(case, slash):
    text, expected, _password = case
    json_text, json_expected = (
        text.replace("://", f":{slash}{slash}", 1),
        expected.replace("://", f":{slash}{slash}", 1),
    )
    assume(json_text.count(":\\/") <= 1)
    assert redact(json_text) == json_expected


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])  # capsys is emptied per example
@given(case=_texts_with_user_info())
def test_no_output_path_prints_the_user_info_of_a_url(case, capsys):
    """The log handler's filters, a document (emit) and the final line all print the URL masked."""
    text, expected, _password = case
    shown = line_safe.escape(expected)
    record = logging.LogRecord("aws-oidc-deploy", logging.INFO, __file__, 1, "Using %s", (text,), None)
    LineSafeFilter().filter(record)
    RedactingFilter().filter(record)
    assert record.msg == f"Using {shown}"
    capsys.readouterr()
    log.emit(text)
    assert capsys.readouterr().out == shown + "\n"
    assert log.final_line(text) == shown


@given(
    st.lists(st.tuples(_FILLER, _SCHEME, _HOST, _PATH), min_size=1, max_size=4),
)
def test_text_without_user_info_is_unchanged(pieces):
    text = " ".join(f"{filler} {_url(scheme, None, host, path)}" for filler, scheme, host, path in pieces)
    assume("eyJ" not in text and "k8s-aws-v1." not in text)
    assert redact(text) == text


@given(
    st.text(alphabet="abcXYZ019-._~!$&'()*+,;=@:/?# %é€", min_size=8, max_size=24),
    st.sampled_from(["HTTPS_PROXY", "http_proxy", "ALL_PROXY", "PIP_INDEX_URL"]),
    st.booleans(),
)
def test_a_password_in_a_url_the_environment_holds_is_masked_without_its_url(password, name, with_scheme):
    """A proxy's password reaches output without its URL too: decoded in an error message, or in a
    Proxy-Authorization header's base64."""
    from urllib.parse import quote

    assume(password.strip() == password and len(password.strip(":")) >= 8)
    url = f"{'http://' if with_scheme or not name.upper().endswith('_PROXY') else ''}deploy:{quote(password, safe='')}@proxy:3128/"
    header = base64.b64encode(f"deploy:{password}".encode()).decode()
    # Each example's secrets are forgotten after it: hundreds registered would slow every later test.
    registered = log._table
    try:
        log.register_url_passwords({name: url, "PATH": "/usr/bin"})
        shown = redact(f"password {password} and header Basic {header} and {quote(password, safe='')}")
    finally:
        log._table = registered
    assert password not in shown and header not in shown and quote(password, safe="") not in shown


@given(
    st.text(alphabet="abcXYZ019-._~!$&'()*+,;=:/?", min_size=4, max_size=12),
    st.text(alphabet="abcXYZ019-._~", min_size=4, max_size=12),
)
def test_a_url_password_written_with_a_raw_slash_or_question_mark_is_masked(head, tail):
    """`http://user:pa/ss@host`: a URL parser ends the authority at the '/', but the person who wrote
    it meant a password; both readings are masked."""
    password = f"{head}/{tail}"
    assume(password.strip() == password and "@" not in password)
    registered = log._table
    try:
        log.register_url_passwords({"LOCAL_PATH": f"http://user:{password}@example.com/site"})
        shown = redact(f"LOCAL_PATH 'http://user:{password}@example.com/site' does not exist; {password}")
    finally:
        log._table = registered
    assert password not in shown
