"""Results for later steps: JSON in $BITBUCKET_PIPE_SHARED_STORAGE_DIR, which Bitbucket gives a pipe
to share files with the steps after it. Without it (a run outside Pipelines) nothing is written.

The deploy is done when a result is written: a directory that cannot take it (a file, read-only)
is a warning naming it, not a failed step."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipe.common.log import logger


def write_json(env: Mapping[str, str], relative: str, document: Any, sort_keys: bool = False) -> Path | None:
    directory = env.get("BITBUCKET_PIPE_SHARED_STORAGE_DIR")
    if not directory:
        return None
    target = Path(directory) / relative
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(document, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")
    except OSError as error:
        logger.warning(
            "Could not write %s for later steps in BITBUCKET_PIPE_SHARED_STORAGE_DIR %s: %s.",
            relative,
            directory,
            error.strerror or error,
        )
        return None
    return target
