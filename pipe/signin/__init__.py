"""Sign-in: pick the credential source, check it before any AWS call, and get temporary credentials.

Sources, first match wins:
1. the step's OIDC token (BITBUCKET_STEP_OIDC_TOKEN) with AWS_OIDC_ROLE_ARN;
2. a token file (AWS_WEB_IDENTITY_TOKEN_FILE) with AWS_ROLE_ARN, as Kubernetes and other CI systems provide;
3. access keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN).
ROLE_ARN, when set, is assumed next with the session from any of them (role chaining).
"""

import re
import time
from collections.abc import Mapping
from typing import Any

from pipe.aws.clients import botocore_session, client_config
from pipe.common import bounded_read, log
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.common.variables import Variable, integer, matching
from pipe.signin import claims, retry, sdk_settings, session_name, sts_errors
from pipe.signin.arns import RoleArn, parse_role_arn, partition_of_region
from pipe.signin.identity import (
    SECRET_ENVIRONMENT,
    SIGN_IN_CONNECT_TIMEOUT_SECONDS,
    SIGN_IN_READ_TIMEOUT_SECONDS,
    Credentials,
    Identity,
    Token,
)

__all__ = [
    "SECRET_ENVIRONMENT",
    "VARIABLES",
    "Credentials",
    "Identity",
    "Token",
    "oidc_token",
    "region",
    "sign_in",
]

OIDC_ADVICE = (
    "BITBUCKET_STEP_OIDC_TOKEN is not set: add `oidc: true` to this step in bitbucket-pipelines.yml "
    "so that Bitbucket issues the step an OpenID Connect token."
)
DEFAULT_DURATION_SECONDS = 3600
# AWS caps a session made by role chaining at one hour, whatever the role allows.
CHAINED_SESSION_LIMIT_SECONDS = 3600
# The first session of a chain is used once, to assume ROLE_ARN; STS's minimum is enough for that.
CHAIN_FIRST_HOP_SECONDS = 900
SOURCE_OIDC = "OIDC token (BITBUCKET_STEP_OIDC_TOKEN)"
SOURCE_TOKEN_FILE = "token file (AWS_WEB_IDENTITY_TOKEN_FILE)"  # noqa: S105 (a label)
SOURCE_ACCESS_KEYS = "access keys (AWS_ACCESS_KEY_ID)"

# Regions of the partitions the pipe supports (aws, aws-cn, aws-us-gov).
_REGION = r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]{1,2}"

TOKEN = Variable("BITBUCKET_STEP_OIDC_TOKEN", secret=True)
VARIABLES = (
    Variable("AWS_OIDC_ROLE_ARN", parse=parse_role_arn),
    TOKEN,
    # As botocore reads them: a space around a region is part of it there, not stripped.
    Variable(
        "AWS_DEFAULT_REGION",
        parse=sdk_settings.as_read(matching(_REGION, "an AWS region name such as eu-west-1")),
    ),
    Variable(
        "AWS_REGION", parse=sdk_settings.as_read(matching(_REGION, "an AWS region name such as eu-west-1"))
    ),
    Variable("AWS_ROLE_SESSION_NAME", parse=session_name.validate),
    Variable(
        "AWS_ROLE_DURATION_SECONDS",
        parse=integer(900, 43200, "seconds"),
        default=DEFAULT_DURATION_SECONDS,
    ),
    Variable("ROLE_ARN", parse=parse_role_arn),
    Variable(
        "AWS_ALLOWED_ACCOUNT_IDS",
        is_list=True,
        parse=matching(r"\d{12}", "a list of 12-digit AWS account IDs"),
    ),
    Variable("AWS_WEB_IDENTITY_TOKEN_FILE"),
    Variable("AWS_ROLE_ARN", parse=parse_role_arn),
    Variable("AWS_ACCESS_KEY_ID", secret=True),
    Variable("AWS_SECRET_ACCESS_KEY", secret=True),
    Variable("AWS_SESSION_TOKEN", secret=True),
    *sdk_settings.VARIABLES,
)


def region(values: Mapping[str, Any]) -> str:
    chosen: str | None = values.get("AWS_DEFAULT_REGION") or values.get("AWS_REGION")
    if not chosen:
        raise PipeError("AWS_DEFAULT_REGION is required: set it to the region to work in, such as eu-west-1.")
    other = values.get("AWS_REGION")
    if values.get("AWS_DEFAULT_REGION") and other and other != chosen:
        logger.warning("AWS_DEFAULT_REGION (%s) and AWS_REGION (%s) differ; using %s.", chosen, other, chosen)
    return chosen


def oidc_token(values: Mapping[str, Any]) -> Token:
    """The step's OIDC token, decoded and checked before any AWS call."""
    raw = values.get("BITBUCKET_STEP_OIDC_TOKEN")
    if not raw:
        raise PipeError(OIDC_ADVICE)
    return _checked_token(raw, "BITBUCKET_STEP_OIDC_TOKEN")


def _checked_token(raw: str, source: str) -> Token:
    log.register_secret(raw)
    token_claims = claims.decode(raw, source)
    logger.info("OIDC token claims: %s", token_claims.summary())
    claims.check_expiry(token_claims, source)
    expires_at = token_claims.expires_at
    if expires_at is not None and expires_at - time.time() < claims.EXPIRY_WARNING_SECONDS:
        logger.warning("The OIDC token expires %s; sign-in may fail.", claims.describe_remaining(expires_at))
    return Token(raw.strip(), token_claims)


def _token_file(path: str) -> Token:
    try:
        raw = bounded_read.read_text(
            path, bounded_read.TOKEN_FILE_BYTES, f"AWS_WEB_IDENTITY_TOKEN_FILE {path!r}"
        )
    except OSError as error:
        raise PipeError(f"AWS_WEB_IDENTITY_TOKEN_FILE {path!r} cannot be read: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise PipeError(f"AWS_WEB_IDENTITY_TOKEN_FILE {path!r} does not hold a text token.") from None
    if not raw.strip():
        raise PipeError(f"AWS_WEB_IDENTITY_TOKEN_FILE {path!r} is empty.")
    return _checked_token(raw, "The token in AWS_WEB_IDENTITY_TOKEN_FILE")


def _session_name(values: Mapping[str, Any], env: Mapping[str, str]) -> str:
    return values.get("AWS_ROLE_SESSION_NAME") or session_name.default(
        env.get("BITBUCKET_REPO_SLUG"), env.get("BITBUCKET_BUILD_NUMBER")
    )


def _check_partition(role: RoleArn, region_name: str, variable: str) -> None:
    expected = partition_of_region(region_name)
    if role.partition != expected:
        raise PipeError(
            f"{variable} is in partition {role.partition} but region {region_name} is in {expected}: "
            "set AWS_DEFAULT_REGION to a region of the role's partition."
        )


def sign_in(values: Mapping[str, Any], env: Mapping[str, str]) -> Identity:
    """Everything that can be checked without AWS is checked first; then STS is called."""
    sdk_settings.check(env)
    region_name = region(values)
    name = _session_name(values, env)
    duration = values.get("AWS_ROLE_DURATION_SECONDS") or DEFAULT_DURATION_SECONDS
    chain_role: RoleArn | None = values.get("ROLE_ARN")
    if chain_role is not None:
        _check_partition(chain_role, region_name, "ROLE_ARN")

    oidc_role: RoleArn | None = values.get("AWS_OIDC_ROLE_ARN")
    file_role: RoleArn | None = values.get("AWS_ROLE_ARN")
    token_file = values.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    first_hop = CHAIN_FIRST_HOP_SECONDS if chain_role else duration
    if oidc_role is not None:
        _check_partition(oidc_role, region_name, "AWS_OIDC_ROLE_ARN")
        token = oidc_token(values)
        logger.info("Credential source: the step's OIDC token, assuming %s.", oidc_role)
        identity = _assume_with_token(token, oidc_role, region_name, name, first_hop, SOURCE_OIDC)
    elif token_file or file_role:
        if not (token_file and file_role):
            missing = "AWS_ROLE_ARN" if token_file else "AWS_WEB_IDENTITY_TOKEN_FILE"
            raise PipeError(
                f"{missing} is required with {'AWS_WEB_IDENTITY_TOKEN_FILE' if token_file else 'AWS_ROLE_ARN'}."
            )
        _check_partition(file_role, region_name, "AWS_ROLE_ARN")
        token = _token_file(token_file)
        logger.info("Credential source: AWS_WEB_IDENTITY_TOKEN_FILE, assuming %s.", file_role)
        identity = _assume_with_token(token, file_role, region_name, name, first_hop, SOURCE_TOKEN_FILE)
    else:
        identity = _access_keys(values, region_name)

    if chain_role is not None:
        identity = _chain(identity, chain_role, name, duration)
    _check_allowed_account(identity, values.get("AWS_ALLOWED_ACCOUNT_IDS") or [])
    return identity


def _no_source_error(values: Mapping[str, Any]) -> PipeError:
    if values.get("BITBUCKET_STEP_OIDC_TOKEN"):
        return PipeError(
            "AWS_OIDC_ROLE_ARN is required: set it to the ARN of the IAM role to assume with the step's "
            "OIDC token (COMMAND: trust-policy prints the trust policy that role needs)."
        )
    return PipeError(
        "No AWS credentials: set AWS_OIDC_ROLE_ARN and add `oidc: true` to the step (recommended), or set "
        "AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or AWS_ACCESS_KEY_ID with AWS_SECRET_ACCESS_KEY."
    )


def _access_keys(values: Mapping[str, Any], region_name: str) -> Identity:
    key_id, secret = values.get("AWS_ACCESS_KEY_ID"), values.get("AWS_SECRET_ACCESS_KEY")
    if not key_id and not secret:
        raise _no_source_error(values)
    if not (key_id and secret):
        missing = "AWS_SECRET_ACCESS_KEY" if key_id else "AWS_ACCESS_KEY_ID"
        raise PipeError(
            f"{missing} is required with {'AWS_ACCESS_KEY_ID' if key_id else 'AWS_SECRET_ACCESS_KEY'}."
        )
    session_token = values.get("AWS_SESSION_TOKEN")
    log.register_secret(secret)
    log.register_secret(session_token)
    logger.warning(
        "Credential source: access keys from AWS_ACCESS_KEY_ID. Prefer OIDC: add `oidc: true` to the step "
        "and set AWS_OIDC_ROLE_ARN, and there are no keys to store, leak or rotate."
    )
    return Identity(Credentials(key_id, secret, session_token), region_name, SOURCE_ACCESS_KEYS, None)


def _sts_client(region_name: str, credentials: Credentials | None = None) -> Any:
    from botocore import UNSIGNED

    # Retries are ours (pipe.signin.retry): logged, IDPCommunicationError included, bounded by the token's expiry.
    settings: dict[str, Any] = {
        "retries": {"total_max_attempts": 1},
        "connect_timeout": SIGN_IN_CONNECT_TIMEOUT_SECONDS,
        "read_timeout": SIGN_IN_READ_TIMEOUT_SECONDS,
    }
    if credentials is None:
        settings["signature_version"] = UNSIGNED  # AssumeRoleWithWebIdentity is not signed
        return botocore_session().create_client(
            "sts", region_name=region_name, config=client_config(**settings)
        )
    return botocore_session().create_client(
        "sts",
        region_name=region_name,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
        config=client_config(**settings),
    )


def _credentials(answer: dict[str, Any]) -> Credentials:
    raw = answer["Credentials"]
    credentials = Credentials(
        raw["AccessKeyId"], raw["SecretAccessKey"], raw["SessionToken"], raw["Expiration"]
    )
    log.register_secret(credentials.secret_access_key)
    log.register_secret(credentials.session_token)
    return credentials


def _assume_with_token(
    token: Token, role: RoleArn, region_name: str, name: str, duration: int, source: str
) -> Identity:
    sts = _sts_client(region_name)
    try:
        answer = retry.call(
            "AssumeRoleWithWebIdentity",
            lambda: sts.assume_role_with_web_identity(
                RoleArn=role.arn, RoleSessionName=name, WebIdentityToken=token.value, DurationSeconds=duration
            ),
            deadline=token.claims.expires_at,
            attempt_seconds=retry.ATTEMPT_SECONDS,
        )
    except Exception as error:
        raise sts_errors.explain_web_identity(error, role, token.claims, duration) from None
    return _identity(answer, region_name, source, name, role)


def _chain(first: Identity, role: RoleArn, name: str, duration: int) -> Identity:
    if duration > CHAINED_SESSION_LIMIT_SECONDS:
        logger.warning(
            "AWS_ROLE_DURATION_SECONDS=%d, but AWS limits a chained session (ROLE_ARN) to %d s; asking for %d s.",
            duration,
            CHAINED_SESSION_LIMIT_SECONDS,
            CHAINED_SESSION_LIMIT_SECONDS,
        )
        duration = CHAINED_SESSION_LIMIT_SECONDS
    logger.info("Assuming ROLE_ARN %s with the first session (role chaining).", role)
    sts = _sts_client(first.region, first.credentials)
    try:
        answer = retry.call(
            "AssumeRole",
            lambda: sts.assume_role(RoleArn=role.arn, RoleSessionName=name, DurationSeconds=duration),
            attempt_seconds=retry.ATTEMPT_SECONDS,
        )
    except Exception as error:
        caller = first.assumed_role_arn or "The first session"
        raise sts_errors.explain_assume_role(error, role, caller, duration) from None
    return _identity(answer, first.region, f"{first.source}, then ROLE_ARN (role chaining)", name, role)


def _identity(answer: dict[str, Any], region_name: str, source: str, name: str, role: RoleArn) -> Identity:
    assumed_arn = answer["AssumedRoleUser"]["Arn"]
    account_match = re.match(r"arn:[\w-]+:sts::(\d{12}):", assumed_arn)
    return Identity(
        _credentials(answer),
        region_name,
        source,
        name,
        role=role,
        assumed_role_arn=assumed_arn,
        _account=account_match.group(1) if account_match else None,
    )


def _check_allowed_account(identity: Identity, allowed: list[str]) -> None:
    if allowed and identity.account not in allowed:
        raise PipeError(
            f"Signed in to AWS account {identity.account}, which is not in AWS_ALLOWED_ACCOUNT_IDS "
            f"({', '.join(allowed)}). Check the role ARN, or add the account to the list if it is intended."
        )
