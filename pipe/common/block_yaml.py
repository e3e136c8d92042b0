"""Documents (mappings, lists, strings, whole numbers, booleans) as block-style YAML, without PyYAML.

The trust-policy job writes its CloudFormation template with it; it is plumbing, not sign-in.
"""

import re
from typing import Any

# Written here rather than by PyYAML, whose import and pure-Python emitter were most of trust-policy's
# start-up. Strings that YAML could read as anything else (a number, a date, a boolean, a comment...)
# are double-quoted with escapes, so the text is ASCII and every value reads back as written; no
# anchors or aliases, which CloudFormation rejects.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9 _./:@${}()+=*,-]*")
# YAML 1.1 reads these words (any case) as booleans or null, not as strings.
_SPECIAL_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
# YAML reads a key written as `key: value` only up to 1024 characters; longer ones take `? key`.
_SIMPLE_KEY_LIMIT = 1000
_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _scalar(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        raise TypeError(f"cannot write {type(value).__name__} as YAML")
    if (
        _PLAIN.fullmatch(value)
        and value.lower() not in _SPECIAL_WORDS
        and not value.endswith((" ", ":"))
        and ": " not in value
        and " #" not in value
    ):
        return value
    return '"' + "".join(_escaped(character) for character in value) + '"'


def _escaped(character: str) -> str:
    if character in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[character]
    code = ord(character)
    if 0x20 <= code < 0x7F:
        return character
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _block(value: dict[Any, Any] | list[Any], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if len(_scalar(key)) > _SIMPLE_KEY_LIMIT:
                lines += _explicit_entry(_scalar(key), item, indent)
            elif isinstance(item, dict | list) and item:
                # A list under a key sits at the key's own indent, as PyYAML writes it.
                lines += [
                    f"{pad}{_scalar(key)}:",
                    *_block(item, indent + 2 if isinstance(item, dict) else indent),
                ]
            else:
                lines.append(f"{pad}{_scalar(key)}: {_inline(item)}")
        return lines
    for item in value:
        if isinstance(item, dict | list) and item:
            nested = _block(item, indent + 2)
            lines += [f"{pad}- {nested[0][indent + 2 :]}", *nested[1:]]
        else:
            lines.append(f"{pad}- {_inline(item)}")
    return lines


def _explicit_entry(key: str, item: object, indent: int) -> list[str]:
    pad = " " * indent
    if isinstance(item, dict | list) and item:
        return [f"{pad}? {key}", f"{pad}:", *_block(item, indent + 2)]
    return [f"{pad}? {key}", f"{pad}: {_inline(item)}"]


def _inline(value: object) -> str:
    if isinstance(value, dict | list):  # only ever empty here
        return "{}" if isinstance(value, dict) else "[]"
    return _scalar(value)


def block_yaml(document: dict[str, Any]) -> str:
    """`document` (mappings, lists, strings, whole numbers, booleans) as block-style YAML."""
    return "\n".join(_block(document, 0)) + "\n"
