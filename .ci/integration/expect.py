"""Check a result file a pipe run left in the shared storage directory.

Usage: python3 .ci/integration/expect.py FILE KEY=VALUE|KEY!=VALUE ...
FILE is relative to $PIPE_SHARED_STORAGE_DIR/aws-oidc-deploy (run-pipe's directory); KEY may be a
dotted path (Stack.Output); each VALUE is JSON (0, true, null, "Ready"). Prints one line per check;
exit 1 when any fails.
"""

import json
import os
import re
import sys
from pathlib import Path

SHARED = Path(os.environ.get("PIPE_SHARED_STORAGE_DIR", ".integration-shared")) / "aws-oidc-deploy"


def lookup(document, path: str):
    for part in path.split("."):
        document = document.get(part) if isinstance(document, dict) else None
    return document


def main(name: str, *checks: str) -> int:
    result = json.loads((SHARED / name).read_text())
    failed = 0
    for check in checks:
        key, operator, expected_text = re.fullmatch(r"([^!=]+)(!?=)(.*)", check).groups()
        expected, actual = json.loads(expected_text), lookup(result, key)
        holds = (actual == expected) == (operator == "=")
        failed += not holds
        print(
            f"{'✔' if holds else '✖'} {name}: {key} is {json.dumps(actual)} (expected {operator} {expected_text})"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
