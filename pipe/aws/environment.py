"""The environment of a child process that must not find AWS credentials of its own (an installer,
a build), and the base the sign-in adds its credentials to."""

from collections.abc import Mapping

# Removed so that no SDK in a child prefers another source over the pipe's.
CREDENTIAL_SOURCES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "BITBUCKET_STEP_OIDC_TOKEN",
)
# Credentials themselves, from the step's own variables (AWS_SECURITY_TOKEN: botocore's old name).
CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def without_credentials(base: Mapping[str, str]) -> dict[str, str]:
    """`base` with no AWS credential, credential source or OIDC token left in it."""
    return {name: value for name, value in base.items() if name not in (*CREDENTIAL_SOURCES, *CREDENTIALS)}
