"""Outside text made safe for one log line: nothing in a value can start, end or repaint a line.

A file name, a token claim, an event message or a command line comes from outside the pipe. Printed
raw, a line break in it would print a line of its own (a forged `✔ Deployed ...`), a carriage return
or an ANSI escape would overwrite the line a user reads, and a bidirectional override would reorder it.
Each such character is shown escaped instead (`\\n`, `\\x1b`, `\\u2028`). Backslashes are left as they
are, so escaping twice changes nothing and a value that is already safe prints unchanged.

The logging layer applies `escape` to every argument of every log record (LineSafeFilter), and the
pipe's documents and final line go through `escape` too (pipe.common.log.emit, pipe.main): no call
site has to remember it.
"""

import logging
import re

# C0 controls but tab (which never breaks a line), DEL, C1 controls (NEL, CSI...), the Unicode line and
# paragraph separators, and the bidirectional controls that reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SHORT_FORMS = {"\n": "\\n", "\r": "\\r"}


def _escaped(match: re.Match[str]) -> str:
    character = match.group()
    if character in _SHORT_FORMS:
        return _SHORT_FORMS[character]
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape(value: object) -> str:
    """`value` as text that stays on one line and prints as it reads."""
    return _UNSAFE.sub(_escaped, value if isinstance(value, str) else str(value))


def is_safe(text: str) -> bool:
    return _UNSAFE.search(text) is None


def _safe_argument(value: object) -> object:
    # Numbers stay numbers so that %d and %.2f still format them; bytes print as their repr, escaped.
    if isinstance(value, (int, float, bytes)) or value is None:
        return value
    return escape(value)


class LineSafeFilter(logging.Filter):
    """Escapes the arguments of a record: the format string is the pipe's own text, the arguments
    are values, and a value never adds a line. Runs before the redacting filter formats the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_safe_argument(value) for value in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _safe_argument(value) for key, value in record.args.items()}
        return True
