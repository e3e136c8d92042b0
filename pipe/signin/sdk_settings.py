"""The AWS SDK's own settings: every variable botocore reads from the environment, checked before the
first AWS call exactly as botocore will read it.

botocore takes these values raw (it strips nothing: " standard" is not a retry mode to it) and turns
a bad one into an error deep inside a call ("Unexpected error ... This is a bug"), or, for a proxy or
a CA bundle, into a connection failure that looks like the network's fault. The names come from
botocore's own configuration chain (`botocore_variables`), not a hand list: a variable a newer
botocore adds is checked by the text rule at once, and test/signin/test_sdk_settings.py's canary
fails until it has a rule of its own here.
"""

import os
import re
from collections.abc import Mapping, MutableMapping
from urllib.parse import urlsplit

from pipe.common import bounded_read
from pipe.common.errors import PipeError
from pipe.common.variables import Parser, Variable

# The services the pipe's jobs call; AWS_ENDPOINT_URL_<SERVICE> for each, as botocore names them.
SERVICES = ("STS", "S3", "CLOUDFRONT", "EKS", "ELASTIC_BEANSTALK", "SSM", "CLOUDFORMATION")
RETRY_MODES = ("standard", "adaptive", "legacy")
# botocore takes any count; more than this turns one stuck call into many minutes.
MAX_ATTEMPTS = 10
ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"
# A CA bundle is a few hundred KiB (certifi's is 300 KiB); a larger file is not one.
CA_BUNDLE_BYTES = 4 * bounded_read.MIB
# Secrets, not settings (bearer tokens for services the pipe does not call); never echoed or checked.
BEARER_PREFIX = "AWS_BEARER_TOKEN_"
_URL_EXAMPLE = "an http:// or https:// URL such as https://sts.eu-west-1.amazonaws.com"


def as_read(parse: Parser) -> Parser:
    """`parse` applied to the value exactly as botocore reads it: a space, tab or line break around or
    in it is part of the value to botocore, so it is refused here rather than stripped."""

    def checked(raw: str) -> object:
        if raw != raw.strip() or re.search(r"[\t\n\r]", raw):
            raise ValueError(
                "must not start or end with spaces or hold tabs or line breaks (the AWS SDK reads it as it is)"
            )
        return parse(raw)

    return checked


def _text(raw: str) -> str:
    return raw


def _boolean(raw: str) -> bool:
    # botocore's ensure_boolean: "true" in any case is true and every other text silently false.
    if raw.lower() not in ("true", "false"):
        raise ValueError("must be true or false")
    return raw.lower() == "true"


def _whole_number(low: int, high: int, unit: str = "") -> Parser:
    def parse(raw: str) -> int:
        if not re.fullmatch(r"[0-9]{1,9}", raw) or not low <= int(raw) <= high:
            raise ValueError(f"must be a whole number{' of ' + unit if unit else ''} from {low} to {high}")
        return int(raw)

    return parse


def _one_of(*options: str, any_case: bool = False) -> Parser:
    """botocore lowers some settings before comparing (`any_case`) and compares others as they are."""

    def parse(raw: str) -> str:
        if (raw.lower() if any_case else raw) not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return raw

    return parse


def endpoint_url(name: str) -> Parser:
    def parse(raw: str) -> str:
        if "@" in raw:
            # Never echoed: the part before @ is a password (a "/" in it hides it from urlsplit's
            # user-info). AWS endpoints take none: requests are signed.
            raise PipeError(f"{name} must not hold a user name or password; AWS requests are signed instead.")
        try:
            parts = urlsplit(raw)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise ValueError(f"must be {_URL_EXAMPLE}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"must be {_URL_EXAMPLE}")
        return raw

    return parse


def _region(raw: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(?:-gov)?-[a-z]+-[0-9]{1,2}", raw, re.ASCII):
        raise ValueError("must be an AWS region name such as eu-west-1")
    return raw


def _proxy(raw: str) -> str:
    """As botocore reads a proxy (pipe.signin.sdk_settings is the only place that does it first):
    `host:port` gets http:// put in front, then urllib3 parses it when the first request is sent."""
    from urllib3.exceptions import LocationParseError
    from urllib3.util import parse_url

    url = (
        raw if raw.startswith(("http:", "https:")) else ("http:" if raw.startswith("//") else "http://") + raw
    )
    try:
        parts = parse_url(url)
    except (LocationParseError, ValueError):
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.host:
        raise ValueError("must be a proxy URL such as http://proxy.example.com:3128")
    return raw


def _ca_bundle(name: str) -> Parser:
    """botocore hands the path to OpenSSL at the first connection, whose failure reads like the
    network's; here it is read (bounded, a regular file) and loaded the same way first."""

    def parse(raw: str) -> str:
        import ssl

        what = f"{name} {raw!r}"
        context = ssl.create_default_context()
        try:
            if os.path.isdir(raw):
                context.load_verify_locations(capath=raw)
                return raw
            pem = bounded_read.read_text(raw, CA_BUNDLE_BYTES, what)
            context.load_verify_locations(cadata=pem)
        except (ssl.SSLError, UnicodeDecodeError, ValueError):  # SSLError is an OSError: first
            raise PipeError(
                f"{what} holds no PEM CA certificates; point it at a PEM file of CA certificates."
            ) from None
        except OSError as error:
            raise PipeError(
                f"{what} cannot be read: {error.strerror or error}; point it at a PEM file of CA certificates."
            ) from None
        return raw

    return parse


def _file_or_missing(name: str) -> Parser:
    """botocore reads the file when it exists (a FIFO would wait for ever) and skips a missing one."""

    def parse(raw: str) -> str:
        if os.path.lexists(raw):
            try:
                bounded_read.read_bytes(raw, bounded_read.SETTINGS_FILE_BYTES, f"{name} {raw!r}")
            except OSError as error:
                raise PipeError(f"{name} {raw!r} cannot be read: {error.strerror or error}.") from None
        return raw

    return parse


def _no_plugins(raw: str) -> str:
    raise ValueError("must not be set: botocore would import the named modules with the credentials at hand")


def _no_key_log(raw: str) -> str:
    raise ValueError("must not be set: botocore would write the TLS session keys of the sign-in to that file")


_TRUE_FALSE = _boolean
_COUNT = _whole_number(0, 1_000_000)

# Every variable botocore reads, with the pipe's rule for it. botocore_variables() and the canary
# keep this in step with botocore.
RULES: dict[str, Parser] = {
    # Not read: the pipe's session names no profile and reads no shared files for credentials, and
    # children get these removed (pipe.signin.identity.without_credentials).
    "AWS_PROFILE": _text,
    "AWS_DEFAULT_PROFILE": _text,
    "AWS_SHARED_CREDENTIALS_FILE": _text,
    "AWS_DEFAULT_REGION": _region,
    "AWS_DATA_PATH": _text,
    "AWS_CONFIG_FILE": _file_or_missing("AWS_CONFIG_FILE"),
    "AWS_CA_BUNDLE": _ca_bundle("AWS_CA_BUNDLE"),
    "AWS_METADATA_SERVICE_TIMEOUT": _whole_number(1, 3600, "seconds"),
    "AWS_METADATA_SERVICE_NUM_ATTEMPTS": _whole_number(1, MAX_ATTEMPTS, "attempts"),
    "AWS_EC2_METADATA_SERVICE_ENDPOINT": endpoint_url("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
    "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE": _one_of("ipv4", "ipv6", any_case=True),
    "AWS_EC2_METADATA_V1_DISABLED": _TRUE_FALSE,
    "AWS_IMDS_USE_IPV6": _TRUE_FALSE,
    "AWS_USE_DUALSTACK_ENDPOINT": _TRUE_FALSE,
    "AWS_USE_FIPS_ENDPOINT": _TRUE_FALSE,
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": _TRUE_FALSE,
    "AWS_CSM_ENABLED": _TRUE_FALSE,
    "AWS_CSM_HOST": _text,
    "AWS_CSM_PORT": _whole_number(1, 65535, "a port"),
    "AWS_CSM_CLIENT_ID": _text,
    "AWS_ENDPOINT_DISCOVERY_ENABLED": _one_of("true", "false", "auto", any_case=True),
    "AWS_STS_REGIONAL_ENDPOINTS": _one_of("legacy", "regional"),
    "AWS_RETRY_MODE": _one_of(*RETRY_MODES),
    "AWS_DEFAULTS_MODE": _one_of(
        "legacy", "standard", "mobile", "cross-region", "in-region", "auto", any_case=True
    ),
    "AWS_MAX_ATTEMPTS": _whole_number(1, MAX_ATTEMPTS, "attempts"),
    "AWS_SDK_UA_APP_ID": _text,
    "AWS_REQUEST_MIN_COMPRESSION_SIZE_BYTES": _whole_number(0, 10_485_760, "bytes"),
    "AWS_DISABLE_REQUEST_COMPRESSION": _TRUE_FALSE,
    "AWS_SIGV4A_SIGNING_REGION_SET": _text,
    "AWS_REQUEST_CHECKSUM_CALCULATION": _one_of("when_supported", "when_required", any_case=True),
    "AWS_RESPONSE_CHECKSUM_VALIDATION": _one_of("when_supported", "when_required", any_case=True),
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": _one_of("preferred", "disabled", "required", any_case=True),
    "AWS_DISABLE_HOST_PREFIX_INJECTION": _TRUE_FALSE,
    "AWS_AUTH_SCHEME_PREFERENCE": _text,
    "BOTOCORE_TCP_KEEPALIVE": _TRUE_FALSE,
    "AWS_S3_DISABLE_EXPRESS_SESSION_AUTH": _TRUE_FALSE,
    "AWS_S3_USE_ARN_REGION": _TRUE_FALSE,
    "AWS_S3_US_EAST_1_REGIONAL_ENDPOINT": _one_of("legacy", "regional"),
    "AWS_S3_DISABLE_MULTIREGION_ACCESS_POINTS": _TRUE_FALSE,
    # Read outside the chain, by botocore's modules themselves.
    "AWS_ENDPOINT_URL": endpoint_url("AWS_ENDPOINT_URL"),
    "AWS_REGION": _region,
    "REQUESTS_CA_BUNDLE": _ca_bundle("REQUESTS_CA_BUNDLE"),
    "SSLKEYLOGFILE": _no_key_log,
    "BOTO_DISABLE_CRT": _TRUE_FALSE,
    # Read only by credential providers, and the pipe hands botocore its credentials itself.
    "AWS_CREDENTIAL_FILE": _text,
    "AWS_LOGIN_CACHE_DIRECTORY": _text,
    "AWS_EXECUTION_ENV": _text,
    "AWS_LAMBDA_FUNCTION_NAME": _text,
    "_X_AMZN_TRACE_ID": _text,
    "BOTO_EXPERIMENTAL__ADD_PROXY_HOST_HEADER": _TRUE_FALSE,
    "BOTO_EXPERIMENTAL__NO_EMPTY_CONTINUE": _TRUE_FALSE,
    "BOTOCORE_EXPERIMENTAL__PLUGINS": _no_plugins,
}

# Declared in the variable contract (contract/variables-1.0.yml), read with the sign-in's variables.
VARIABLES = (
    Variable("AWS_ENDPOINT_URL", parse=as_read(RULES["AWS_ENDPOINT_URL"])),
    *(
        Variable(f"{ENDPOINT_PREFIX}{service}", parse=as_read(endpoint_url(f"{ENDPOINT_PREFIX}{service}")))
        for service in SERVICES
    ),
    Variable("AWS_RETRY_MODE", parse=as_read(RULES["AWS_RETRY_MODE"])),
    Variable("AWS_MAX_ATTEMPTS", parse=as_read(RULES["AWS_MAX_ATTEMPTS"])),
)


def botocore_variables() -> dict[str, str]:
    """Every variable botocore's configuration chain reads, with what botocore turns it into
    ("boolean", "integer" or "text"). Loads botocore: called by the canary test, not at start-up."""
    from botocore import configprovider, utils

    found: dict[str, str] = {}
    chains = (
        configprovider.BOTOCORE_DEFAUT_SESSION_VARIABLES,
        configprovider.DEFAULT_S3_CONFIG_VARS,
        configprovider.DEFAULT_PROXIES_CONFIG_VARS,
    )
    for chain in chains:
        for entry in chain.values():
            names, convert = entry[1], entry[3] if len(entry) > 3 else None
            kind = "integer" if convert is int else "boolean" if convert is utils.ensure_boolean else "text"
            for name in [names] if isinstance(names, str) else list(names or ()):
                found[name] = kind
    return found


def _proxy_names(env: Mapping[str, str]) -> list[str]:
    """The proxy variables urllib's getproxies() gives botocore: any case of HTTP_PROXY and
    HTTPS_PROXY (botocore uses only those two schemes); the lower-case spelling wins."""
    chosen: dict[str, str] = {}
    for name in sorted(env, key=lambda n: n.islower()):
        scheme = name.lower()[: -len("_proxy")]
        if name.lower().endswith("_proxy") and scheme in ("http", "https") and env[name]:
            chosen[scheme] = name
    if "REQUEST_METHOD" in env:  # urllib ignores HTTP_PROXY in a CGI script; so does botocore then
        chosen.pop("http", None)
    return sorted(chosen.values())


def checks(env: Mapping[str, str]) -> list[Variable]:
    """The SDK's variables set in `env`, each as a Variable with its rule."""
    found = []
    for name in sorted(env):
        if name in RULES:
            found.append(Variable(name, parse=as_read(RULES[name])))
        elif name.startswith(ENDPOINT_PREFIX):
            found.append(Variable(name, parse=as_read(endpoint_url(name))))
    found += [Variable(name, parse=as_read(_proxy), secret=True) for name in _proxy_names(env)]
    return found


def drop_empty(environ: MutableMapping[str, str]) -> None:
    """An empty SDK variable is unset, as an empty pipe variable is: botocore would read "" as a value
    (AWS_RETRY_MODE="" is an invalid mode to it), and Bitbucket passes an unset `$VARIABLE` as ""."""
    for name in [name for name, value in environ.items() if value == "" and _is_sdk_variable(name)]:
        del environ[name]


def _is_sdk_variable(name: str) -> bool:
    return name in RULES or name.startswith(ENDPOINT_PREFIX) or name.lower() in ("http_proxy", "https_proxy")


def check(env: Mapping[str, str]) -> None:
    """Raise PipeError naming the first SDK variable in `env` that botocore would fail on."""
    for variable in checks(env):
        variable.read(env.get(variable.name))
