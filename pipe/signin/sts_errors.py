"""STS errors turned into what a user must change, never a dumped exception."""

from pipe.aws import errors
from pipe.common.errors import PipeError
from pipe.signin.arns import RoleArn
from pipe.signin.claims import Claims
from pipe.signin.trust import trust_policy_json


def explain_web_identity(error: Exception, role: RoleArn, claims: Claims, duration: int) -> PipeError:
    """Explain a failed AssumeRoleWithWebIdentity for `role` with a token carrying `claims`."""
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return _unreachable(error, role)
    code, message = errors.code(error), errors.message(error)
    if errors.is_access_denied(error):
        return PipeError(
            f"Not authorized to perform sts:AssumeRoleWithWebIdentity on {role}: its trust policy does not "
            "admit this token. The trust policy printed above does (COMMAND: trust-policy also prints a "
            "CloudFormation template).",
            details="# A trust policy for the role that admits this token:\n"
            + trust_policy_json(claims, role.account, role.partition),
        )
    if code == "InvalidIdentityToken":
        return PipeError(
            f"STS rejected the OIDC token ({message or code}). The token's issuer is {claims.issuer} and its "
            f"audience is {claims.audience}: account {role.account} needs an IAM OIDC identity provider for "
            f"https://{claims.provider_path} that lists {claims.audience} as an audience (client ID)."
        )
    if code == "ExpiredTokenException":
        return PipeError("STS says the OIDC token has expired. Re-run the step to get a fresh token.")
    if _duration_refused(code, message):
        return PipeError(
            f"AWS_ROLE_DURATION_SECONDS={duration} is more than {role} allows (its MaxSessionDuration). "
            "Lower AWS_ROLE_DURATION_SECONDS, or raise the role's maximum session duration."
        )
    return _generic("AssumeRoleWithWebIdentity", role, error)


def explain_assume_role(error: Exception, role: RoleArn, caller: str, duration: int) -> PipeError:
    """Explain a failed sts:AssumeRole of ROLE_ARN by the session `caller`."""
    from botocore.exceptions import ClientError

    if not isinstance(error, ClientError):
        return _unreachable(error, role)
    code, message = errors.code(error), errors.message(error)
    if errors.is_access_denied(error):
        return PipeError(
            f"{caller} is not allowed to assume ROLE_ARN {role}. The trust policy of {role} must allow "
            f"this principal to sts:AssumeRole, and the first role needs sts:AssumeRole on {role} in its "
            "permissions."
        )
    if _duration_refused(code, message):
        return PipeError(
            f"{role} does not allow sessions of {duration} s (its MaxSessionDuration). "
            "Lower AWS_ROLE_DURATION_SECONDS."
        )
    return _generic("AssumeRole", role, error)


def _unreachable(error: Exception, role: RoleArn) -> PipeError:
    if type(error).__name__ == "ProxyConnectionError":
        # botocore's text names the proxy (its password masked, and masked again by the log).
        return PipeError(
            f"Could not reach AWS STS to assume {role} through the proxy: {error}. Check HTTPS_PROXY "
            "and HTTP_PROXY (and NO_PROXY), and that the proxy is up."
        )
    return PipeError(
        f"Could not reach AWS STS to assume {role}: {errors.name(error)}. Check the network and region."
    )


def _duration_refused(code: str, message: str) -> bool:
    return code == "ValidationError" and "DurationSeconds" in message


def _generic(operation: str, role: RoleArn, error: Exception) -> PipeError:
    if errors.code(error) == "RegionDisabledException":
        return PipeError(f"STS is not activated in this region for {role.account}: {errors.message(error)}")
    return PipeError(f"STS {operation} for {role} failed: {errors.summary(error)}")
