"""Writes docs/iam.md's per-job policies from pipe/signin/policies.py (the one table), between the
markers; test/signin/test_policies.py fails when the file and the table differ.

    python -m scripts.iam_docs          # rewrite the section
"""

import json
import re
import sys
from pathlib import Path

from pipe.signin import policies

DOC = Path(__file__).resolve().parents[1] / "docs" / "iam.md"
BEGIN = "<!-- policies: written by `python -m scripts.iam_docs` from pipe/signin/policies.py; do not edit -->"
END = "<!-- end of policies -->"
_SECTION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)


def _job(job: str) -> list[str]:
    chosen = policies.statements([job])
    lines = [f"### `{job}`", ""]
    if not chosen:
        lines += [
            "No permissions policy: it calls no AWS API but STS (which needs none for the role itself).",
            "",
        ]
        return lines
    for statement in chosen:
        advisory = " *(advisory)*" if statement.advisory else ""
        lines.append(f"- `{statement.sid}`{advisory}: {statement.why}")
    used = policies.parameters_used(chosen)
    if used:
        lines += [
            "",
            "Replace: "
            + "; ".join(f"`<{name}>` {policies.PARAMETERS[name].description.rstrip('.')}" for name in used),
        ]
    document = policies.policy(chosen, None, "aws", None)
    lines += ["", "```json", json.dumps(document, indent=2), "```", ""]
    return lines


def section() -> str:
    lines = [BEGIN, ""]
    for job in policies.POLICIES:
        lines += _job(job)
    return "\n".join([*lines, END])


def rendered(text: str) -> str:
    return _SECTION.sub(lambda _: section(), text)


def main() -> int:
    text = DOC.read_text(encoding="utf-8")
    if BEGIN not in text:
        print(f"{DOC} has no {BEGIN!r} marker", file=sys.stderr)
        return 1
    DOC.write_text(rendered(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
