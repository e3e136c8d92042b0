import subprocess
import sys
import textwrap

from test.support.run import REPO


def _python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=REPO, capture_output=True, text=True, check=True
    )
    return completed.stdout.strip()


def test_held_back_botocore_signs_without_the_crt_and_s3transfer_still_gets_it_when_released():
    out = _python(
        """
        import sys
        from pipe.common import crt
        crt.hold_back()
        import botocore.auth, botocore.compat
        print(botocore.compat.HAS_CRT, botocore.auth.AUTH_TYPE_MAPS["v4"].__module__, sys.modules["awscrt"])
        crt.release()
        import s3transfer.crt
        print(s3transfer.crt.awscrt.s3.__name__)
        """
    )
    assert out.splitlines() == ["False botocore.auth None", "awscrt.s3"]


def test_without_the_gate_botocore_would_load_the_crt():
    # The reason for the gate: were this ever False, hold_back would be protecting nothing.
    assert _python("import botocore.compat; print(botocore.compat.HAS_CRT)") == "True"


def test_release_leaves_an_already_imported_crt_alone():
    out = _python(
        """
        import awscrt, sys
        from pipe.common import crt
        crt.hold_back()
        crt.release()
        print(sys.modules["awscrt"] is awscrt)
        """
    )
    assert out == "True"
