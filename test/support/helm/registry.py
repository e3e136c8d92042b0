"""The OCI registry (registry/main.go: go-containerregistry's pkg/registry) as a process over HTTPS,
with Basic auth; its request log (method, path, headers) is read by the leak scan."""

import subprocess
from pathlib import Path

from test.support import leaks
from test.support.helm import Certificates

START_LIMIT_SECONDS = 30


class OciRegistry:
    def __init__(self, bin_dir: Path, certificates: Certificates, directory: Path, user: str, password: str):
        directory.mkdir(parents=True, exist_ok=True)
        self.password_file = directory / "password"
        self.password_file.write_text(password)
        self.log = directory / "requests.log"
        self.process = subprocess.Popen(
            [
                str(bin_dir / "oci-registry"),
                "-user",
                user,
                "-password-file",
                str(self.password_file),
                "-log",
                str(self.log),
                "-cert",
                str(certificates.cert),
                "-key",
                str(certificates.key),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()  # blocks until it listens (it prints once, then nothing)
        if not line.startswith("listening on "):
            self.process.kill()
            raise RuntimeError(f"oci-registry did not start: {line!r}")
        self.host = line.removeprefix("listening on ").strip()
        # The leak scan reads every request that reached the registry (test/support/leaks.py).
        leaks.RECEIVERS.append(self._received)

    def _received(self):
        text = self.received()
        yield (("oci-registry", id(self), len(text)), f"the OCI registry {self.host}", text.encode)

    def received(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def close(self) -> None:
        leaks.RECEIVERS.remove(self._received)
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
