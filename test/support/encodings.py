"""Every form a secret takes in text, as the encoders that put it there write it: the planted leaks
that the pipe's redaction (pipe.common.log) must mask and the leak scan (leaks.py) must find.

Written here once, from the standard library's encoders, and shared by the tests of both; neither
the pipe nor the scanner uses it.
"""

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

# Bytes before the secret inside a base64 blob: 0, 1 and 2 are the three alignments.
_BEFORE = {0: b"", 1: b"u", 2: b"us"}
# 48 to 50 bytes before it (64 to 67 characters): MIME's line break after 76 characters falls inside
# the secret's encoding (of 40 bytes and more), at each alignment.
_WRAPPED_BEFORE = {alignment: b"x" * (48 + alignment) for alignment in range(3)}


def _base64(before: bytes, alphabet: Callable[[bytes], bytes]) -> Callable[[str], str]:
    return lambda secret: alphabet(before + secret.encode() + b'"}').decode()


def _lower_hex_escapes(text: str) -> str:
    out, index = [], 0
    while index < len(text):
        if text[index] == "%":
            out.append(text[index : index + 3].lower())
            index += 3
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


FORMS: dict[str, Callable[[str], str]] = {
    "as is": lambda secret: secret,
    "percent-encoded (quote, nothing safe)": lambda secret: quote(secret, safe=""),
    "percent-encoded (quote, / kept)": lambda secret: quote(secret),
    "percent-encoded (quote_plus)": quote_plus,
    "percent-encoded, lower-case hex": lambda secret: _lower_hex_escapes(quote(secret, safe="")),
    "JSON-escaped with \\/": lambda secret: json.dumps(secret)[1:-1].replace("/", "\\/"),
    "JSON \\u-escaped": lambda secret: "".join(f"\\u{ord(character):04x}" for character in secret),
    "hex": lambda secret: secret.encode().hex(),
    "HEX": lambda secret: secret.encode().hex().upper(),
    **{
        f"base64 at alignment {offset}": _base64(before, base64.b64encode)
        for offset, before in _BEFORE.items()
    },
    **{
        f"base64url at alignment {offset}": _base64(before, base64.urlsafe_b64encode)
        for offset, before in _BEFORE.items()
    },
    **{
        f"base64 wrapped at 76 columns, alignment {offset}": (
            lambda secret, before=before: base64.encodebytes(before + secret.encode()).decode()
        )
        for offset, before in _WRAPPED_BEFORE.items()
    },
    "cut short by one character": lambda secret: secret[:-1],
    "cut short by two characters": lambda secret: secret[:-2],
    "base64 cut short by two characters": lambda secret: base64.b64encode(b"u" + secret.encode()).decode()[
        :-4
    ],
}
