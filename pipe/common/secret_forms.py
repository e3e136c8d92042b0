"""Where secrets are in a text, in any form: the one decoder that the pipe's redaction
(pipe.common.log) and the test suite's leak scan (test/support/leaks.py) both use.

A secret rarely reaches output as it is: percent-encoded in a URL, escaped in JSON (`\\u002B`), in
base64 inside a longer blob, in hex, wrapped at 76 or 60 columns, folded, cut short at a column
limit. A list of encoders always misses one, so the text is decoded instead: each view is the text
decoded one way, searched for the secret's needles, each hit mapped back to the text's characters.

- Needles: the value, its hex (lower and upper case), and its base64 cores (standard and URL-safe,
  at the three alignments a value has inside a longer blob); each also cut short by one or two.
- Views: line breaks taken out with the indentation (and a program line's frame) after them;
  backslash escapes decoded (JSON's `\\uXXXX` and `\\/`, `\\xXX`, `\\n`, any `\\c`); percent-escapes
  decoded, partial or full (`+` as a space too when a secret holds a space); and their combinations.

Linear: each view is built once with regular expressions, and needles are found with str.find.
"""

import base64
import re
from bisect import bisect_right
from collections import namedtuple
from collections.abc import Iterable

# A line cut at a column limit loses the secret's last one or two characters; what is left is
# still the secret for anyone who can guess two characters.
CUT_SHORT_CHARACTERS = 2
# A cut-short needle shorter than this could be an ordinary word: it is not looked for.
MIN_CUT_SHORT_LENGTH = 16
# Every line the pipe relays from a program starts with this (pipe.common.process): a secret wrapped
# over relayed lines is still one secret.
PROGRAM_FRAME = "│ "
# Characters of standard and URL-safe base64: a run of them around a secret's encoding is one blob.
BASE64_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")

# A line break, with the indentation and the program frame that follow it.
_FOLD = re.compile(r"[\r\n]+(?:[ \t]*│ ?)?[ \t]*")
_BACKSLASH = re.compile(
    r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|x([0-9A-Fa-f]{2})|([0-7]{1,3})|(.))", re.DOTALL
)
_SIMPLE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "a": "\a", "\n": ""}
_PERCENT = re.compile(r"(?:%[0-9A-Fa-f]{2})+")
_PERCENT_OR_PLUS = re.compile(r"\+|(?:%[0-9A-Fa-f]{2})+")
# An escape cut off at the end of a text: it is decoded only once the rest of it arrives.
_INCOMPLETE_ESCAPE = re.compile(
    r"(?:%[0-9A-Fa-f]?|\\(?:u[0-9A-Fa-f]{0,3}|U[0-9A-Fa-f]{0,7}|x[0-9A-Fa-f]?)?)?\Z"
)
_LONGEST_ESCAPE = len("\\U0010FFFF")
_ACROSS_LINES = "across line breaks"


def needles(value: str) -> dict[str, str]:
    """What a text holding `value` contains whatever surrounds it, by the form's name."""
    raw = value.encode("utf-8", "surrogatepass")
    found = {"as is": value, "hex": raw.hex(), "HEX": raw.hex().upper()}
    # At alignment k the first 0, 2 or 3 characters also encode the bytes before the value, and the
    # last character encodes bytes after it unless the blob ends evenly: those are left out.
    for offset, mixed_at_start in ((0, 0), (1, 2), (2, 3)):
        encoded = base64.b64encode(b"\0" * offset + raw).decode().rstrip("=")
        mixed_at_end = 1 if (offset + len(raw)) % 3 else 0
        core = encoded[mixed_at_start : len(encoded) - mixed_at_end]
        found[f"base64 at offset {offset}"] = core
        found[f"base64url at offset {offset}"] = core.replace("+", "-").replace("/", "_")
    return {form: needle for form, needle in found.items() if needle}


def _search_key(needle: str) -> str:
    """The shortest form a needle is looked for in: cut short, when that is still long enough."""
    cut = len(needle) - CUT_SHORT_CHARACTERS
    return needle[:cut] if cut >= MIN_CUT_SHORT_LENGTH else needle


class Needle:
    __slots__ = ("base64", "form", "name", "text")

    def __init__(self, name: str, form: str, text: str):
        self.name, self.form, self.text = name, form, text
        self.base64 = form.startswith("base64")


class Table:
    """The needles of a set of (name, value) secrets, grouped by the key each is looked for by.
    Immutable: a table with one more secret is a new table."""

    def __init__(self, secrets: Iterable[tuple[str, str]] = ()):
        secrets = tuple(secrets)
        groups: dict[str, list[Needle]] = {}
        seen: set[tuple[str, str]] = set()
        self.spaces = False
        for name, value in secrets:
            self.spaces |= " " in value
            for form, text in needles(value).items():
                if (name, text) not in seen:
                    seen.add((name, text))
                    groups.setdefault(_search_key(text), []).append(Needle(name, form, text))
        self.groups = groups
        self.longest = max((len(needle.text) for group in groups.values() for needle in group), default=0)
        self.secrets = secrets

    def __bool__(self) -> bool:
        return bool(self.groups)

    def adding(self, name: str, value: str) -> "Table":
        return Table((*self.secrets, (name, value)))


class _Map:
    """Where each character of a decoded view came from in the text it was decoded from: pieces
    sorted by view position, each copied (one character for one) or replaced (each character of the
    piece stands for the whole source range)."""

    __slots__ = ("copied", "source_ends", "source_starts", "view_starts")

    def __init__(self):
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


def _decode(text: str, pattern: re.Pattern, replace) -> tuple[str, _Map] | None:
    """`text` with each match of `pattern` replaced by the pieces `replace` gives for it: a list of
    (decoded text, source start, source end). None when nothing matched."""
    parts: list[str] = []
    mapping = _Map()
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


def _unescaped(match: re.Match) -> list:
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


def _percent_decoded(match: re.Match) -> list:
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


def _percent_text(match: re.Match) -> str:
    if match.group() == "+":
        return " "
    return bytes.fromhex(match.group().replace("%", "")).decode("utf-8", "surrogateescape")


def _unescaped_text(match: re.Match) -> str:
    return _unescaped(match)[0][0]


# Each decoding: its name, what it matches, the pieces for the map and the text alone (the fast path).
_UNFOLD = (_ACROSS_LINES, _FOLD, lambda _match: [], "")
_UNESCAPE = ("backslash-escaped", _BACKSLASH, _unescaped, _unescaped_text)
_UNQUOTE = ("percent-encoded", _PERCENT, _percent_decoded, _percent_text)
_UNQUOTE_PLUS = ("percent-encoded with +", _PERCENT_OR_PLUS, _percent_decoded, _percent_text)


class View:
    """The text decoded one way (`name`), and how to map its characters back to the text. The map
    is made only when a hit asks for it: most views of most texts hold none."""

    __slots__ = ("_decoding", "_map", "name", "parent", "text")

    def __init__(self, name: str, text: str, parent: "View | None" = None, decoding: tuple = ()):
        self.name, self.text, self.parent = name, text, parent
        self._decoding = decoding
        self._map: _Map | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The range of the original text that characters start..end-1 of this view came from."""
        view = self
        while view.parent is not None:
            if view._map is None:
                _name, pattern, pieces, _text = view._decoding
                view._map = _decode(view.parent.text, pattern, pieces)[1]
            start, end = view._map.span(start, end)
            view = view.parent
        return start, end

    def decoded(self, decoding: tuple) -> "View | None":
        name, pattern, _pieces, text_only = decoding
        text, count = pattern.subn(text_only, self.text)
        if not count:
            return None
        view = View(f"{self.name}, {name}" if self.name else name, text, self, decoding)
        if decoding is not _UNFOLD and ("\n" in text or "\r" in text):
            # Decoding made line breaks (`\\n` in a JSON string): take them out too.
            return view.decoded(_UNFOLD) or view
        return view


def views(text: str, table: Table | None = None) -> list[View]:
    """The text, and the text decoded each way a secret can have been encoded into it."""
    base = View("", text)
    if "\n" in text or "\r" in text:
        base = base.decoded(_UNFOLD) or base
    found = [base]
    if "\\" in base.text:
        found += filter(None, [base.decoded(_UNESCAPE)])
    for view in list(found):
        if "%" in view.text:
            found += filter(None, [view.decoded(_UNQUOTE)])
        if (table is None or table.spaces) and "+" in view.text:
            found += filter(None, [view.decoded(_UNQUOTE_PLUS)])
    return found


# A needle found: the range of the original text it came from, whether cut short, in which view.
Hit = namedtuple("Hit", "start end needle cut_short view")


def hits_in(found: list[View], table: Table) -> list[Hit]:
    """Every needle of `table` in the views, as ranges of the original text."""
    hits = []
    for view in found:
        text = view.text
        for key, group in table.groups.items():
            start = text.find(key)
            while start != -1:
                longest = len(key)
                for needle in group:
                    if text.startswith(needle.text, start):
                        length, cut = len(needle.text), False
                    elif len(needle.text) - 1 > len(key) and text.startswith(needle.text[:-1], start):
                        length, cut = len(needle.text) - 1, True
                    else:
                        length, cut = len(key), key != needle.text
                    longest = max(longest, length)
                    hits.append(Hit(*view.span(start, start + length), needle, cut, view.name))
                start = text.find(key, start + longest)
    return hits


def find(text: str, table: Table) -> list[Hit]:
    if not table or not text:
        return []
    return hits_in(views(text, table), table)


def spans(text: str, table: Table, found: list[Hit] | None = None) -> list[tuple[int, int]]:
    """The ranges of `text` to mask, merged and sorted: each hit, a base64 core widened to the run of
    base64 characters around it (the whole blob; the run stops at a line break)."""
    ranges = []
    for hit in find(text, table) if found is None else found:
        start, end = hit.start, hit.end
        if hit.needle.base64:
            while start > 0 and text[start - 1] in BASE64_CHARACTERS:
                start -= 1
            while end < len(text) and text[end] in BASE64_CHARACTERS:
                end += 1
        ranges.append((start, end))
    merged: list[list[int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:  # overlapping forms are one secret: one mask
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def masked(text: str, ranges: list[tuple[int, int]], mask: str) -> str:
    """`text` with each of `ranges` (sorted, apart) replaced by `mask`."""
    pieces = []
    done = 0
    for start, end in ranges:
        pieces += [text[done:start], mask]
        done = end
    return "".join(pieces) + text[done:]


def pending_from(found: list[View], table: Table, min_characters: int) -> int | None:
    """Where the end of the text the views were made of could be the first `min_characters` or more
    characters of a needle: the earliest such position in the text, or None. Text that may go on
    to a secret when more arrives is held back from there (pipe.common.process)."""
    earliest = None
    for view in found:
        # An escape cut off at the end is decoded only once the rest of it arrives.
        end = _INCOMPLETE_ESCAPE.search(view.text, max(0, len(view.text) - _LONGEST_ESCAPE)).start()
        tail_start = max(0, end - table.longest)
        tail = view.text[tail_start:end]
        for group in table.groups.values():
            for needle in group:
                probe = needle.text[:min_characters]
                position = tail.find(probe, max(0, len(tail) - len(needle.text) + 1))
                while position != -1:
                    if len(tail) - position >= min_characters and needle.text.startswith(tail[position:]):
                        source = view.span(tail_start + position, end)[0]
                        earliest = source if earliest is None else min(earliest, source)
                        break
                    position = tail.find(probe, position + 1)
    return earliest
