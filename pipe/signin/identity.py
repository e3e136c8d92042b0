"""Where the pipe is signed in: the temporary credentials, the clients made from them, and the
environment handed to child processes (with no other credential source left in it)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from pipe.aws import clients
from pipe.aws.environment import without_credentials
from pipe.common.errors import PipeError
from pipe.signin import retry
from pipe.signin.arns import RoleArn
from pipe.signin.claims import Claims

# A job's calls: timeouts, attempts and the time budget per call are in pipe.aws.call_budget.
# Sign-in's own calls (STS), tighter: two attempts of at most 15 s fit its 30 s budget (pipe.signin.retry).
SIGN_IN_CONNECT_TIMEOUT_SECONDS = 5
SIGN_IN_READ_TIMEOUT_SECONDS = 10

# Variables that hold secrets in the environment the pipe starts with.
SECRET_ENVIRONMENT = ("BITBUCKET_STEP_OIDC_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


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

    def client(
        self,
        service: str,
        parse_timestamps: bool = True,
        region: str | None = None,
        keys: clients.Keys | None = None,
        **config: Any,
    ) -> Any:
        """A client with these credentials in this region, made by boto3 (pipe.aws.clients.client), with
        the call budget every job's client has; `region` for a stack elsewhere, `keys` for a role the job
        assumed from this one (cdk's lookup role)."""
        return clients.client(
            service, region or self.region, keys or self.credentials, parse_timestamps, **config
        )

    def caller_identity(self) -> dict[str, Any]:
        from pipe.aws import call_budget

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
