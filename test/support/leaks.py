"""The leak scan: after every pipe run, look for its secrets in its output and in the files it left.

The secrets of a run are the ones in its environment (the OIDC token, an access key's secret, a
session token, the token in AWS_WEB_IDENTITY_TOKEN_FILE) and the session credentials moto's STS
issued while it ran. Each is looked for in every form a secret takes in text:

- as is, and as hex (lower or upper case);
- percent-encoded (quote, quote_plus, either case of hex) and JSON-escaped (`\\/`, `\\u002b`): the
  text is decoded and searched again, so no list of encoders can be incomplete;
- in base64, standard and URL-safe, at the three alignments a value can have inside a longer blob
  (so base64("user:" + secret) in a header or a kubeconfig is found too);
- across line breaks (base64 wrapped at 76 columns, a long line folded);
- cut short by one or two characters (a line cut at a column limit).

This module does not reuse pipe.common.log's masking: a check that shares the code it checks proves little.
Where the pipe lists the encodings of a secret, this scan decodes the text instead.
A hit is reported by the secret's name and the form found, never by its value.
"""

import base64
import os
import re
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# The pipe masks values of at least this length (pipe.common.log); shorter ones are not secrets it knows.
MIN_SECRET_LENGTH = 8
# Variables whose values are secret when a run starts with them.
SECRET_VARIABLES = ("BITBUCKET_STEP_OIDC_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
# A variable that names a file whose content is a secret (the OIDC token of other CI systems).
TOKEN_FILE_VARIABLE = "AWS_WEB_IDENTITY_TOKEN_FILE"
# Directories a run may write to that a later step, an artifact, a cache or the next pipe can see.
SHARED_DIRECTORY_VARIABLES = (
    "HOME",
    "BITBUCKET_CLONE_DIR",
    "BITBUCKET_PIPE_STORAGE_DIR",
    "BITBUCKET_PIPE_SHARED_STORAGE_DIR",
)
# An EKS bearer token is a credential by itself (a presigned STS request), whoever's secret signed it.
EKS_BEARER = re.compile(rb"k8s-aws-v1\.[A-Za-z0-9_-]{16,}")
# The pipe refuses a larger token file (pipe.common.bounded_read.TOKEN_FILE_BYTES) without using it.
TOKEN_FILE_LIMIT = 64 * 1024
# A file larger than this is not read whole at once (none of the tests makes one; a guard, not a rule).
_READ_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class Secret:
    name: str  # where it came from, e.g. "BITBUCKET_STEP_OIDC_TOKEN" or "STS SessionToken (moto)"
    value: str


def base64_cores(raw: bytes) -> dict[str, bytes]:
    """The parts of base64(... + raw + ...) that depend on `raw` alone, for each alignment and alphabet.

    With k bytes before `raw` (k = 0, 1, 2 modulo 3), the first 0, 2 or 3 characters also encode
    the bytes before it, and the last character encodes bytes after it unless the blob ends evenly."""
    cores = {}
    for offset, skip in ((0, 0), (1, 2), (2, 3)):
        total = offset + len(raw)
        encoded = base64.b64encode(b"\0" * offset + raw).rstrip(b"=")
        end = len(encoded) - (1 if total % 3 else 0)
        core = encoded[skip:end]
        cores[f"base64 at offset {offset}"] = core
        cores[f"base64url at offset {offset}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return cores


# A needle cut short must stay this long to say anything (the pipe's secrets are 40 characters and more).
MIN_CUT_SHORT_LENGTH = 16
CUT_SHORT_CHARACTERS = 2
_PERCENT_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")
_JSON_ESCAPE = re.compile(rb'\\(?:u([0-9A-Fa-f]{4})|(["\\/bfnrt]))')
_JSON_SIMPLE = {
    b'"': b'"',
    b"\\": b"\\",
    b"/": b"/",
    b"b": b"\b",
    b"f": b"\f",
    b"n": b"\n",
    b"r": b"\r",
    b"t": b"\t",
}


def forms(secret: Secret) -> dict[str, bytes]:
    """The needles: the value as it is, as hex, and each base64 core."""
    # As the process got it: bytes that are not UTF-8 reach os.environ as lone surrogates.
    raw = secret.value.encode("utf-8", "surrogateescape")
    return {"as is": raw, "hex": raw.hex().encode(), "HEX": raw.hex().upper().encode()} | base64_cores(raw)


def _json_unescaped(data: bytes) -> bytes:
    def one(match: re.Match) -> bytes:
        if match.group(1):
            return chr(int(match.group(1), 16)).encode("utf-8", "surrogatepass")
        return _JSON_SIMPLE[match.group(2)]

    return _JSON_ESCAPE.sub(one, data)


def views(data: bytes) -> dict[str, bytes]:
    """The text as written, and decoded each way a secret could have been encoded into it."""
    found = {"": data}
    unwrapped = data.replace(b"\r", b"").replace(b"\n", b"")
    if unwrapped != data:
        found["across line breaks"] = unwrapped
    for name, text in list(found.items()):
        if b"%" in text:
            decoded = _PERCENT_ESCAPE.sub(lambda match: bytes.fromhex(match.group(1).decode()), text)
            found[f"{name + ', ' if name else ''}percent-encoded"] = decoded
            if b"+" in text:  # quote_plus writes a space as '+'
                plus = _PERCENT_ESCAPE.sub(
                    lambda match: bytes.fromhex(match.group(1).decode()), text.replace(b"+", b" ")
                )
                found[f"{name + ', ' if name else ''}percent-encoded with +"] = plus
        if b"\\" in text:
            found[f"{name + ', ' if name else ''}JSON-escaped"] = _json_unescaped(text)
    return found


def hits(data: bytes, secrets: Iterable[Secret]) -> list[str]:
    """What was found where, without the values: e.g. 'AWS_SESSION_TOKEN (base64 at offset 1)'."""
    found = []
    seen = views(data)
    for secret in secrets:
        for form, needle in forms(secret).items():
            if not needle:
                continue
            where = _first_view_holding(needle, seen)
            if where is not None:
                found.append(f"{secret.name} ({form}{', ' + where if where else ''})")
                continue
            cut = needle[:-CUT_SHORT_CHARACTERS]
            if len(cut) >= MIN_CUT_SHORT_LENGTH:
                where = _first_view_holding(cut, seen)
                if where is not None:
                    found.append(f"{secret.name} ({form}, cut short{', ' + where if where else ''})")
    if any(EKS_BEARER.search(text) for text in seen.values()):
        found.append("an EKS bearer token (k8s-aws-v1.…)")
    return found


def _first_view_holding(needle: bytes, seen: dict[str, bytes]) -> str | None:
    return next((name for name, text in seen.items() if needle in text), None)


def _token_file_text(path: str) -> str | None:
    """The token a token file holds, as the pipe reads it (white space around it is not part of it).
    Only a regular file, opened without blocking and read up to TOKEN_FILE_LIMIT: the bad-input rows
    point the variable at a FIFO, /dev/zero and oversized files, which the pipe refuses unread."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:  # a run about a missing or unreadable token file
        return None
    with os.fdopen(descriptor, "rb") as handle:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        return handle.read(TOKEN_FILE_LIMIT).decode(errors="replace").strip()


def environment_secrets(env: Mapping[str, str]) -> list[Secret]:
    """The secrets a run starts with: the variables, and the token AWS_WEB_IDENTITY_TOKEN_FILE names."""
    found = [Secret(name, env[name]) for name in SECRET_VARIABLES if env.get(name)]
    token_file = env.get(TOKEN_FILE_VARIABLE)
    if token_file:
        token = _token_file_text(token_file)
        if token:
            found.append(Secret(TOKEN_FILE_VARIABLE, token))
    return [secret for secret in found if len(secret.value) >= MIN_SECRET_LENGTH]


def _issued_roles() -> list:
    """Every session moto's STS (in this process) has issued, in every account, or [] without moto."""
    models = sys.modules.get("moto.sts.models")
    if models is None:
        return []
    roles = []
    for account in list(models.sts_backends.keys()):
        for backend in list(models.sts_backends[account].values()):
            roles.extend(backend.assumed_roles)
    return roles


def issued_marker() -> set[int]:
    """Identifies the sessions issued so far, so that those of the next run can be told apart."""
    return {id(role) for role in _issued_roles()}


def issued_since(marker: set[int]) -> list[Secret]:
    secrets = []
    for role in _issued_roles():
        if id(role) in marker:
            continue
        secrets.append(Secret(f"STS SecretAccessKey issued to {role.session_name}", role.secret_access_key))
        secrets.append(Secret(f"STS SessionToken issued to {role.session_name}", role.session_token))
    return [secret for secret in secrets if len(secret.value or "") >= MIN_SECRET_LENGTH]


# --- What the pipe sent to the stand-ins and they kept ------------------------------------------------------------
# Each item a stand-in holds: (a stamp that changes when the item does, where it is, its bytes when asked).
Received = tuple[Hashable, str, Callable[[], bytes]]
# Stand-ins add a function listing what they hold while they run (KubeStandIn, BeanstalkStandIn).
RECEIVERS: list[Callable[[], Iterable[Received]]] = []


def _moto_s3_objects() -> Iterable[Received]:
    """Every object version in moto's S3 (in this process): body, metadata and tags."""
    models = sys.modules.get("moto.s3.models")
    if models is None:
        return
    for account in list(models.s3_backends.keys()):
        for backend in list(models.s3_backends[account].values()):
            for bucket in list(backend.buckets.values()):
                for name, versions in bucket.keys.iterlists():
                    for key in list(versions):
                        stamp = ("s3", bucket.name, name, key.version_id, key.etag, key.last_modified)

                        def content(key=key, backend=backend) -> bytes:
                            extra = repr((dict(key.metadata), backend.get_object_tagging(key))).encode()
                            return key.value + b"\n" + extra

                        yield stamp, f"s3://{bucket.name}/{name}", content


def _received() -> Iterable[Received]:
    yield from _moto_s3_objects()
    for receiver in list(RECEIVERS):
        yield from receiver()


def received_marker() -> set[Hashable]:
    """Identifies what the stand-ins hold now, so that what a run sends them can be told apart."""
    return {stamp for stamp, _where, _content in _received()}


def received_since(marker: set[Hashable]) -> list[tuple[str, bytes]]:
    return [(where, content()) for stamp, where, content in _received() if stamp not in marker]


FileState = dict[Path, tuple[int, int]]
# The pipe's private directories (pipe.common.private_dir), in the system's temporary directory.
PRIVATE_DIRECTORY_PATTERN = "aws-oidc-deploy-*"


def private_directories() -> set[Path]:
    """The pipe's private directories that exist now: a finished run removes its own, a killed one cannot."""
    return set(Path(tempfile.gettempdir()).glob(PRIVATE_DIRECTORY_PATTERN))


def files_below(directories: Iterable[Path]) -> list[Path]:
    """Regular files below `directories`; one removed meanwhile (another run's clean-up) is skipped."""
    return [
        Path(folder, name)
        for directory in directories
        for folder, _dirs, names in os.walk(directory)
        for name in names
        if Path(folder, name).is_file()
    ]


def directories(env: Mapping[str, str], cwd: Path) -> list[Path]:
    """The clone (the working directory and BITBUCKET_CLONE_DIR), $HOME and the pipe's storage directories."""
    found = [Path(cwd).resolve()]
    for name in SHARED_DIRECTORY_VARIABLES:
        value = env.get(name)
        if value and Path(value).is_dir():
            path = Path(value).resolve()
            if path not in found and path != Path("/"):
                found.append(path)
    return found


def snapshot(roots: Iterable[Path]) -> FileState:
    """Size and modification time of every regular file below `roots` (links not followed)."""
    state: FileState = {}
    for root in roots:
        for directory, _dirs, names in os.walk(root):
            for name in names:
                path = Path(directory, name)
                try:
                    info = path.lstat()
                except OSError:
                    continue
                if path.is_file() and not path.is_symlink():
                    state[path] = (info.st_size, info.st_mtime_ns)
    return state


def left_behind(before: FileState, after: FileState) -> list[Path]:
    """Files the run created or changed (what was there before is the test's own)."""
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)


@dataclass
class Tally:
    """What the scan has looked at in this test session, for the summary line."""

    runs: int = 0
    debug_runs: int = 0
    files: int = 0
    secrets: int = 0
    hits: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def line(self) -> str:
        return (
            f"leak scan: {self.runs} pipe runs ({self.debug_runs} with DEBUG=true), "
            f"{self.secrets} secrets looked for, {self.files} files left behind scanned, "
            f"{len(self.hits)} hits"
        )


TALLY = Tally()


class Leak(AssertionError):
    """A secret was found; the message names it and where, never its value."""


def check(
    output: bytes,
    files: list[Path],
    secrets: list[Secret],
    debug: bool,
    context: str = "",
    received: list[tuple[str, bytes]] = (),
) -> None:
    """Fail with Leak when any secret (or an EKS bearer token) is in `output`, in `files` or in what
    the stand-ins `received` (where, bytes)."""
    found = [f"output: {hit}" for hit in hits(output, secrets)]
    for where, data in received:
        found += [f"sent to {where}: {hit}" for hit in hits(data, secrets)]
    for path in files:
        try:
            with path.open("rb") as stream:
                while chunk := stream.read(_READ_CHUNK):
                    found += [f"{path}: {hit}" for hit in hits(chunk, secrets)]
        except OSError:
            continue
    with TALLY.lock:
        TALLY.runs += 1
        TALLY.debug_runs += int(debug)
        TALLY.files += len(files)
        TALLY.secrets += len(secrets)
        TALLY.hits += found
    if found:
        raise Leak(f"secret leaked{' in ' + context if context else ''}: " + "; ".join(sorted(set(found))))
