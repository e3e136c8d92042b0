"""The score of the last `make mutate`, per module and in all, from mutmut's results in mutants/.

Killed (a test failed, or the mutant timed out: a hang is caught too) over all mutants that ran;
mutants no test reached count as survivors. Run from the repository root after `mutmut run`.
"""

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

CAUGHT = ("killed", "timeout", "caught by type check")
NOT_RUN = ("not checked", "skipped", "check was interrupted by user")


def main() -> int:
    metas = sorted(Path("mutants").rglob("*.py.meta"))
    if not metas:
        print("no mutmut results in mutants/: run `make mutate`", file=sys.stderr)
        return 1
    total = Counter()
    for meta in metas:
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        statuses = Counter(status_by_exit_code[code] for code in codes.values())
        if not statuses:
            continue
        total += statuses
        print(f"{meta.relative_to('mutants').as_posix()[: -len('.meta')]}: {_score(statuses)}")
    print(f"all: {_score(total)}")
    return 0


def _score(statuses: Counter) -> str:
    ran = sum(count for status, count in statuses.items() if status not in NOT_RUN)
    caught = sum(statuses[status] for status in CAUGHT)
    details = ", ".join(f"{count} {status}" for status, count in sorted(statuses.items()))
    return f"{caught}/{ran} caught ({100 * caught / ran if ran else 0:.0f}%): {details}"


if __name__ == "__main__":
    sys.exit(main())
