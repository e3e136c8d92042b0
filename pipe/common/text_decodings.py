"""Decodings of a text that keep a map back to it: line breaks taken out (with the indentation and
a program line's frame after them), backslash escapes and percent-escapes decoded. The views that
pipe.common.secret_forms searches for secrets are made with these; each hit found in a view is
mapped back to the characters of the text it came from.
"""

import re
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

# A line break, with the indentation and the program frame that follow it.
FOLD = re.compile(r"[\r\n]+(?:[ \t]*│ ?)?[ \t]*")
BACKSLASH = re.compile(
    r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|([0-7]{1,3})|(.))", re.DOTALL
)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "a": "\a", "\n": ""}
PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
PERCENT_OR_PLUS = re.compile(r"\+|(?:%[0-9A-Fa-f]{2})+")


class Map:
    """Where each character of a decoded view came from in the text it was decoded from: pieces
    sorted by view position, each copied (one character for one) or replaced (each character of the
    piece stands for the whole source range)."""

    __slots__ = ("copied", "source_ends", "source_starts", "view_starts")

    def __init__(self) -> None:
        self.view_starts: list[int] = []
        self.source_starts: list[int] = []
        self.source_ends: list[int] = []
        self.copied: list[bool] = []

    def add(self, view_start: int, source_start: int, source_end: int, copied: bool) -> None:
        self.view_starts.append(view_start)
        self.source_starts.append(source_start)
        self.source_ends.append(source_end)
        self.copied.append(copied)

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The source range that view characters start..end-1 came from."""
        first = bisect_right(self.view_starts, start) - 1
        last = bisect_right(self.view_starts, end - 1) - 1
        if self.copied[first]:
            source_start = self.source_starts[first] + start - self.view_starts[first]
        else:
            source_start = self.source_starts[first]
        if self.copied[last]:
            source_end = self.source_starts[last] + end - self.view_starts[last]
        else:
            source_end = self.source_ends[last]
        return source_start, source_end


Pieces = list[tuple[str, int, int]]


def decode(
    text: str, pattern: "re.Pattern[str]", replace: Callable[["re.Match[str]"], Pieces]
) -> tuple[str, Map] | None:
    """`text` with each match of `pattern` replaced by the pieces `replace` gives for it: a list of
    (decoded text, source start, source end). None when nothing matched."""
    parts: list[str] = []
    mapping = Map()
    done = 0
    length = 0
    matched = False
    for match in pattern.finditer(text):
        matched = True
        start, end = match.span()
        if start > done:
            mapping.add(length, done, start, True)
            parts.append(text[done:start])
            length += start - done
        for decoded, source_start, source_end in replace(match):
            if decoded:
                mapping.add(length, source_start, source_end, False)
                parts.append(decoded)
                length += len(decoded)
        done = end
    if not matched:
        return None
    if done < len(text):
        mapping.add(length, done, len(text), True)
        parts.append(text[done:])
    return "".join(parts), mapping


def _unescaped(match: "re.Match[str]") -> Pieces:
    code = match.group(1) or match.group(2)
    if code:
        number = int(code, 16)
        decoded = chr(number) if number <= 0x10FFFF else ""
    elif match.group(3):
        decoded = chr(int(match.group(3), 16))
    elif match.group(4):
        decoded = chr(int(match.group(4), 8))
    else:
        decoded = _SIMPLE_ESCAPES.get(match.group(5), match.group(5))
    return [(decoded, *match.span())]


def _percent_decoded(match: "re.Match[str]") -> Pieces:
    """One piece per character, each standing for the escapes of its UTF-8 bytes."""
    start = match.start()
    if match.group() == "+":
        return [(" ", start, start + 1)]
    raw = bytes.fromhex(match.group().replace("%", ""))
    if raw.isascii():
        return [(chr(byte), start + 3 * index, start + 3 * index + 3) for index, byte in enumerate(raw)]
    pieces = []
    position = start
    for character in raw.decode("utf-8", "surrogateescape"):
        width = 1 if "\udc80" <= character <= "\udcff" else len(character.encode())
        pieces.append((character, position, position + 3 * width))
        position += 3 * width
    return pieces


def _percent_text(match: "re.Match[str]") -> str:
    if match.group() == "+":
        return " "
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8", "surrogateescape")


def _unescaped_text(match: "re.Match[str]") -> str:
    text: str = _unescaped(match)[0][0]
    return text


# Each decoding: its name, what it matches, the pieces for the map and the text alone (the fast path).
Decoding = tuple[str, "re.Pattern[str]", Callable[["re.Match[str]"], Pieces], Any]
ACROSS_LINES = "across line breaks"
UNFOLD: Decoding = (ACROSS_LINES, FOLD, lambda _match: [], "")
UNESCAPE = ("backslash-escaped", BACKSLASH, _unescaped, _unescaped_text)
UNQUOTE = ("percent-encoded", PERCENT, _percent_decoded, _percent_text)
UNQUOTE_PLUS = ("percent-encoded with +", PERCENT_OR_PLUS, _percent_decoded, _percent_text)
