"""pipe.aws.environment: a child's environment with no credential of the step's left in it."""

from hypothesis import given
from hypothesis import strategies as st

from pipe.aws.environment import CREDENTIAL_SOURCES, CREDENTIALS, without_credentials


def test_without_credentials_leaves_no_credential_source_or_token():
    env = {
        "PATH": "/bin",
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret-value",
        "AWS_SESSION_TOKEN": "secret-value",
        "BITBUCKET_STEP_OIDC_TOKEN": "eyJ.x.y",
        "AWS_PROFILE": "laptop",
        "AWS_REGION": "eu-west-1",
    }
    assert without_credentials(env) == {"PATH": "/bin", "AWS_REGION": "eu-west-1"}


@given(
    st.dictionaries(
        st.sampled_from((*CREDENTIAL_SOURCES, *CREDENTIALS, "PATH", "HOME", "AWS_REGION")), st.text()
    )
)
def test_only_credentials_and_their_sources_are_removed(env):
    kept = without_credentials(env)
    assert not set(kept) & {*CREDENTIAL_SOURCES, *CREDENTIALS}
    assert kept == {name: value for name, value in env.items() if name in ("PATH", "HOME", "AWS_REGION")}
