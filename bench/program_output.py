"""Benchmark: what redacting and framing a program's output costs (pipe.common.process.Relay).

Every line kubectl, the CDK CLI, npm or pip prints goes through the relay: redacted as one text
across lines (pipe.common.secret_forms) and framed. This feeds it MEGABYTES of output shaped like a
CDK deploy's (activity lines, JSON, base64 blobs, escapes, percent signs) in 64 KiB chunks, as the
pipe reads them, with three secrets registered (a secret key, a session token, an OIDC token), and
reports the CPU seconds. Not a timed test: the figure goes in docs/security.md's "Program output" row.

Run: `.venv/bin/python bench/program_output.py [MEGABYTES]` (default 50; or `make bench`).
"""

import base64
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipe.common import log, process  # noqa: E402

SECRETS = (
    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzBENCHMARK",
    "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" * 8,
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ." + "eyJzdWIiOiJ4In0" * 60 + "." + "c2ln" * 60,
)
_WORDS = [
    "shop-prod",
    "|",
    "3/12",
    "|",
    "10:12:47",
    "AM",
    "|",
    "CREATE_IN_PROGRESS",
    "|",
    "AWS::Lambda::Function",
    "|",
    "Handler",
    "arn:aws:iam::123456789012:role/deploy",
    "50%",
    "done",
    "\\u00e9",
    "assets/index.html",
    "s3://bucket/key?x=%2F",
]


def output(megabytes: int) -> bytes:
    shapes = random.Random(1)
    lines, size = [], 0
    while size < megabytes * 1024 * 1024:
        roll = shapes.random()
        if roll < 0.05:
            line = base64.b64encode(shapes.randbytes(57)).decode()
        elif roll < 0.08:
            line = json.dumps({"key": " ".join(shapes.choices(_WORDS, k=6))})
        else:
            line = " ".join(shapes.choices(_WORDS, k=shapes.randint(3, 14)))
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    for secret in SECRETS:
        log.register_secret(secret)
    data = output(megabytes)
    printed = [0]
    relay = process.Relay(lambda lines: printed.__setitem__(0, printed[0] + len(process.framed(lines))))
    started = time.process_time()
    for offset in range(0, len(data), 64 * 1024):
        relay.feed(data[offset : offset + 64 * 1024])
    relay.close()
    seconds = time.process_time() - started
    lines = data.count(b"\n")
    print(
        f"program output: {len(data) / 1e6:.1f} MB, {lines:,} lines redacted and framed "
        f"in {seconds:.1f} s of CPU ({len(data) / 1e6 / seconds:.0f} MB/s)"
    )


if __name__ == "__main__":
    main()
