"""The AWS Common Runtime (awscrt) only in the job that uses it.

botocore switches every signer and some checksums to awscrt whenever it can import it, which costs
each run ~30 ms of start-up (its native library loads) and changes how every job signs. Only
s3-sync's transfer engine needs the CRT, so the entry point holds it back from botocore and that
engine releases it just before importing s3transfer's CRT manager; botocore keeps its Python
signers either way.
"""

import sys

_MODULE = "awscrt"


def hold_back() -> None:
    # None in sys.modules makes `import awscrt` raise ImportError, which botocore treats as "no CRT".
    sys.modules.setdefault(_MODULE, None)  # type: ignore[arg-type]


def release() -> None:
    if _MODULE in sys.modules and sys.modules[_MODULE] is None:
        del sys.modules[_MODULE]
