"""Kubernetes labels: the defaults Atlassian's EKS pipe sets, and user labels, to Kubernetes' rules."""

import re
from collections.abc import Mapping

# Label values: at most 63 characters, alphanumeric at both ends, [-_.A-Za-z0-9] between.
MAX_VALUE_LENGTH = 63
MAX_PREFIX_LENGTH = 253
_VALUE = re.compile(r"([A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?)?", re.ASCII)
_NAME = re.compile(r"[A-Za-z0-9]([-_.A-Za-z0-9]*[A-Za-z0-9])?", re.ASCII)
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", re.ASCII)
_DISALLOWED = re.compile(r"[^-_.A-Za-z0-9]+", re.ASCII)

# Label key -> the Bitbucket variable it records, as atlassian/aws-eks-kubectl-run names them.
DEFAULT_LABELS = {
    "bitbucket.org/bitbucket_commit": "BITBUCKET_COMMIT",
    "bitbucket.org/bitbucket_repo_slug": "BITBUCKET_REPO_SLUG",
    "bitbucket.org/bitbucket_repo_owner": "BITBUCKET_REPO_OWNER",
    "bitbucket.org/bitbucket_build_number": "BITBUCKET_BUILD_NUMBER",
    "bitbucket.org/bitbucket_deployment_environment": "BITBUCKET_DEPLOYMENT_ENVIRONMENT",
    "bitbucket.org/bitbucket_step_triggerer_uuid": "BITBUCKET_STEP_TRIGGERER_UUID",
}


def clean_value(raw: str) -> str:
    """Any text as a valid label value: other characters become '-', ends trimmed, cut to 63."""
    value = _DISALLOWED.sub("-", raw)[:MAX_VALUE_LENGTH]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def defaults(env: Mapping[str, str]) -> dict[str, str]:
    labels = {}
    for key, variable in DEFAULT_LABELS.items():
        value = clean_value(env.get(variable, ""))
        if value:
            labels[key] = value
    return labels


def parse(item: str) -> tuple[str, str]:
    """`key=value` for LABELS; ValueError in "must ..." words when either part breaks the rules."""
    key, separator, value = item.partition("=")
    key, value = key.strip(), value.strip()
    if not separator:
        raise ValueError("must be a list of key=value items")
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > MAX_PREFIX_LENGTH or not _PREFIX.fullmatch(prefix)):
        raise ValueError("must have label keys whose prefix is a DNS subdomain such as example.com/")
    if not name or len(name) > MAX_VALUE_LENGTH or not _NAME.fullmatch(name):
        raise ValueError(
            "must have label keys of at most 63 letters, digits and - _ . (alphanumeric at both ends)"
        )
    if len(value) > MAX_VALUE_LENGTH or not _VALUE.fullmatch(value):
        raise ValueError(
            "must have label values of at most 63 letters, digits and - _ . (alphanumeric at both ends)"
        )
    return key, value
