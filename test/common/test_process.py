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


def test_a_programs_line_quoting_a_url_with_a_password_is_relayed_masked(tmp_path, capfd):
    """kubectl and the CDK CLI quote proxy and endpoint URLs in their errors: the line relayed is
    masked like the pipe's own (pipe.common.log.redact), the tail kept for the ✖ line too."""
    line = "Error: proxyconnect tcp: dial http://deploy:Pr%40xy-pw@proxy.internal:3128: refused"
    status, tail = process.run([sys.executable, "-c", f"print({line!r})"], {}, tmp_path)
    assert status == 0
    assert (
        capfd.readouterr().out == "Error: proxyconnect tcp: dial http://****@proxy.internal:3128: refused\n"
    )
    assert (
        log.final_line(tail[-1]) == "Error: proxyconnect tcp: dial http://****@proxy.internal:3128: refused"
    )
