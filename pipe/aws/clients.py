"""botocore clients for every job: one shared session, the pipe's client settings, and the time
budget per call (pipe.aws.call_budget) on each client a job makes."""

from typing import Any, Protocol

from pipe import __version__


class Keys(Protocol):
    @property
    def access_key_id(self) -> str: ...
    @property
    def secret_access_key(self) -> str: ...
    @property
    def session_token(self) -> str | None: ...


def client(service: str, region: str, keys: Keys, parse_timestamps: bool = True, **config: Any) -> Any:
    """A botocore client (not boto3: docs/decisions.md) with `keys`; botocore's standard retry mode
    handles transient faults, within one time budget per call. `parse_timestamps=False` leaves dates
    in answers as the text AWS sent (cheaper to parse)."""
    from pipe.aws import call_budget, sdk_private

    settings = {"retries": call_budget.RETRIES} | config
    session = botocore_session()

    def create() -> Any:
        made = session.create_client(
            service,
            region_name=region,
            aws_access_key_id=keys.access_key_id,
            aws_secret_access_key=keys.secret_access_key,
            aws_session_token=keys.session_token,
            config=client_config(**settings),
        )
        return call_budget.apply(made)

    if parse_timestamps:
        return create()
    with sdk_private.dates_as_text(session):
        return create()


def client_config(**settings: Any) -> Any:
    from botocore.config import Config

    from pipe.aws import call_budget

    defaults: dict[str, Any] = {
        "connect_timeout": call_budget.CONNECT_TIMEOUT_SECONDS,
        "read_timeout": call_budget.READ_TIMEOUT_SECONDS,
        "user_agent_appid": f"aws-oidc-deploy-{__version__}",
    }
    return Config(**(defaults | settings))


_shared_botocore_session: Any = None


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
