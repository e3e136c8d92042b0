"""Results for later steps: JSON in $BITBUCKET_PIPE_SHARED_STORAGE_DIR, which Bitbucket gives a pipe
to share files with the steps after it. Without it (a run outside Pipelines) nothing is written."""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_json(env: Mapping[str, str], relative: str, document: Any, sort_keys: bool = False) -> Path | None:
    directory = env.get("BITBUCKET_PIPE_SHARED_STORAGE_DIR")
    if not directory:
        return None
    target = Path(directory) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(document, indent=2, sort_keys=sort_keys) + "\n", encoding="utf-8")
    return target
