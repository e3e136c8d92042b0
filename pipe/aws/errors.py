"""The one place an AWS error is read: its code, message and HTTP status, told in one format, and the
classes every job decides by (access denied, not found, transient).

botocore is imported only where an exception type must be checked: the sign-in explains STS errors
with this module, and trust-policy never loads botocore.
"""

import re
from collections.abc import Mapping
from typing import Any

from pipe.common.errors import PipeError

# How each service says "the role may not do this" (IAM evaluated the call and refused it):
# STS, S3, CloudFront, CloudFormation and Elastic Beanstalk's query API: AccessDenied; EKS, SSM and
# other JSON APIs: AccessDeniedException; EKS has answered UnauthorizedException (401) too, which
# botocore 1.44.5's model no longer lists; Elastic Beanstalk, for what it does for the role in other
# services: InsufficientPrivilegesException (all from botocore 1.44.5's service models). An S3 HEAD has no
# body, so botocore makes the status the code ("403"); S3-compatible stores may say Forbidden.
# Decided by code, not by status 403: an expired token, a bad signature or a skewed clock are 403
# too, and granting a permission fixes none of them.
ACCESS_DENIED = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedException",
        "InsufficientPrivilegesException",
        "403",
        "Forbidden",
    }
)
# What the call named does not exist (S3 key or bucket, EKS cluster, SSM parameter, CloudFront
# distribution). A HEAD's 404 has no body: botocore makes the status the code ("404").
NOT_FOUND = frozenset(
    {
        "404",
        "NotFound",
        "NotFoundException",
        "NoSuchKey",
        "NoSuchBucket",
        "ResourceNotFoundException",
        "ParameterNotFound",
        "NoSuchDistribution",
        "NoSuchInvalidation",
    }
)
# Faults that a later attempt may not meet (throttling, a service's own failure); any 5xx and 429 too.
TRANSIENT = frozenset(
    {
        "IDPCommunicationError",
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalFailure",
        "InternalError",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
# The IAM action behind an S3 operation, for S3's AccessDenied, which names none ("Access Denied"; a
# HEAD's has no body at all). Other services name it: "... is not authorized to perform: eks:DescribeCluster".
_S3_ACTIONS = {
    "ListObjectsV2": "s3:ListBucket",
    "ListObjects": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",
    "PutObjectAcl": "s3:PutObjectAcl",
    "GetBucketLocation": "s3:GetBucketLocation",
}
_PERFORM = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9*]+)")
WHERE_POLICIES_ARE = "docs/iam.md has each job's policy; COMMAND: trust-policy with POLICY_FOR_JOBS prints it"
# Closes a message; stripped once here, so that a caller's own full stop never doubles one.
_CLOSING = re.compile(r"[\s.]+$")


def _answer(error: BaseException) -> Mapping[str, Any]:
    response = getattr(error, "response", None)
    return response if isinstance(response, Mapping) else {}


def _detail(answer: Mapping[str, Any] | None) -> Mapping[str, Any]:
    detail = (answer or {}).get("Error")
    return detail if isinstance(detail, Mapping) else {}


def code(error: BaseException) -> str:
    """The error code AWS answered with ("" when the error is not an AWS answer)."""
    return str(_detail(_answer(error)).get("Code") or "")


def message(error: BaseException) -> str:
    return str(_detail(_answer(error)).get("Message") or "").strip()


def status(error: BaseException) -> int | None:
    """The HTTP status of AWS's answer; None when no answer came."""
    value = (_answer(error).get("ResponseMetadata") or {}).get("HTTPStatusCode")
    return value if isinstance(value, int) else None


def retried(error: BaseException) -> bool:
    """botocore sent the call more than once: an earlier attempt may have been carried out although
    its answer never arrived."""
    return ((_answer(error).get("ResponseMetadata") or {}).get("RetryAttempts") or 0) > 0


def _name(found: str, http_status: Any) -> str:
    if found:
        return found
    return f"HTTP {http_status}" if http_status else "Error"


def name(error: BaseException) -> str:
    """What failed, in a word: the code, else the HTTP status, else (no answer came) the exception's
    type; an error the pipe explained already keeps its explanation."""
    if _answer(error):
        return _name(code(error), status(error))
    if isinstance(error, PipeError):
        return error.message
    return type(error).__name__


def name_in_answer(http_status: int, parsed: Mapping[str, Any] | None) -> str:
    """`name` for an answer botocore has parsed but not raised yet (a retry handler sees those)."""
    return _name(str(_detail(parsed).get("Code") or ""), http_status)


def summary(error: BaseException) -> str:
    """ "Code: message" without a closing full stop, to be put in a sentence; what botocore (or the
    pipe) says when no answer came."""
    if _answer(error):
        text = _CLOSING.sub("", message(error))
        label = _name(code(error), status(error))
        return f"{label}: {text}" if text else label
    return _CLOSING.sub("", str(error)) or type(error).__name__


def sentence(error: BaseException) -> str:
    """`summary` closed by one full stop."""
    text = summary(error)
    return text if text.endswith(("!", "?")) else f"{text}."


def is_access_denied(error: BaseException) -> bool:
    return code(error) in ACCESS_DENIED


def denied_action(error: BaseException, service: str = "") -> str:
    """The IAM action a refused call needed: as AWS named it, else from the S3 operation, else
    `service:Operation` (the action most APIs check is named after the operation); "" if unknown."""
    found = _PERFORM.search(message(error))
    if found:
        return found.group(1)
    operation = str(getattr(error, "operation_name", "") or "")
    if operation in _S3_ACTIONS:
        return _S3_ACTIONS[operation]
    return f"{service}:{operation}" if service and operation else ""


def access_denied_line(error: BaseException, resource: str = "", service: str = "") -> str:
    """The one line every job says when IAM refused a call: the action, where, and where the policy is."""
    action = denied_action(error, service)
    if not action:
        on = f" on {resource}" if resource else ""
        return f"AccessDenied{on}: the role's IAM policy does not allow this call ({summary(error)}); {WHERE_POLICIES_ARE}."
    return refusal(action, resource)


def refusal(action: str, resource: str = "") -> str:
    """`access_denied_line` for a refusal that is no exception (an item of a batch's answer)."""
    on = f" on {resource}" if resource else ""
    return f"AccessDenied: the role may not call {action}{on}. Allow {action} in its IAM policy ({WHERE_POLICIES_ARE})."


def is_not_found(error: BaseException) -> bool:
    return code(error) in NOT_FOUND or status(error) == 404


def is_transient(error: BaseException) -> bool:
    """A fault another attempt may not meet: throttling, a 5xx or 429, or a connection that failed
    (refused, reset, timed out, a proxy's error: the request may not have arrived)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, ClientError):
        http_status = status(error) or 0
        return code(error) in TRANSIENT or http_status >= 500 or http_status == 429
    return isinstance(error, ConnectionError | HTTPClientError)
