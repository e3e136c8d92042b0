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
from collections import namedtuple
from collections.abc import Iterable

from pipe.common import text_decodings as decodings

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

# An escape cut off at the end of a text: it is decoded only once the rest of it arrives.
_INCOMPLETE_ESCAPE = re.compile(
    r"(?:%[0-9A-Fa-f]?|\\(?:u[0-9A-Fa-f]{0,3}|U[0-9A-Fa-f]{0,7}|x[0-9A-Fa-f]?)?)?\Z"
)
_LONGEST_ESCAPE = len("\\U0010FFFF")


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


class View:
    """The text decoded one way (`name`), and how to map its characters back to the text. The map
    is made only when a hit asks for it: most views of most texts hold none."""

    __slots__ = ("_decoding", "_map", "name", "parent", "text")

    def __init__(
        self,
        name: str,
        text: str,
        parent: "View | None" = None,
        decoding: "decodings.Decoding | tuple[()]" = (),
    ):
        self.name, self.text, self.parent = name, text, parent
        self._decoding = decoding
        self._map: decodings.Map | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The range of the original text that characters start..end-1 of this view came from."""
        view = self
        while view.parent is not None:
            if view._map is None:
                assert view._decoding, "a view with a parent was decoded from it"
                _name, pattern, pieces, _text = view._decoding
                decoded = decodings.decode(view.parent.text, pattern, pieces)
                assert decoded is not None, "a view is made only where its decoding matched"
                view._map = decoded[1]
            start, end = view._map.span(start, end)
            view = view.parent
        return start, end

    def decoded(self, decoding: decodings.Decoding) -> "View | None":
        name, pattern, _pieces, text_only = decoding
        text, count = pattern.subn(text_only, self.text)
        if not count:
            return None
        view = View(f"{self.name}, {name}" if self.name else name, text, self, decoding)
        if decoding is not decodings.UNFOLD and ("\n" in text or "\r" in text):
            # Decoding made line breaks (`\\n` in a JSON string): take them out too.
            return view.decoded(decodings.UNFOLD) or view
        return view


def views(text: str, table: Table | None = None) -> list[View]:
    """The text, and the text decoded each way a secret can have been encoded into it."""
    base = View("", text)
    if "\n" in text or "\r" in text:
        base = base.decoded(decodings.UNFOLD) or base
    found = [base]
    if "\\" in base.text:
        found += filter(None, [base.decoded(decodings.UNESCAPE)])
    for view in list(found):
        if "%" in view.text:
            found += filter(None, [view.decoded(decodings.UNQUOTE)])
        if (table is None or table.spaces) and "+" in view.text:
            found += filter(None, [view.decoded(decodings.UNQUOTE_PLUS)])
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
        incomplete = _INCOMPLETE_ESCAPE.search(view.text, max(0, len(view.text) - _LONGEST_ESCAPE))
        end = incomplete.start() if incomplete else len(view.text)  # the pattern matches "" at the end
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
