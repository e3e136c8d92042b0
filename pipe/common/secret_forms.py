"""Every form a secret takes in text, for the redaction in pipe.common.log.

A secret rarely reaches a log line as it is: a presigned URL holds it percent-encoded, a JSON body
may escape its slashes, a header or a kubeconfig holds it in base64 (inside a longer blob, so at
any alignment, and wrapped at 76 columns by MIME encoders), a hex dump holds its bytes, and a
line cut at a column limit holds it short of its last characters. Line breaks are the log's own
business (pipe.common.log searches text with them taken out), so none of the forms here has one.
"""

import base64
import json
import re
from urllib.parse import quote, quote_plus

# A line cut at a column limit loses the secret's last one or two characters; what is left is
# still the secret for anyone who can guess two characters.
CUT_SHORT_CHARACTERS = 2
# A cut-short form shorter than this could be an ordinary word: it is not masked.
MIN_CUT_SHORT_LENGTH = 16
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _percent_encoded(value: str) -> set[str]:
    """quote and quote_plus as urllib, JavaScript and Go write them, with upper- or lower-case hex."""
    forms = {quote(value, safe=""), quote(value), quote_plus(value), quote_plus(value, safe="/")}
    return forms | {_PERCENT_ESCAPE.sub(lambda escape: escape.group().lower(), form) for form in forms}


def _json_escaped(value: str) -> set[str]:
    """Inside a JSON string: escaped quotes and backslashes, `\\/` for `/` as some encoders write it,
    or every character as `\\uXXXX`."""
    escaped = json.dumps(value)[1:-1]
    every_character = {"".join(f"\\u{ord(character):04{case}}" for character in value) for case in ("x", "X")}
    return {
        escaped,
        escaped.replace("/", "\\/"),
        json.dumps(value, ensure_ascii=False)[1:-1],
        *every_character,
    }


def _hex(value: str) -> set[str]:
    encoded = value.encode().hex()
    return {encoded, encoded.upper()}


def plain_forms(value: str) -> set[str]:
    """The forms that stand for the secret by themselves: masked where found, nothing around them."""
    forms = {value} | _percent_encoded(value) | _json_escaped(value) | _hex(value)
    return forms | _cut_short(forms)


def base64_cores(value: str) -> set[str]:
    """What base64 of a blob holding the secret contains whatever surrounds it, standard and URL-safe.

    The secret may start at any byte of a blob (`user:secret`, a kubeconfig); modulo 3 that is one
    of three alignments. At alignment k the first 0, 2 or 3 characters also encode the bytes
    before it, and the last character encodes bytes after it unless the blob ends evenly: those
    are left out. pipe.common.log masks the whole run of base64 characters around a core."""
    raw = value.encode()
    cores = set()
    for offset, mixed_at_start in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        mixed_at_end = 1 if (offset + len(raw)) % 3 else 0
        core = encoded[mixed_at_start : len(encoded) - mixed_at_end]
        cores |= {core, core.replace("+", "-").replace("/", "_")}
    return cores | _cut_short(cores)


def _cut_short(forms: set[str]) -> set[str]:
    return {
        form[:-cut]
        for form in forms
        for cut in range(1, CUT_SHORT_CHARACTERS + 1)
        if len(form) - cut >= MIN_CUT_SHORT_LENGTH
    }
