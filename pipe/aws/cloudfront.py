"""CloudFront invalidations, for s3-sync (what a sync changed) and cloudfront-invalidate (the paths
a user names): the paths, collapsed when there are many, the call, and a bounded wait.

Every message starts with "CloudFront" so that a job can put what it already did in front of it
("The files are synced, but CloudFront ...").
"""

import time
import uuid
from typing import Any
from urllib.parse import quote

from pipe.aws import errors
from pipe.common.errors import PipeError
from pipe.common.log import logger
from pipe.common.variables import matching

# Above this many paths one `/*` is cheaper (AWS bills each path after 1,000 a month, a wildcard
# counts as one) and quicker to complete than a long list.
COLLAPSE_ABOVE = 30
WILDCARD = "/*"
# CloudFront usually completes within a few minutes; a step must not hang on it for ever.
WAIT_LIMIT_SECONDS = 15 * 60
POLL_SECONDS = 5
# Characters CloudFront takes as they are; the rest is percent-encoded (a literal `*` in a file
# name must not become a wildcard).
_SAFE = "/-._~!$&'()+,;=:@"
INDEX_DOCUMENT = "index.html"

# Distribution IDs are upper-case letters and digits (E2EXAMPLE1ABCD); nothing else reaches the URL.
parse_distribution_id = matching(r"[A-Z0-9]{1,64}", "a distribution id such as E2EXAMPLE")


def paths_for(relatives: list[str]) -> list[str]:
    """URL paths for keys relative to the prefix (the distribution's origin path). A changed
    `dir/index.html` is also served as `dir/`, so that path is invalidated too."""
    paths: set[str] = set()
    for relative in relatives:
        paths.add("/" + quote(relative, safe=_SAFE))
        if relative == INDEX_DOCUMENT or relative.endswith("/" + INDEX_DOCUMENT):
            paths.add("/" + quote(relative[: -len(INDEX_DOCUMENT)], safe=_SAFE))
    if len(paths) > COLLAPSE_ABOVE:
        return [WILDCARD]
    return sorted(paths)


def parse_path(raw: str) -> str:
    text = raw.strip()
    # Every space (U+00A0, U+3000, ...), control, format or unassigned character is refused, not
    # only ASCII's: CloudFront takes the path as it is sent and would invalidate nothing.
    if not text.startswith("/") or any(c == " " or not c.isprintable() for c in text):
        raise ValueError("must be paths that start with / (such as /index.html or /assets/*)")
    return text


def given_paths(paths: list[str]) -> list[str]:
    """A user's own paths as CloudFront gets them: each once, in the order given; only `/*` when it
    is among them, since it covers every other path and is billed as one."""
    if WILDCARD in paths:
        return [WILDCARD]
    return list(dict.fromkeys(paths))


def invalidate(client: Any, distribution_id: str, paths: list[str], after: str = "") -> str:
    """The invalidation's ID. `after` is what the job already did, put in front of a failure."""
    try:
        answer = client.create_invalidation(
            DistributionId=distribution_id,
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": paths},
                # Unique per call: a retried request is not mistaken for an earlier invalidation.
                "CallerReference": f"aws-oidc-deploy-{uuid.uuid4()}",
            },
        )
    except client.exceptions.NoSuchDistribution:
        raise PipeError(
            f"{after}CloudFront distribution {distribution_id} does not exist in this account; "
            "check CLOUDFRONT_DISTRIBUTION_ID."
        ) from None
    except client.exceptions.ClientError as error:
        if errors.is_access_denied(error):
            raise PipeError(
                f"{after}{errors.access_denied_line(error, f'distribution {distribution_id}', 'cloudfront')}"
            ) from None
        raise PipeError(
            f"{after}CloudFront refused the invalidation of {distribution_id}: {errors.summary(error)}"
        ) from None
    return str(answer["Invalidation"]["Id"])


def wait(
    client: Any,
    distribution_id: str,
    invalidation_id: str,
    limit: float = WAIT_LIMIT_SECONDS,
    after: str = "",
) -> float:
    """Seconds waited until the invalidation completed. Compared case-insensitively: AWS says
    "Completed", other implementations "COMPLETED", and boto's waiter knows only the first."""
    started = time.monotonic()
    while True:
        try:
            status = client.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)
        except client.exceptions.ClientError as error:
            if errors.is_access_denied(error):
                raise PipeError(
                    f"{after}CloudFront made invalidation {invalidation_id} but its status cannot be read. "
                    f"{errors.access_denied_line(error, f'distribution {distribution_id}', 'cloudfront')} "
                    "Or leave CLOUDFRONT_WAIT false."
                ) from None
            hint = f" {errors.message(error)}".rstrip()
            raise PipeError(
                f"{after}CloudFront made invalidation {invalidation_id} but its status cannot be read: "
                f"{errors.name(error)}.{hint}"
            ) from None
        state = status["Invalidation"]["Status"]
        if state.lower() == "completed":
            return time.monotonic() - started
        waited = time.monotonic() - started
        if waited >= limit:
            raise PipeError(
                f"{after}CloudFront invalidation {invalidation_id} is still {state} after "
                f"{limit / 60:.0f} minutes; it will finish on its own."
            )
        logger.info("Invalidation %s is %s (%.0f s)...", invalidation_id, state, waited)
        time.sleep(min(POLL_SECONDS, max(0.0, limit - waited)))
