"""AWS clients for every job, made by boto3 over one shared botocore session: the pipe's client
settings, and the time budget per call (pipe.aws.call_budget) on each client a job makes. The sign-in
makes its STS clients from the botocore session itself (pipe.signin), so that boto3 loads only in a
job that calls AWS."""

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
    """A client with `keys`, made by boto3 (docs/decisions.md, "boto3 makes the jobs' clients");
    botocore's standard retry mode handles transient faults, within one time budget per call.
    `parse_timestamps=False` leaves dates in answers as the text AWS sent (cheaper to parse)."""
    from pipe.aws import call_budget, sdk_private

    settings = {"retries": call_budget.RETRIES} | config
    session = boto3_session()

    def create() -> Any:
        made = session.client(
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
    with sdk_private.dates_as_text(botocore_session()):
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


_shared_boto3_session: tuple[Any, Any] | None = None


def boto3_session() -> Any:
    """boto3's Session over the one botocore session: the same credentials per client, the same loaded
    models, and the user agent the sign-in's clients send (boto3 renames the session's on the way in)."""
    global _shared_boto3_session
    core = botocore_session()
    if _shared_boto3_session is None or _shared_boto3_session[0] is not core:
        import boto3.session

        user_agent = (core.user_agent_name, core.user_agent_version, core.user_agent_extra)
        _shared_boto3_session = (core, boto3.session.Session(botocore_session=core))
        core.user_agent_name, core.user_agent_version, core.user_agent_extra = user_agent
    return _shared_boto3_session[1]
