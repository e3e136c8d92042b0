"""Every form a secret takes in text, as the encoders that put it there write it: the planted leaks
that the pipe's redaction (pipe.common.log) must mask and the leak scan (leaks.py) must find.

Written here once, from the standard library's encoders, and shared by the tests of both; neither
the pipe nor the scanner uses it. `hostile_output` generates program output from them, wrapped at
any column, escaped partly or wholly, mixed with noise.
"""

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

from hypothesis import strategies as st

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


# --- Generated: the secret in any encoding, wrapping and escaping the scan knows, mixed with noise -----------

_PERCENT_SAFE_TO_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
# Backslash escapes that decode to something else than the character after the backslash.
_ESCAPE_LETTERS = frozenset("nrtbfvauUx01234567\n")


def _wrapped(text: str, column: int, indent: str) -> str:
    return ("\n" + indent).join(text[i : i + column] for i in range(0, len(text), column))


@st.composite
def planted(draw, secret: str) -> str:
    """One piece of text holding `secret`, as some encoder, wrapper or escaper writes it."""
    kind = draw(
        st.sampled_from(
            ["listed", "base64", "hex", "folded", "percent", "json-u", "backslash", "json-string"]
        )
    )
    column = draw(st.integers(min_value=4, max_value=120))
    indent = draw(st.sampled_from(["", "", "  ", "\t", "    > "[:4]]))
    if kind == "listed":
        return FORMS[draw(st.sampled_from(sorted(FORMS)))](secret)
    if kind == "base64":
        before, after = draw(st.binary(max_size=8)), draw(st.binary(max_size=8))
        encode = draw(st.sampled_from([base64.b64encode, base64.urlsafe_b64encode]))
        return _wrapped(encode(before + secret.encode() + after).decode(), column, indent)
    if kind == "hex":
        encoded = secret.encode().hex()
        return _wrapped(encoded.upper() if draw(st.booleans()) else encoded, column, indent)
    if kind == "folded":
        return _wrapped(secret, column, indent)
    if kind == "percent":
        escaped = draw(st.lists(st.booleans(), min_size=len(secret), max_size=len(secret)))
        upper = draw(st.booleans())
        return "".join(
            (f"%{ord(c):02X}" if upper else f"%{ord(c):02x}")
            if escape or c not in _PERCENT_SAFE_TO_KEEP
            else c
            for c, escape in zip(secret, escaped, strict=True)
        )
    if kind == "json-u":
        escaped = draw(st.lists(st.booleans(), min_size=len(secret), max_size=len(secret)))
        case = draw(st.sampled_from(["x", "X"]))
        return "".join(
            f"\\u{ord(c):04{case}}" if escape else c for c, escape in zip(secret, escaped, strict=True)
        )
    if kind == "backslash":
        escaped = draw(st.lists(st.booleans(), min_size=len(secret), max_size=len(secret)))
        return "".join(
            f"\\{c}" if escape and c not in _ESCAPE_LETTERS else c
            for c, escape in zip(secret, escaped, strict=True)
        )
    # A JSON document holding the secret wrapped over lines, as a program dumps its settings.
    return json.dumps({"value": _wrapped(secret, column, indent)})


# Noise: any text, line breaks, escapes and the frame included, but never touching a planted piece
# directly (a stray `\\` or `%` right before one is another encoding, tested by `listed`).
_NOISE = st.text(max_size=60)


@st.composite
def hostile_output(draw, secret: str) -> str:
    """A program's output: noise lines and pieces holding `secret`, in any order."""
    pieces = draw(st.lists(st.one_of(_NOISE, planted(secret).map(lambda piece: f"\n{piece}\n")), max_size=6))
    pieces.append(draw(planted(secret)).join(["\n", "\n"]))
    return "".join(draw(st.permutations(pieces)))


def decodes_as_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def not_utf8(max_size: int = 8) -> st.SearchStrategy[bytes]:
    """Bytes that are not UTF-8 text: what reaches os.environ or a file name as lone surrogates."""
    return st.binary(min_size=1, max_size=max_size).filter(lambda data: not decodes_as_utf8(data))
