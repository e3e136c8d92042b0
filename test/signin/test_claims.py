"""pipe.signin.claims: decoding a token's claims, the expiry preflight, and the claims as messages show them."""

import base64
import json
import re

import pytest

from pipe.common.errors import PipeError
from pipe.signin.claims import Claims, check_expiry, decode, describe_remaining, format_time
from test.support import tokens
from test.support.tokens import claims as sample_claims
from test.support.tokens import make_token, sign

SOURCE = "BITBUCKET_STEP_OIDC_TOKEN"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


HEADER = _b64(b'{"alg":"RS256"}')


def _token_with_payload(payload: str) -> str:
    return f"{HEADER}.{payload}.c2lnbmF0dXJl"


# --- decode -------------------------------------------------------------------------------------------------------


def test_a_good_token_decodes_to_its_claims():
    values = sample_claims()
    decoded = decode(sign(values), SOURCE)
    assert decoded.values == values
    assert decoded.issuer == tokens.ISSUER
    assert decoded.audience == tokens.AUDIENCE
    assert decoded.subject == values["sub"]
    assert decoded.expires_at == float(values["exp"])


@pytest.mark.parametrize("padding", [1, 2])
def test_a_payload_needing_base64_padding_decodes_without_it(padding):
    # Pick a branch name that makes the payload's base64url length leave `padding` '=' off.
    for length in range(1, 10):
        values = sample_claims(branch="b" * length)
        payload = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
        if payload.count("=") == padding:
            break
    else:
        raise AssertionError(f"no branch name gives a payload needing {padding} '='")
    token = sign(values)
    assert "=" not in token
    assert decode(token, SOURCE).values == values


def test_surrounding_whitespace_is_ignored():
    values = sample_claims()
    assert decode(f"\n  {sign(values)}  \n", SOURCE).values == values


def test_a_list_valued_audience_gives_its_first_member():
    decoded = decode(make_token(aud=["sts.amazonaws.com", "other"]), SOURCE)
    assert decoded.audience == "sts.amazonaws.com"
    assert decoded.values["aud"] == ["sts.amazonaws.com", "other"]


NOT_A_JWT = f"{SOURCE} is not an OIDC token (a JWT has three dot-separated parts)."
NOT_BASE64_JSON = f"{SOURCE} is not an OIDC token: its claims are not base64url-encoded JSON."
NOT_AN_OBJECT = f"{SOURCE} is not an OIDC token: its claims are not a JSON object."


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0", NOT_A_JWT, id="two-parts"),
        pytest.param("a.b.c.d", NOT_A_JWT, id="four-parts"),
        pytest.param("not-a-token-at-all", NOT_A_JWT, id="one-part"),
        pytest.param("", NOT_A_JWT, id="empty"),
        pytest.param(".eyJzdWIiOiJ4In0.sig", NOT_A_JWT, id="empty-header"),
        pytest.param("eyJhbGciOiJSUzI1NiJ9..sig", NOT_A_JWT, id="empty-payload"),
        pytest.param(_token_with_payload("***"), NOT_BASE64_JSON, id="not-base64"),
        pytest.param(_token_with_payload("a"), NOT_BASE64_JSON, id="impossible-length"),
        pytest.param(_token_with_payload("é"), NOT_BASE64_JSON, id="non-ascii"),
        pytest.param(_token_with_payload(_b64(b"not json")), NOT_BASE64_JSON, id="not-json"),
        pytest.param(_token_with_payload(_b64(b"\xff\xfe{}")), NOT_BASE64_JSON, id="not-utf8"),
        pytest.param(_token_with_payload(_b64(b'["sub"]')), NOT_AN_OBJECT, id="json-list"),
        pytest.param(_token_with_payload(_b64(b'"sub"')), NOT_AN_OBJECT, id="json-string"),
        pytest.param(_token_with_payload(_b64(b"null")), NOT_AN_OBJECT, id="json-null"),
    ],
)
def test_a_malformed_token_is_one_clear_error_that_does_not_contain_it(token, expected):
    with pytest.raises(PipeError) as caught:
        decode(token, SOURCE)
    message = caught.value.message
    assert message.startswith(expected)
    for part in [token, *token.split(".")]:
        assert len(part) < 5 or part not in message
    # No chained exception (and its text) is shown with it.
    assert caught.value.__cause__ is None
    assert caught.value.__context__ is None or caught.value.__suppress_context__


# --- check_expiry -------------------------------------------------------------------------------------------------


def test_a_live_token_passes():
    check_expiry(Claims({"exp": 2_000}), SOURCE, now=1_999)


def test_an_expired_token_says_when_and_how_long_ago():
    with pytest.raises(PipeError) as caught:
        check_expiry(Claims({"exp": 1_000}), SOURCE, now=1_125)
    assert caught.value.message == (
        f"{SOURCE} expired at 1970-01-01 00:16:40 UTC (2 min 5 s ago). Bitbucket issues a new token each "
        "time a step runs: re-run the step instead of reusing a token."
    )


def test_a_token_expiring_this_very_second_is_expired():
    with pytest.raises(PipeError, match="expired at"):
        check_expiry(Claims({"exp": 1_000}), SOURCE, now=1_000)


@pytest.mark.parametrize("exp", [None, True, False, "9999999999", [9999999999]], ids=repr)
def test_a_token_without_a_numeric_expiry_is_refused_as_missing(exp):
    values = {} if exp is None else {"exp": exp}
    with pytest.raises(PipeError) as caught:
        check_expiry(Claims(values), SOURCE, now=0)
    assert (
        caught.value.message
        == f"{SOURCE} has no valid expiry (exp claim); STS accepts only tokens that expire."
    )


def test_a_fractional_expiry_is_kept():
    assert Claims({"exp": 1_000.5}).expires_at == 1_000.5


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (0, "0 s ago"),
        (59, "in 59 s"),
        (60, "in 1 min 0 s"),
        (3599, "in 59 min 59 s"),
        (-5, "5 s ago"),
        (-61, "1 min 1 s ago"),
    ],
)
def test_describe_remaining_says_in_or_ago_with_minutes_and_seconds(seconds, expected):
    assert describe_remaining(10_000 + seconds, now=10_000) == expected


def test_format_time_is_utc():
    assert format_time(0) == "1970-01-01 00:00:00 UTC"


# --- names derived from claims --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        (
            "https://api.bitbucket.org/2.0/workspaces/w/pipelines-config/identity/oidc",
            "api.bitbucket.org/2.0/workspaces/w/pipelines-config/identity/oidc",
        ),
        ("https://token.actions.githubusercontent.com/", "token.actions.githubusercontent.com"),
        ("http://localhost:8080//", "localhost:8080"),
        ("oidc.example.com", "oidc.example.com"),
        ("", ""),
    ],
)
def test_provider_path_strips_the_scheme_and_trailing_slashes(issuer, expected):
    assert Claims({"iss": issuer}).provider_path == expected


def test_get_gives_text_and_empty_for_missing():
    decoded = Claims({"a": 1, "b": None})
    assert (decoded.get("a"), decoded.get("b"), decoded.get("c")) == ("1", "", "")


def test_summary_lists_the_logged_claims_in_order_and_nothing_else():
    values = sample_claims(expires_in=600)
    # Insertion order reversed, to show the summary keeps its own order.
    decoded = Claims(dict(reversed(list(values.items()))))
    summary = decoded.summary()
    expected_start = (
        f"iss={tokens.ISSUER}, aud={tokens.AUDIENCE}, sub={values['sub']}, repositoryUuid={tokens.REPOSITORY_UUID}, "
        f"branchName=main, deploymentEnvironmentUuid={tokens.ENVIRONMENT_UUID}, exp={format_time(values['exp'])} "
    )
    assert summary.startswith(expected_start)
    assert re.fullmatch(r"\((in 10 min 0 s|in 9 min 5\d s)\)", summary[len(expected_start) :])
    for name in ("stepUuid", "pipelineUuid", "workspaceUuid", "iat"):
        assert f"{name}=" not in summary


def test_summary_skips_absent_claims_and_shows_an_odd_exp_as_is():
    assert Claims({"sub": "x", "exp": "soon", "other": 1}).summary() == "sub=x, exp=soon"


@pytest.mark.parametrize("exp", [10**20, 1e20, float("inf"), float("nan"), -5, 0, True])
def test_an_exp_that_is_not_a_usable_time_is_refused_without_crashing(exp):
    token_claims = Claims({"exp": exp})
    assert token_claims.expires_at is None
    assert "exp=" in token_claims.summary()
    with pytest.raises(PipeError, match="has no valid expiry"):
        check_expiry(token_claims, "TOKEN", now=1_000)


def test_a_token_expiring_this_second_reads_as_expired_not_in_zero_seconds():
    with pytest.raises(PipeError) as raised:
        check_expiry(Claims({"exp": 1_000}), "TOKEN", now=1_000)
    assert "(0 s ago)" in raised.value.message


def test_an_empty_audience_list_is_empty():
    assert Claims({"aud": []}).audience == ""
