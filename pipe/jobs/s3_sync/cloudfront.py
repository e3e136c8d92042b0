"""CloudFront invalidation of what a sync changed: the paths, collapsed when there are many, and a
bounded wait for completion."""

import time
import uuid
from urllib.parse import quote

from pipe.common.errors import PipeError
from pipe.common.log import logger

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
    if not text.startswith("/") or any(ord(c) < 33 for c in text):
        raise ValueError("must be paths that start with / (such as /index.html or /assets/*)")
    return text


def invalidate(client, distribution_id: str, paths: list[str]) -> str:
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
            f"CloudFront distribution {distribution_id} does not exist; check CLOUDFRONT_DISTRIBUTION_ID."
        ) from None
    except client.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Error")
        raise PipeError(
            f"The files are synced, but CloudFront refused the invalidation of {distribution_id}: "
            f"{code}: {error.response.get('Error', {}).get('Message', '')}".rstrip(": ")
        ) from None
    return answer["Invalidation"]["Id"]


def wait(client, distribution_id: str, invalidation_id: str, limit: float = WAIT_LIMIT_SECONDS) -> float:
    """Seconds waited until the invalidation completed. Compared case-insensitively: AWS says
    "Completed", other implementations "COMPLETED", and boto's waiter knows only the first."""
    started = time.monotonic()
    while True:
        status = client.get_invalidation(DistributionId=distribution_id, Id=invalidation_id)
        state = status["Invalidation"]["Status"]
        if state.lower() == "completed":
            return time.monotonic() - started
        waited = time.monotonic() - started
        if waited >= limit:
            raise PipeError(
                f"The files are synced, but invalidation {invalidation_id} is still {state} after "
                f"{limit / 60:.0f} minutes; it will finish on its own."
            )
        logger.info("Invalidation %s is %s (%.0f s)...", invalidation_id, state, waited)
        time.sleep(min(POLL_SECONDS, max(0.0, limit - waited)))
