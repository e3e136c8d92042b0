"""Where the pipe is signed in: the temporary credentials, the clients made from them, and the
environment handed to child processes (with no other credential source left in it)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from pipe import __version__
from pipe.common.errors import PipeError
from pipe.signin import retry
from pipe.signin.arns import RoleArn
from pipe.signin.claims import Claims

# A job's calls: timeouts, attempts and the time budget per call are in pipe.signin.call_budget.
# Sign-in's own calls (STS), tighter: two attempts of at most 15 s fit its 30 s budget (pipe.signin.retry).
SIGN_IN_CONNECT_TIMEOUT_SECONDS = 5
SIGN_IN_READ_TIMEOUT_SECONDS = 10

# Variables that hold secrets in the environment the pipe starts with.
SECRET_ENVIRONMENT = ("BITBUCKET_STEP_OIDC_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# Removed from a child's environment so that no SDK in it prefers another source over ours.
_CREDENTIAL_SOURCES = (
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
_CREDENTIALS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def without_credentials(base: Mapping[str, str]) -> dict[str, str]:
    """`base` with no AWS credential, credential source or OIDC token left in it."""
    return {name: value for name, value in base.items() if name not in (*_CREDENTIAL_SOURCES, *_CREDENTIALS)}


# Not dataclasses: importing dataclasses (and inspect with it) was a sixth of trust-policy's start-up.
class Credentials(NamedTuple):
    access_key_id: str
    secret_access_key: str
    session_token: str | None = None
    expiration: datetime | None = None


class Token(NamedTuple):
    value: str
    claims: Claims


class Identity:
    """Where the pipe is signed in, with clients made from the temporary credentials."""

    def __init__(
        self,
        credentials: Credentials,
        region: str,
        source: str,
        session_name: str | None,
        role: RoleArn | None = None,
        assumed_role_arn: str | None = None,
        _account: str | None = None,
    ):
        self.credentials = credentials
        self.region = region
        self.source = source
        self.session_name = session_name
        self.role = role
        self.assumed_role_arn = assumed_role_arn
        self._account = _account

    def client(self, service: str, parse_timestamps: bool = True, **config: Any) -> Any:
        """A botocore client; botocore's standard retry mode handles transient faults in job calls,
        within one time budget per call (pipe.signin.call_budget). `parse_timestamps=False` leaves dates in answers as the text AWS sent (cheaper to parse).

        botocore, not boto3: boto3's import pulls in s3transfer, a tenth of a second that
        sign-in does not need. A job that wants boto3 or s3transfer imports it itself.
        """
        from pipe.signin import call_budget

        settings = {"retries": call_budget.RETRIES} | config
        session = botocore_session()
        if parse_timestamps:
            return self._create(session, service, settings)
        # The parser factory is read when a client is made: this one client gets dates as text.
        from botocore.parsers import ResponseParserFactory

        shared = session.get_component("response_parser_factory")
        as_text = ResponseParserFactory()
        as_text.set_parser_defaults(timestamp_parser=str)
        session.register_component("response_parser_factory", as_text)
        try:
            return self._create(session, service, settings)
        finally:
            session.register_component("response_parser_factory", shared)

    def _create(self, session: Any, service: str, settings: dict[str, Any]) -> Any:
        from pipe.signin import call_budget

        client = session.create_client(
            service,
            region_name=self.region,
            aws_access_key_id=self.credentials.access_key_id,
            aws_secret_access_key=self.credentials.secret_access_key,
            aws_session_token=self.credentials.session_token,
            config=client_config(**settings),
        )
        return call_budget.apply(client)

    def caller_identity(self) -> dict[str, Any]:
        from pipe.signin import call_budget

        # Retried by the sign-in's rules (logged, within its 30 s), one attempt at a time.
        sts = self.client("sts", retries={"mode": "standard", "total_max_attempts": 1})
        try:
            answer: dict[str, Any] = retry.call(
                "GetCallerIdentity", sts.get_caller_identity, attempt_seconds=call_budget.ATTEMPT_SECONDS
            )
        except Exception as error:
            if not retry.is_transient(error):
                raise
            raise PipeError(
                f"AWS STS at {sts.meta.endpoint_url} could not complete GetCallerIdentity within the sign-in's "
                f"{retry.TOTAL_BUDGET_SECONDS:.0f} s budget (the last: {retry.describe(error)}). Check that the "
                "endpoint is reachable from the step (a firewall, a proxy, AWS_ENDPOINT_URL)."
            ) from None
        self._account = answer["Account"]
        self.assumed_role_arn = answer["Arn"]
        return answer

    @property
    def account(self) -> str:
        if self._account is None:
            self.caller_identity()
        return str(self._account)

    def environment(self, base: Mapping[str, str]) -> dict[str, str]:
        """`base` for a child process: other credential sources removed, these credentials added."""
        child = without_credentials(base)
        child.update(
            AWS_ACCESS_KEY_ID=self.credentials.access_key_id,
            AWS_SECRET_ACCESS_KEY=self.credentials.secret_access_key,
            AWS_REGION=self.region,
            AWS_DEFAULT_REGION=self.region,
        )
        if self.credentials.session_token:
            child["AWS_SESSION_TOKEN"] = self.credentials.session_token
        return child


def client_config(**settings: Any) -> Any:
    from botocore.config import Config

    from pipe.signin import call_budget

    defaults: dict[str, Any] = {
        "connect_timeout": call_budget.CONNECT_TIMEOUT_SECONDS,
        "read_timeout": call_budget.READ_TIMEOUT_SECONDS,
        "user_agent_appid": f"aws-oidc-deploy-{__version__}",
    }
    return Config(**(defaults | settings))


_shared_botocore_session = None


def botocore_session() -> Any:
    """One botocore session for every client, so each service model and endpoint file loads once.

    It reads no AWS_PROFILE: the credentials are always the ones signed in here, and a profile that
    exists only on a developer's laptop would otherwise stop every client being made.
    """
    global _shared_botocore_session
    if _shared_botocore_session is None:
        import botocore.session

        _shared_botocore_session = botocore.session.Session(
            session_vars={"profile": (None, None, None, None)}
        )
    return _shared_botocore_session
