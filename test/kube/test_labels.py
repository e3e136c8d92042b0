import pytest

from pipe.kube import labels


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("{0d3b9a44-6e58-4a3c-8a83-2b8f6e0d7c21}", "0d3b9a44-6e58-4a3c-8a83-2b8f6e0d7c21"),
        ("feature/login page", "feature-login-page"),
        ("x" * 80, "x" * 63),
        ("a" * 62 + "-b", "a" * 62),
        ("--", ""),
        ("Prod.EU_1", "Prod.EU_1"),
        ("ünïcode", "n-code"),
    ],
)
def test_clean_value_obeys_the_label_value_rules(raw, cleaned):
    assert labels.clean_value(raw) == cleaned
    assert labels.parse(f"k={cleaned}") == ("k", cleaned)


def test_defaults_are_atlassians_keys_with_cleaned_values():
    env = {
        "BITBUCKET_COMMIT": "4f2c1a9",
        "BITBUCKET_REPO_SLUG": "my-repo",
        "BITBUCKET_REPO_OWNER": "team",
        "BITBUCKET_BUILD_NUMBER": "42",
        "BITBUCKET_DEPLOYMENT_ENVIRONMENT": "production",
        "BITBUCKET_STEP_TRIGGERER_UUID": "{abc-123}",
    }
    assert labels.defaults(env) == {
        "bitbucket.org/bitbucket_commit": "4f2c1a9",
        "bitbucket.org/bitbucket_repo_slug": "my-repo",
        "bitbucket.org/bitbucket_repo_owner": "team",
        "bitbucket.org/bitbucket_build_number": "42",
        "bitbucket.org/bitbucket_deployment_environment": "production",
        "bitbucket.org/bitbucket_step_triggerer_uuid": "abc-123",
    }


def test_defaults_leave_out_what_the_step_does_not_have():
    assert labels.defaults({"BITBUCKET_BUILD_NUMBER": "7"}) == {"bitbucket.org/bitbucket_build_number": "7"}


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("team=payments", ("team", "payments")),
        ("example.com/tier=", ("example.com/tier", "")),
        (" a = b ", ("a", "b")),
    ],
)
def test_parse_accepts_valid_labels(item, expected):
    assert labels.parse(item) == expected


@pytest.mark.parametrize(
    ("item", "problem"),
    [
        ("team", "key=value"),
        ("=x", "label keys of at most 63"),
        ("Example.com/tier=x", "DNS subdomain"),
        ("/tier=x", "DNS subdomain"),
        ("team=has space", "label values"),
        ("team=" + "x" * 64, "label values"),
        ("-team=x", "label keys"),
    ],
)
def test_parse_refuses_invalid_labels(item, problem):
    with pytest.raises(ValueError, match=problem):
        labels.parse(item)


# --- properties (hypothesis; the profile in test/conftest.py makes them repeatable) ------------------

import re  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# Kubernetes' own rule for a label value (k8s.io/apimachinery validation.IsValidLabelValue).
K8S_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?")
K8S_QUALIFIED_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
K8S_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL_TEXT = st.text(alphabet=st.sampled_from(list("aZ09-_./ é{}:=\n")), max_size=90)


@given(raw=st.text(max_size=100) | _LABEL_TEXT)
def test_any_text_cleans_to_a_valid_label_value_and_cleaning_is_stable(raw):
    value = labels.clean_value(raw)
    assert len(value) <= 63 and K8S_LABEL_VALUE.fullmatch(value)
    assert labels.clean_value(value) == value


@given(raw=_LABEL_TEXT)
def test_a_valid_value_is_left_as_it_is(raw):
    if len(raw) <= 63 and K8S_LABEL_VALUE.fullmatch(raw):
        assert labels.clean_value(raw) == raw


@given(item=_LABEL_TEXT)
def test_parse_accepts_only_what_kubernetes_accepts(item):
    # A parse that refused everything would pass the rest: a known-good label must get through.
    assert labels.parse("example.com/team=payments") == ("example.com/team", "payments")
    try:
        key, value = labels.parse(item)
    except ValueError:
        return
    prefix, _, name = key.rpartition("/")
    assert K8S_QUALIFIED_NAME.fullmatch(name) and len(name) <= 63
    assert not prefix or (K8S_DNS_SUBDOMAIN.fullmatch(prefix) and len(prefix) <= 253)
    assert K8S_LABEL_VALUE.fullmatch(value) and len(value) <= 63
