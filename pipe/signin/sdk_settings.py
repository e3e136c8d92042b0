"""The standard SDK variables the pipe honours, checked up front like its own: botocore reads them
itself and turns a bad one into an error deep inside a call ("Unexpected error ... This is a bug")."""

from urllib.parse import urlsplit

from pipe.common.errors import PipeError
from pipe.common.variables import Parser, Variable, choice, integer

# The services the pipe's jobs call; AWS_ENDPOINT_URL_<SERVICE> for each, as botocore names them.
SERVICES = ("STS", "S3", "CLOUDFRONT", "EKS", "ELASTIC_BEANSTALK", "SSM", "CLOUDFORMATION")
RETRY_MODES = ("standard", "adaptive", "legacy")
# botocore takes any count; more than this turns one stuck call into many minutes.
MAX_ATTEMPTS = 10


def endpoint_url(name: str) -> Parser:
    def parse(raw: str) -> str:
        text = raw.strip()
        if "@" in text:
            # Never echoed: the part before @ is a password (a "/" in it hides it from urlsplit's
            # user-info). AWS endpoints take none: requests are signed.
            raise PipeError(f"{name} must not hold a user name or password; AWS requests are signed instead.")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise ValueError(
                "must be an http:// or https:// URL such as https://sts.eu-west-1.amazonaws.com"
            ) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL such as https://sts.eu-west-1.amazonaws.com")
        return text

    return parse


VARIABLES = (
    Variable("AWS_ENDPOINT_URL", parse=endpoint_url("AWS_ENDPOINT_URL")),
    *(
        Variable(f"AWS_ENDPOINT_URL_{service}", parse=endpoint_url(f"AWS_ENDPOINT_URL_{service}"))
        for service in SERVICES
    ),
    Variable("AWS_RETRY_MODE", parse=choice(RETRY_MODES)),
    Variable("AWS_MAX_ATTEMPTS", parse=integer(1, MAX_ATTEMPTS, "attempts")),
)
