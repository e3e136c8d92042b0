"""Assertions shared by the end-to-end tests."""

from test.support.run import Result


def assert_one_clear_failure(result: Result, expected: str) -> str:
    """Exit 1, exactly one failure line that says `expected`, and no traceback anywhere."""
    output = result.output
    assert result.returncode == 1, output
    failures = [line for line in output.splitlines() if line.startswith("✖")]
    assert len(failures) == 1, output
    assert expected in failures[0], output
    assert "Traceback" not in output, output
    assert 'File "' not in output, output
    return failures[0]


def assert_no_secret(text: str, *secrets: str) -> None:
    """No secret, nor its first or last 24 characters, in `text`. A failure names only 6 characters,
    so the test log does not become the leak (hence no `in` inside the assert for pytest to show)."""
    for secret in secrets:
        assert secret, "a secret to look for must not be empty"
        for fragment in (secret, secret[:24], secret[-24:]):
            leaked = fragment in text
            assert not leaked, f"secret fragment {fragment[:6]}... leaked"
