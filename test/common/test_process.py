import sys

from pipe.common import log, process


def test_output_is_streamed_redacted_and_the_status_returned(tmp_path, capfd):
    secret = "sEcReT-VaLuE-0123456789"
    log.register_secret(secret)
    code = f"import sys; print('one', flush=True); print('{secret}', file=sys.stderr); print('three'); sys.exit(3)"
    status, tail = process.run([sys.executable, "-c", code], {}, tmp_path)
    out = capfd.readouterr().out
    assert status == 3
    assert out.splitlines() == ["one", "****", "three"]
    assert tail == ["one", secret, "three"]


def test_arguments_are_not_interpreted_by_a_shell(tmp_path):
    status, tail = process.run(
        [sys.executable, "-c", "import sys; print(sys.argv[1:])", "$(id)", ";", "|"], {}, tmp_path
    )
    assert status == 0 and tail == ["['$(id)', ';', '|']"]
