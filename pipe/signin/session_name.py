"""Role session names: STS allows 2-64 characters of [\\w+=,.@-]; CloudTrail shows them."""

import re

MIN_LENGTH, MAX_LENGTH = 2, 64
_ALLOWED = re.compile(r"[\w+=,.@-]+", re.ASCII)
_DISALLOWED = re.compile(r"[^\w+=,.@-]+", re.ASCII)
FALLBACK = "aws-oidc-deploy"


def validate(raw: str) -> str:
    text = raw.strip()
    if not MIN_LENGTH <= len(text) <= MAX_LENGTH or not _ALLOWED.fullmatch(text):
        raise ValueError(f"must be {MIN_LENGTH}-{MAX_LENGTH} characters of letters, digits and + = , . @ _ -")
    return text


def default(repo_slug: str | None, build_number: str | None) -> str:
    """`bitbucket-<repo>-<build>`, cleaned to STS rules; the build number survives any shortening."""
    build = _DISALLOWED.sub("-", build_number or "").strip("-")
    repo = _DISALLOWED.sub("-", repo_slug or "").strip("-")
    if not repo and not build:
        return FALLBACK
    suffix = f"-{build}" if build else ""
    room = MAX_LENGTH - len("bitbucket-") - len(suffix)
    name = f"bitbucket-{repo[: max(room, 0)].rstrip('-')}{suffix}" if repo else f"bitbucket{suffix}"
    return name[:MAX_LENGTH]
